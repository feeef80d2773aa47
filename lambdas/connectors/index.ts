import { ConfigurationError, ConnectorRejected } from '../core/errors.js';
import type { ActionRequest } from '../core/integration.js';
import { addGitHubLabels, createGitHubComment, findGitHubComment, type GitHubAddLabelsParams, type GitHubCommentParams, type GitHubCredentials } from './github.js';
import type { ReconcileResult } from './marker.js';
import { addShopifyOrderTags, type ShopifyAddOrderTagsParams, type ShopifyCredentials } from './shopify.js';
import { findSlackMessage, postSlackMessage, type SlackCredentials, type SlackPostParams } from './slack.js';
import { findZendeskNote, updateZendeskTicket, zendeskUpdateHasNote, type ZendeskCredentials, type ZendeskUpdateParams } from './zendesk.js';

export { actionMarker, ReconcileInconclusive, type ReconcileResult } from './marker.js';

/** Where connectors reach and with what credentials. */
export interface ConnectorSettings {
  zendeskBaseUrl?: string;
  /** Slack's Web API origin, `https://slack.com` (requests go to `{slackBaseUrl}/api/<method>`). */
  slackBaseUrl?: string;
  /** GitHub's REST API base (`https://api.github.com`, or a GitHub Enterprise `/api/v3` URL). */
  githubApiUrl?: string;
  /** The shop's admin origin, `https://<shop>.myshopify.com`. */
  shopifyShopUrl?: string;
  zendesk?: ZendeskCredentials;
  slack?: SlackCredentials;
  github?: GitHubCredentials;
  shopify?: ShopifyCredentials;
  /**
   * How long one connector request may take before it counts as unanswered (retryable; the
   * caller reconciles before retrying).
   * @default CONNECTOR_TIMEOUT_MS
   */
  connectorTimeoutMs?: number;
}

/** Identity of one action of one decision at the vendor. */
export interface ActionContext {
  decisionId: string;
  /** stable per (decision, action), e.g. `seamwork:v1:dec_x:github.create_comment` */
  idempotencyKey: string;
  /** earliest time the action could have been sent (bounds history look-ups) */
  notBefore?: Date;
}

/**
 * How an action gets exactly-once at the vendor: `natural` — set semantics, re-running is harmless;
 * `vendor-key` — the vendor deduplicates by a key we send; `marker` — the action leaves the key
 * at the vendor and {@link reconcileAction} looks for it before a retry.
 */
export type ExactlyOnceMeans = 'natural' | 'vendor-key' | 'marker';

/**
 * The operations the connectors implement. Every Slack action posts one message, whatever the
 * integration names it (`slack.post_urgent`, `slack.post_order_risk`): the names keep two posts of
 * one decision apart, so they are the integration's; the other connectors' names are fixed here.
 */
export type ActionName = 'zendesk.update_ticket' | 'slack.post_message' | 'github.add_labels' | 'github.create_comment' | 'shopify.add_order_tags';

/** One operation: its connector, how it is exactly once, how it runs and how an earlier attempt is found. */
export interface ConnectorAction {
  connector: ActionRequest['connector'];
  means: (params: Record<string, unknown>) => ExactlyOnceMeans;
  execute: (params: Record<string, unknown>, settings: ConnectorSettings, ctx: ActionContext) => Promise<Record<string, unknown>>;
  reconcile: (params: Record<string, unknown>, settings: ConnectorSettings, ctx: ActionContext) => Promise<ReconcileResult>;
}

function defineAction<P>(def: {
  connector: ActionRequest['connector'];
  means: (params: P) => ExactlyOnceMeans;
  execute: (params: P, settings: ConnectorSettings, ctx: ActionContext) => Promise<Record<string, unknown>>;
  reconcile: (params: P, settings: ConnectorSettings, ctx: ActionContext) => Promise<ReconcileResult>;
}): ConnectorAction {
  // Parameters are the integration's JSON; each connector validates the fields it reads.
  return def as unknown as ConnectorAction;
}

const NOTHING_TO_FIND = async (): Promise<ReconcileResult> => ({ found: false });

function zendesk(s: ConnectorSettings): [string, ZendeskCredentials] {
  if (!s.zendeskBaseUrl || !s.zendesk) throw new ConfigurationError('Zendesk connector is not configured (SEAMWORK_ZENDESK_BASE_URL and zendesk credentials).');
  return [s.zendeskBaseUrl, s.zendesk];
}
function slack(s: ConnectorSettings): [string, SlackCredentials] {
  if (!s.slackBaseUrl || !s.slack) throw new ConfigurationError('Slack connector is not configured (SEAMWORK_SLACK_BASE_URL and slack.botToken, slack.defaultChannel).');
  return [s.slackBaseUrl, s.slack];
}
function github(s: ConnectorSettings): [string, GitHubCredentials] {
  if (!s.githubApiUrl || !s.github) throw new ConfigurationError('GitHub connector is not configured (SEAMWORK_GITHUB_API_URL and github.token).');
  return [s.githubApiUrl, s.github];
}
function shopify(s: ConnectorSettings): [string, ShopifyCredentials] {
  if (!s.shopifyShopUrl || !s.shopify) throw new ConfigurationError('Shopify connector is not configured (SEAMWORK_SHOPIFY_SHOP_URL and shopify.accessToken).');
  return [s.shopifyShopUrl, s.shopify];
}
function callOptions(s: ConnectorSettings, ctx: ActionContext) {
  return { idempotencyKey: ctx.idempotencyKey, notBefore: ctx.notBefore, timeoutMs: s.connectorTimeoutMs };
}

/** Every operation, checked by the compiler against {@link ActionName}. */
export const CONNECTOR_ACTIONS: Readonly<Record<ActionName, ConnectorAction>> = {
  'zendesk.update_ticket': defineAction<ZendeskUpdateParams>({
    connector: 'zendesk',
    // Tags and priority are set semantics; an internal note is appended, so it carries the marker.
    means: (p) => (zendeskUpdateHasNote(p) ? 'marker' : 'natural'),
    execute: (p, s, ctx) => updateZendeskTicket(...zendesk(s), p, callOptions(s, ctx)),
    reconcile: (p, s, ctx) => (zendeskUpdateHasNote(p) ? findZendeskNote(...zendesk(s), p, callOptions(s, ctx)) : NOTHING_TO_FIND()),
  }),
  'slack.post_message': defineAction<SlackPostParams>({
    connector: 'slack',
    means: () => 'marker',
    execute: (p, s, ctx) => postSlackMessage(...slack(s), p, callOptions(s, ctx)),
    reconcile: (p, s, ctx) => findSlackMessage(...slack(s), p, callOptions(s, ctx)),
  }),
  'github.add_labels': defineAction<GitHubAddLabelsParams>({
    connector: 'github',
    means: () => 'natural',
    execute: (p, s) => addGitHubLabels(...github(s), p, { timeoutMs: s.connectorTimeoutMs }),
    reconcile: NOTHING_TO_FIND,
  }),
  'github.create_comment': defineAction<GitHubCommentParams>({
    connector: 'github',
    means: () => 'marker',
    execute: (p, s, ctx) => createGitHubComment(...github(s), p, callOptions(s, ctx)),
    reconcile: (p, s, ctx) => findGitHubComment(...github(s), p, callOptions(s, ctx)),
  }),
  'shopify.add_order_tags': defineAction<ShopifyAddOrderTagsParams>({
    connector: 'shopify',
    means: () => 'natural',
    execute: (p, s) => addShopifyOrderTags(...shopify(s), p, { timeoutMs: s.connectorTimeoutMs }),
    reconcile: NOTHING_TO_FIND,
  }),
};

/** The operation an action runs; an unknown connector or action is a rejection (not retryable). */
export function connectorActionOf(action: ActionRequest): ConnectorAction {
  const name = action.connector === 'slack' ? 'slack.post_message' : action.name;
  const entry = Object.hasOwn(CONNECTOR_ACTIONS, name) ? CONNECTOR_ACTIONS[name as ActionName] : undefined;
  if (entry?.connector === action.connector) return entry;
  if (Object.values(CONNECTOR_ACTIONS).some((a) => a.connector === action.connector)) {
    throw new ConnectorRejected(`The ${action.connector} connector has no action "${action.name}".`);
  }
  throw new ConnectorRejected(`No connector "${action.connector}" for action ${action.name}.`);
}

/** How an action gets exactly-once at the vendor. */
export function exactlyOnceMeans(action: ActionRequest): ExactlyOnceMeans {
  return connectorActionOf(action).means(action.params);
}

/**
 * Executes one action against its connector, leaving the context's marker where the action's
 * means is `marker`. The caller keeps it to one success per key; after a failure that may have
 * committed (a timeout, a 5xx) it calls {@link reconcileAction} before executing again.
 */
export async function executeAction(action: ActionRequest, settings: ConnectorSettings, ctx: ActionContext): Promise<Record<string, unknown>> {
  return connectorActionOf(action).execute(action.params, settings, ctx);
}

/** Looks at the vendor for the effect of an earlier attempt of this action (marker or vendor state). 'natural' actions return { found: false } (re-running is harmless). */
export async function reconcileAction(
  action: ActionRequest, settings: ConnectorSettings, ctx: ActionContext,
): Promise<{ found: true; response: Record<string, unknown> } | { found: false }> {
  return connectorActionOf(action).reconcile(action.params, settings, ctx);
}
