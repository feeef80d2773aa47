import { z } from 'zod';
import { observed } from '../../core/contracts/observed.js';

/**
 * Layer 1 contract for the Zendesk event-subscription webhook `zen:event-type:ticket.created`
 * (event schema version 2022-11-06), declared field by field as Zendesk documents it.
 *
 * Strict where the integration reads (the event type, the ids, a non-blank description): a wrong
 * value there stops the event. Observed where it does not (`observed()`): a change there is
 * reported as drift with a pointer and never stops a ticket. Closed everywhere else: a field
 * Zendesk adds shows up as `unknown_field` drift the first day it arrives. Bump the `#n` suffix
 * of the version on any change here so audit records say which contract an input was checked
 * against.
 */
export const CONTRACT_VERSION = 'zendesk.ticket.created/2022-11-06#2';

/** The only event type this contract accepts. */
export const TICKET_CREATED_EVENT_TYPE = 'zen:event-type:ticket.created';

/** Zendesk's ticket priority as the event webhook spells it; null when nobody set one. */
export const VENDOR_PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'] as const;

const numericId = z.string().regex(/^\d+$/, 'expected a numeric id sent as a string');

const notBlank = (field: string) =>
  z.string().refine((s) => s.trim().length > 0, { message: `${field} is blank` });

/** Zendesk's ticket status as event webhooks spell it. */
export const VENDOR_STATUSES = ['NEW', 'OPEN', 'PENDING', 'HOLD', 'SOLVED', 'CLOSED'] as const;
/** Zendesk's ticket type; null when nobody set one. */
export const VENDOR_TICKET_TYPES = ['QUESTION', 'INCIDENT', 'PROBLEM', 'TASK'] as const;

const optionalId = observed(z.string().regex(/^\d+$/).nullable());

/** The ticket as the `detail` object carries it: closed, so a new Zendesk field is seen. */
const TicketDetail = z.object({
  id: numericId,
  subject: z.string().default(''),
  description: notBlank('description'),
  priority: z.enum(VENDOR_PRIORITIES).nullable().default(null),
  requester_id: numericId,
  tags: z.array(z.string()).default([]),
  created_at: z.iso.datetime({ offset: true }),
  via: z.object({ channel: z.string() }).loose().optional(),
  // Not read by the integration: observed for drift, never enforced.
  status: observed(z.enum(VENDOR_STATUSES)),
  type: observed(z.enum(VENDOR_TICKET_TYPES).nullable()),
  actor_id: optionalId,
  assignee_id: optionalId,
  brand_id: optionalId,
  custom_status: optionalId,
  external_id: observed(z.string().nullable()),
  form_id: optionalId,
  group_id: optionalId,
  organization_id: optionalId,
  submitter_id: optionalId,
  is_public: observed(z.boolean()),
  updated_at: observed(z.iso.datetime({ offset: true })),
});

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
  .superRefine((body, ctx) => {
    if (body.subject !== `zen:ticket:${body.detail.id}`) {
      ctx.addIssue({
        code: 'custom',
        path: ['subject'],
        message: 'the event subject does not name the ticket in /detail/id (expected zen:ticket:<detail.id>)',
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
