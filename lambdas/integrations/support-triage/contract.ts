import { z } from 'zod';

/**
 * Layer 1 contract for the Zendesk event-subscription webhook `zen:event-type:ticket.created`
 * (event schema version 2022-11-06).
 *
 * Strict on what the integration uses (the event type, the ids, a non-blank description),
 * loose on everything else: Zendesk adds fields without notice and a new unused field must
 * not send tickets to the DLQ. Bump the `#n` suffix of the version on any change here so
 * audit records say which contract an input was checked against.
 */
export const CONTRACT_VERSION = 'zendesk.ticket.created/2022-11-06#1';

/** The only event type this contract accepts. */
export const TICKET_CREATED_EVENT_TYPE = 'zen:event-type:ticket.created';

/** Zendesk's ticket priority as the event webhook spells it; null when nobody set one. */
export const VENDOR_PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'] as const;

const numericId = z.string().regex(/^\d+$/, 'expected a numeric id sent as a string');

const notBlank = (field: string) =>
  z.string().refine((s) => s.trim().length > 0, { message: `${field} is blank` });

/** The ticket as the `detail` object carries it. Unused fields pass through untouched. */
const TicketDetail = z
  .object({
    id: numericId,
    subject: z.string().default(''),
    description: notBlank('description'),
    priority: z.enum(VENDOR_PRIORITIES).nullable().default(null),
    status: z.string().optional(),
    requester_id: numericId,
    tags: z.array(z.string()).default([]),
    created_at: z.iso.datetime({ offset: true }),
    via: z.object({ channel: z.string() }).loose().optional(),
  })
  .loose();

/** The raw webhook body, checked but not yet trimmed. */
export const ZendeskTicketCreatedEvent = z
  .object({
    type: z.literal(TICKET_CREATED_EVENT_TYPE),
    account_id: z.number().int().positive(),
    id: z.string().min(1),
    subject: z.string().regex(/^zen:ticket:\d+$/, 'expected zen:ticket:<id>'),
    time: z.string().min(1),
    zendesk_event_version: z.string().min(1),
    detail: TicketDetail,
    event: z.object({}).loose().default({}),
  })
  .loose()
  .superRefine((body, ctx) => {
    if (body.subject !== `zen:ticket:${body.detail.id}`) {
      ctx.addIssue({
        code: 'custom',
        path: ['subject'],
        message: `event subject ${body.subject} does not name ticket ${body.detail.id}`,
      });
    }
  });
export type ZendeskTicketCreatedEvent = z.input<typeof ZendeskTicketCreatedEvent>;

/** The trimmed input the rest of the pipeline uses; `subject` and `description` are redacted. */
export interface TicketInput {
  ticketId: string;
  accountId: number;
  subject: string;
  description: string;
  requesterId: string;
  tags: string[];
  vendorPriority: 'low' | 'normal' | 'high' | 'urgent' | null;
  createdAt: string;
  channel: string;
}

/** Contract schema: parses a raw body into a {@link TicketInput}, or fails with issue paths. */
export const TicketCreatedContract = ZendeskTicketCreatedEvent.transform(
  (body): TicketInput => ({
    ticketId: body.detail.id,
    accountId: body.account_id,
    subject: body.detail.subject,
    description: body.detail.description,
    requesterId: body.detail.requester_id,
    tags: body.detail.tags,
    vendorPriority: body.detail.priority === null ? null : (body.detail.priority.toLowerCase() as TicketInput['vendorPriority']),
    createdAt: body.detail.created_at,
    channel: body.detail.via?.channel ?? 'unknown',
  }),
);
