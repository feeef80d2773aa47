import { ConnectorRejected } from '../core/errors.js';
import { callConnector, parseConnectorJson } from './http.js';
import { actionMarker, hasActionMarker, ReconcileInconclusive, type ReconcileResult } from './marker.js';

/** Parameters of `zendesk.update_ticket`. */
export interface ZendeskUpdateParams {
  ticketId: string;
  tags?: string[];
  priority?: 'low' | 'normal' | 'high' | 'urgent';
  internalNote?: string;
}

/** Zendesk credentials: API token auth (`{email}/token:{apiToken}`). */
export interface ZendeskCredentials {
  email: string;
  apiToken: string;
}

/** Options of one Zendesk call. */
export interface ZendeskCallOptions {
  /** The key an internal note carries as its marker. */
  idempotencyKey: string;
  /** @default CONNECTOR_TIMEOUT_MS */
  timeoutMs?: number;
}

/** Comments per page when looking for a marker (Zendesk's maximum for cursor pagination). */
export const ZENDESK_COMMENTS_PER_PAGE = 100;

/** Most pages a look-up reads before it gives up as inconclusive (2,000 comments). */
export const ZENDESK_RECONCILE_MAX_PAGES = 20;

function ticketBase(baseUrl: string, ticketId: unknown): string {
  if (!/^\d+$/.test(String(ticketId))) throw new ConnectorRejected(`Zendesk ticket id "${ticketId}" is not numeric.`);
  return `${baseUrl.replace(/\/$/, '')}/api/v2/tickets/${ticketId}`;
}

function authorization(creds: ZendeskCredentials): string {
  return `Basic ${Buffer.from(`${creds.email}/token:${creds.apiToken}`).toString('base64')}`;
}

/** Whether this update leaves a marker (it carries an internal note) or is a pure set of tags and priority. */
export function zendeskUpdateHasNote(params: ZendeskUpdateParams): boolean {
  return typeof params.internalNote === 'string' && params.internalNote !== '';
}

/**
 * Updates a ticket through Zendesk's REST API: `PUT /api/v2/tickets/{id}.json` with tags
 * (`additional_tags`), priority and a private comment (internal note), in one atomic update.
 *
 * Exactly once: tags and priority are set semantics (a re-run changes nothing); the note is
 * appended, so it ends with the action's marker and a retry first calls {@link findZendeskNote}.
 * Zendesk's `Idempotency-Key` header covers ticket creation only, not updates. Since the note and
 * the tags travel in one update, finding the note means the tags and priority were set too.
 */
export async function updateZendeskTicket(
  baseUrl: string, creds: ZendeskCredentials, params: ZendeskUpdateParams, opts: ZendeskCallOptions,
): Promise<Record<string, unknown>> {
  const url = `${ticketBase(baseUrl, params.ticketId)}.json`;
  const ticket: Record<string, unknown> = {};
  if (params.tags?.length) ticket.additional_tags = params.tags;
  if (params.priority) ticket.priority = params.priority;
  if (zendeskUpdateHasNote(params)) ticket.comment = { body: `${params.internalNote}\n\n${actionMarker(opts.idempotencyKey)}`, public: false };
  const res = await callConnector('zendesk', url, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: authorization(creds) },
    body: JSON.stringify({ ticket }),
  }, { timeoutMs: opts.timeoutMs });
  return { status: res.status, ticketId: params.ticketId };
}

interface ZendeskCommentsPage {
  comments?: Array<{ id?: unknown; body?: unknown; html_body?: unknown; plain_body?: unknown; public?: unknown }>;
  meta?: { has_more?: boolean; after_cursor?: string | null };
}

/**
 * Looks for the internal note an earlier attempt left: `GET /api/v2/tickets/{id}/comments.json`
 * with cursor pagination (`page[size]=100`, then `page[after]`), for a private comment carrying the
 * key's marker. Zendesk cannot filter comments by time, so `notBefore` does not shorten the walk;
 * after {@link ZENDESK_RECONCILE_MAX_PAGES} pages it throws {@link ReconcileInconclusive}.
 */
export async function findZendeskNote(
  baseUrl: string, creds: ZendeskCredentials, params: Pick<ZendeskUpdateParams, 'ticketId'>, opts: ZendeskCallOptions,
): Promise<ReconcileResult> {
  const url = `${ticketBase(baseUrl, params.ticketId)}/comments.json`;
  actionMarker(opts.idempotencyKey);
  let after: string | undefined;
  for (let page = 1; page <= ZENDESK_RECONCILE_MAX_PAGES; page++) {
    const query = new URLSearchParams({ 'page[size]': String(ZENDESK_COMMENTS_PER_PAGE) });
    if (after) query.set('page[after]', after);
    const res = await callConnector('zendesk', `${url}?${query}`, { method: 'GET', headers: { accept: 'application/json', authorization: authorization(creds) } }, { timeoutMs: opts.timeoutMs });
    const answer = parseConnectorJson<ZendeskCommentsPage>('zendesk', res);
    if (!Array.isArray(answer.comments)) throw new ReconcileInconclusive(`Zendesk answered the comments of ticket ${params.ticketId} without a comment list.`, { status: res.status });
    const hit = answer.comments.find((c) => c.public === false && [c.body, c.html_body, c.plain_body].some((t) => hasActionMarker(t, opts.idempotencyKey)));
    if (hit) return { found: true, response: { ticketId: params.ticketId, commentId: hit.id, reconciled: true } };
    if (!answer.meta?.has_more || !answer.meta.after_cursor) return { found: false };
    after = answer.meta.after_cursor;
  }
  throw new ReconcileInconclusive(`Zendesk ticket ${params.ticketId} has more than ${ZENDESK_RECONCILE_MAX_PAGES} pages of comments to search for ${opts.idempotencyKey}.`);
}
