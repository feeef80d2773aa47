import { z } from 'zod';
import { claimsSchema, quoteId } from '../../core/grounding/schema.js';

/**
 * The structured output of support-ticket triage (layer 4 validates it, layer 5 acts on it).
 *
 * Each enum field's description lists cues per value as `<value>: <cue>, <cue>.` and may end
 * with `Default: <value>.` — a real model reads them as guidance, the deterministic local
 * reference model reads them as its rules. Keep that shape when editing: no colons or full
 * stops inside a cue.
 */

/** What the decision is: a triage, or an explicit abstention. */
export const OUTCOMES = ['triaged', 'insufficient_information'] as const;
export type TriageOutcome = (typeof OUTCOMES)[number];

/** The outcome meaning "the ticket does not say enough to triage it". */
export const ABSTAIN_OUTCOME = 'insufficient_information' satisfies TriageOutcome;

/** Queues a ticket can be routed to. */
export const CATEGORIES = ['billing', 'technical', 'account', 'shipping', 'feature_request', 'other'] as const;
export type TriageCategory = (typeof CATEGORIES)[number];

/** Zendesk's own priority values, lower case as its Tickets API takes them. */
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type TriagePriority = (typeof PRIORITIES)[number];

/** Longest summary accepted: it lands in an internal note and a Slack line. */
export const SUMMARY_MAX = 280;

/** The decision fields each claim supports (grounding step 3): every one that holds a value needs a claim paired to a verified quote. */
export const CLAIM_FIELDS = ['category', 'priority', 'escalation_reason'] as const;

/** One verbatim quote from a ticket document; grounding checks it exists. */
export const EvidenceItem = z.object({
  id: quoteId(),
  quote: z
    .string()
    .min(1)
    .describe(
      'A quote copied character for character from one of the ticket documents: same spelling, typos, case and punctuation, no paraphrase, no ellipsis, no joining of separate passages. Placeholders such as [EMAIL_1] are copied as they appear.',
    ),
  source: z
    .string()
    .min(1)
    .describe('The id of the document the quote was copied from, exactly as given: ticket.subject or ticket.description.'),
});
export type EvidenceItem = z.infer<typeof EvidenceItem>;

/** The zod schema the model's `record_triage` tool input must satisfy. */
export const TriageDecision = z.object({
  reasoning: z
    .string()
    .describe(
      'Think first, before any other field: what the customer reports or asks, what is affected, how many people and how badly, and whether the ticket says enough to act on. Kept in the audit log only; never shown to the customer and never used by an action.',
    ),
  evidence: z
    .array(EvidenceItem)
    .describe(
      'Extract these before writing the summary: one to three verbatim quotes from the ticket documents that support the category, priority and any escalation. source is the document id. A quote not found verbatim in its document is retracted.',
    ),
  claims: claimsSchema(CLAIM_FIELDS),
  outcome: z
    .enum(OUTCOMES)
    .describe(
      'Whether the ticket holds enough to triage. Choose insufficient_information instead of guessing when the ticket does not say what is wrong or what the customer wants. triaged: . insufficient_information: . Default: triaged.',
    ),
  summary: z
    .string()
    .max(SUMMARY_MAX)
    .describe(
      'One or two neutral sentences for the agent who picks the ticket up, stating only what the ticket says. At most 280 characters. Keep placeholders such as [PHONE_1] as they are.',
    ),
  category: z
    .enum(CATEGORIES)
    .describe(
      'What the ticket is about. billing: invoice, refund, charged, charge, payment, subscription, price. technical: error, crash, bug, broken, not working, timeout, 500, 503, outage, down, unavailable. account: login, log in, password, locked out, 2fa, access, email change. shipping: delivery, shipping, package, tracking, arrived, courier. feature_request: feature request, would be nice, please add, suggestion. other: . Default: other.',
    ),
  priority: z
    .enum(PRIORITIES)
    .describe(
      'How soon support must act. urgent: outage, down for everyone, data loss, security breach, cannot process payments, production down. high: cannot log in, locked out, charged twice, blocked, deadline, asap. normal: question, how do i, problem, issue, not working. low: feature request, suggestion, would be nice, typo, no rush, whenever convenient. Default: normal.',
    ),
  escalation_reason: z
    .string()
    .min(1)
    .nullable()
    .describe(
      'Why a support lead must look at this ticket now, in one sentence grounded in the ticket: an outage or failure affecting many users, a security incident, data loss, runaway charges, or a customer threatening a chargeback, legal action or cancellation. null when none of these apply.',
    ),
  confidence: z
    .number()
    .min(0)
    .max(1)
    .describe('Probability from 0 to 1 that category and priority are right. Low when the ticket is vague or mixes topics.'),
  missing_information: z
    .array(z.string())
    .describe(
      'What the agent would need to ask the customer for, one short item each (for example which product or what error). Empty when nothing is missing.',
    ),
});
export type TriageDecision = z.infer<typeof TriageDecision>;
