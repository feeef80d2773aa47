import { ConnectorRejected, ConnectorUnavailable } from '../core/errors.js';
import { callConnector, parseConnectorJson } from './http.js';
import { assertMarkerKey, lookBackStart, ReconcileInconclusive, type ReconcileResult } from './marker.js';

/** Parameters of every Slack action (`slack.post_urgent`, `slack.post_order_risk`…): one message. */
export interface SlackPostParams {
  /** A channel id (`C0123ABCD`) or name (`#support-urgent`). @default the credentials' defaultChannel */
  channel?: string;
  text: string;
}

/** Slack credentials: a bot token with `chat:write` and `channels:history` (`groups:history` for private channels, `channels:read` to resolve names). */
export interface SlackCredentials {
  botToken: string;
  /** Channel for actions that name none. */
  defaultChannel: string;
}

/** Options of one Slack call. */
export interface SlackCallOptions {
  /** The key the message carries in its metadata. */
  idempotencyKey: string;
  /** Earliest time the message could have been posted; bounds the history look-up (`oldest`). */
  notBefore?: Date;
  /** @default CONNECTOR_TIMEOUT_MS */
  timeoutMs?: number;
}

/** The metadata event type every Seamwork message carries, with `{ key }` as its payload. */
export const SLACK_METADATA_EVENT_TYPE = 'seamwork_action';

/**
 * Slack `error` codes (HTTP 200, `ok: false`) worth retrying: the rate limit and Slack's own
 * transient failures, after which Slack says "some aspect of the operation may have succeeded" —
 * the caller reconciles before retrying. Every other code is a rejection.
 */
export const SLACK_RETRYABLE_ERRORS: ReadonlySet<string> = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable']);

/** Slack truncates longer messages; Seamwork refuses them instead. */
export const SLACK_TEXT_MAX = 40_000;

/** Messages or channels per page of a look-up (Slack's recommended page size). */
export const SLACK_PAGE_SIZE = 200;

/** Most pages a look-up reads before it gives up as inconclusive. */
export const SLACK_RECONCILE_MAX_PAGES = 25;

// Conversation ids: C (public), G (private, legacy), D (direct message), then upper-case letters and digits.
const CHANNEL_ID = /^[CGD][A-Z0-9]{8,}$/;

interface SlackAnswer {
  ok?: boolean;
  error?: string;
  response_metadata?: { next_cursor?: string };
}

/** Checks Slack's `{ ok, error }` envelope: `ok: false` with a retryable code → retry, any other → rejected. */
export function checkSlackAnswer<T extends SlackAnswer>(method: string, answer: T, status: number): T {
  if (answer.ok === true) return answer;
  const error = typeof answer.error === 'string' ? answer.error : 'unknown_error';
  if (SLACK_RETRYABLE_ERRORS.has(error)) {
    throw new ConnectorUnavailable(`slack ${method} answered ${error}; will retry.`, { detail: { status, slackError: error, answered: true } });
  }
  throw new ConnectorRejected(`slack refused ${method}: ${error}.`, { detail: { status, slackError: error } });
}

async function callSlack<T extends SlackAnswer>(
  baseUrl: string, creds: SlackCredentials, method: string, request: { json?: unknown; query?: URLSearchParams }, timeoutMs?: number,
): Promise<T> {
  const base = `${baseUrl.replace(/\/$/, '')}/api/${method}`;
  const authorization = `Bearer ${creds.botToken}`;
  const res = request.json === undefined
    ? await callConnector('slack', `${base}?${request.query ?? ''}`, { method: 'GET', headers: { authorization } }, { timeoutMs })
    : await callConnector('slack', base, {
      method: 'POST', headers: { authorization, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(request.json),
    }, { timeoutMs });
  return checkSlackAnswer(method, parseConnectorJson<T>('slack', res), res.status);
}

/**
 * Posts a message through the Web API, `POST /api/chat.postMessage` with a bot token, carrying
 * the action's key as message metadata. Slack has no idempotency key for posting, so exactly once
 * is by marker: a retry first calls {@link findSlackMessage}, which reads the key back.
 */
export async function postSlackMessage(
  baseUrl: string, creds: SlackCredentials, params: SlackPostParams, opts: SlackCallOptions,
): Promise<Record<string, unknown>> {
  assertMarkerKey(opts.idempotencyKey);
  const channel = params.channel ?? creds.defaultChannel;
  if (typeof channel !== 'string' || channel.trim() === '') throw new ConnectorRejected('A Slack action needs a channel, or slack.defaultChannel in the secrets.');
  if (typeof params.text !== 'string' || params.text.trim() === '') throw new ConnectorRejected('A Slack action needs a non-blank text.');
  if (params.text.length > SLACK_TEXT_MAX) throw new ConnectorRejected(`A Slack message holds at most ${SLACK_TEXT_MAX} characters; this one has ${params.text.length}.`);
  const answer = await callSlack<SlackAnswer & { channel?: string; ts?: string }>(baseUrl, creds, 'chat.postMessage', {
    json: { channel, text: params.text, metadata: { event_type: SLACK_METADATA_EVENT_TYPE, event_payload: { key: opts.idempotencyKey } } },
  }, opts.timeoutMs);
  return { status: 200, channel: answer.channel, ts: answer.ts };
}

interface SlackChannelsPage extends SlackAnswer { channels?: Array<{ id?: string; name?: string }> }

/** A channel's id: as given when it is one, else looked up by name with `conversations.list`; undefined when no channel has that name. */
export async function resolveSlackChannel(baseUrl: string, creds: SlackCredentials, channel: string, timeoutMs?: number): Promise<string | undefined> {
  if (CHANNEL_ID.test(channel)) return channel;
  const name = channel.replace(/^#/, '');
  let cursor = '';
  for (let page = 1; page <= SLACK_RECONCILE_MAX_PAGES; page++) {
    const query = new URLSearchParams({ types: 'public_channel,private_channel', exclude_archived: 'true', limit: String(SLACK_PAGE_SIZE) });
    if (cursor) query.set('cursor', cursor);
    const answer = await callSlack<SlackChannelsPage>(baseUrl, creds, 'conversations.list', { query }, timeoutMs);
    const hit = (answer.channels ?? []).find((c) => c.name === name);
    if (hit?.id) return hit.id;
    cursor = answer.response_metadata?.next_cursor ?? '';
    if (!cursor) return undefined;
  }
  throw new ReconcileInconclusive(`Slack lists more than ${SLACK_RECONCILE_MAX_PAGES} pages of channels; "${channel}" was not among them.`);
}

interface SlackHistoryPage extends SlackAnswer {
  messages?: Array<{ ts?: string; metadata?: { event_type?: string; event_payload?: { key?: unknown } } }>;
  has_more?: boolean;
}

/**
 * Looks for the message an earlier attempt posted: `GET /api/conversations.history` with
 * `include_all_metadata=true`, from `oldest` = notBefore less the clock skew when given, for the
 * message whose metadata carries the key. A channel name is resolved to its id first (history
 * takes ids only). Throws {@link ReconcileInconclusive} after {@link SLACK_RECONCILE_MAX_PAGES} pages.
 */
export async function findSlackMessage(
  baseUrl: string, creds: SlackCredentials, params: Pick<SlackPostParams, 'channel'>, opts: SlackCallOptions,
): Promise<ReconcileResult> {
  assertMarkerKey(opts.idempotencyKey);
  const channel = await resolveSlackChannel(baseUrl, creds, params.channel ?? creds.defaultChannel, opts.timeoutMs);
  if (!channel) return { found: false };
  const oldest = lookBackStart(opts.notBefore);
  let cursor = '';
  for (let page = 1; page <= SLACK_RECONCILE_MAX_PAGES; page++) {
    const query = new URLSearchParams({ channel, include_all_metadata: 'true', limit: String(SLACK_PAGE_SIZE) });
    if (oldest) query.set('oldest', (oldest.getTime() / 1000).toFixed(6));
    if (cursor) query.set('cursor', cursor);
    const answer = await callSlack<SlackHistoryPage>(baseUrl, creds, 'conversations.history', { query }, opts.timeoutMs);
    const hit = (answer.messages ?? []).find((m) => m.metadata?.event_type === SLACK_METADATA_EVENT_TYPE && m.metadata.event_payload?.key === opts.idempotencyKey);
    if (hit) return { found: true, response: { channel, ts: hit.ts, reconciled: true } };
    cursor = answer.response_metadata?.next_cursor ?? '';
    if (!answer.has_more || !cursor) return { found: false };
  }
  throw new ReconcileInconclusive(`Slack channel ${channel} has more than ${SLACK_RECONCILE_MAX_PAGES} pages of history to search for ${opts.idempotencyKey}.`);
}
