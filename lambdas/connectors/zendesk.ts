import { ConnectorRejected } from '../core/errors.js';
import { callConnector } from './http.js';

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

/**
 * Updates a ticket through Zendesk's REST API: `PUT /api/v2/tickets/{id}.json` with tags,
 * priority and a private comment (internal note).
 */
export async function updateZendeskTicket(baseUrl: string, creds: ZendeskCredentials, params: ZendeskUpdateParams): Promise<Record<string, unknown>> {
  if (!/^\d+$/.test(String(params.ticketId))) throw new ConnectorRejected(`Zendesk ticket id "${params.ticketId}" is not numeric.`);
  const ticket: Record<string, unknown> = {};
  if (params.tags?.length) ticket.additional_tags = params.tags;
  if (params.priority) ticket.priority = params.priority;
  if (params.internalNote) ticket.comment = { body: params.internalNote, public: false };
  const auth = Buffer.from(`${creds.email}/token:${creds.apiToken}`).toString('base64');
  const res = await callConnector('zendesk', `${baseUrl.replace(/\/$/, '')}/api/v2/tickets/${params.ticketId}.json`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Basic ${auth}` },
    body: JSON.stringify({ ticket }),
  });
  return { status: res.status, ticketId: params.ticketId };
}
