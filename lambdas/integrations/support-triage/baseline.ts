import type { SourceDocument } from '../../core/integration.js';
import { findAll, firstHit, mostHits, sentences, type KeywordHit } from '../../core/keywords.js';
import type { TicketInput } from './contract.js';
import type { EvidenceItem, TriageCategory, TriageDecision, TriagePriority } from './output.js';
import { SUMMARY_MAX } from './output.js';

/**
 * The non-AI fallback the flag returns to: fixed keyword rules, deterministic, no network.
 * Deliberately simple — it is the bar the AI path must beat, not a competitor to tune.
 */

/** Fixed confidence of every baseline decision: keyword rules are right often, not always. */
export const BASELINE_CONFIDENCE = 0.6;

/** Below this many words, a ticket with no keyword hit is treated as saying nothing. */
export const BASELINE_SHORT_TICKET_WORDS = 12;

/** At most this many quotes are attached as evidence. */
const MAX_EVIDENCE = 3;

/** Category keywords; on a tie the earlier category wins. */
export const CATEGORY_KEYWORDS: ReadonlyArray<readonly [TriageCategory, readonly string[]]> = [
  ['billing', ['invoice', 'refund', 'charged', 'charge', 'billing', 'payment', 'subscription', 'receipt', 'renewal']],
  ['account', ['login', 'log in', 'sign in', 'password', 'locked out', '2fa', 'two-factor', 'access', 'username']],
  ['shipping', ['delivery', 'delivered', 'shipping', 'shipped', 'package', 'parcel', 'tracking', 'courier']],
  ['technical', ['error', 'crash', 'crashes', 'bug', 'broken', 'not working', "doesn't work", 'timeout', 'outage', 'down', '500', '503']],
  ['feature_request', ['feature request', 'would be nice', 'would be great', 'please add', 'suggestion', 'roadmap']],
];

/** Priority keywords, checked from most to least severe; no hit → normal. */
export const PRIORITY_KEYWORDS: ReadonlyArray<readonly [Exclude<TriagePriority, 'normal'>, readonly string[]]> = [
  ['urgent', ['outage', 'down for everyone', 'production down', 'data loss', 'security breach', 'hacked', 'cannot process payments']],
  ['high', ['urgent', 'asap', 'immediately', 'locked out', 'charged twice', 'blocked', 'deadline']],
  ['low', ['no rush', 'whenever convenient', 'when you get a chance', 'suggestion', 'would be nice', 'typo']],
];

/** Words that warrant a lead's attention whatever the priority. */
export const ESCALATION_KEYWORDS: readonly string[] = ['chargeback', 'dispute', 'lawyer', 'legal action', 'hacked', 'security breach'];

function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

function addEvidence(into: EvidenceItem[], hit: KeywordHit | undefined): void {
  if (!hit || into.length >= MAX_EVIDENCE) return;
  if (into.some((e) => e.quote === hit.evidence.quote && e.source === hit.evidence.source)) return;
  into.push(hit.evidence);
}

/** Triage a ticket with keyword rules. Evidence quotes are verbatim sentences from `documents`. */
export function triageByKeywords(input: TicketInput, documents: SourceDocument[]): TriageDecision {
  const { value: category, hits: categoryHits } = mostHits<TriageCategory>(CATEGORY_KEYWORDS, documents, 'other');
  const { value: priority, hit: priorityHit } = firstHit<TriagePriority>(PRIORITY_KEYWORDS, documents, 'normal');

  const escalationHit = findAll(ESCALATION_KEYWORDS, documents)[0];
  const allText = documents.map((d) => d.text).join(' ');
  const wordCount = allText.split(/\s+/).filter((w) => w.length > 0).length;
  const nothingMatched = categoryHits.length === 0 && !priorityHit && !escalationHit;

  if (nothingMatched && wordCount < BASELINE_SHORT_TICKET_WORDS) {
    const evidence: EvidenceItem[] = [];
    const first = documents.find((d) => d.id === 'ticket.description' && d.text.trim()) ?? documents.find((d) => d.text.trim());
    const quote = first ? sentences(first.text)[0] : undefined;
    if (first && quote) evidence.push({ quote, source: first.id });
    return {
      reasoning: `baseline keyword rules: no keyword matched and the ticket has only ${wordCount} words, so it does not say enough to triage.`,
      evidence,
      // Rules make no claims to pair: grounding step 3 is for the model (their quotes are still checked).
      claims: [],
      outcome: 'insufficient_information',
      summary: truncate(`Ticket ${input.ticketId} does not say what is wrong or what the customer needs.`, SUMMARY_MAX),
      category: 'other',
      priority: 'normal',
      escalation_reason: null,
      confidence: BASELINE_CONFIDENCE,
      missing_information: ['what is not working or what the customer needs', 'which product or feature is affected'],
    };
  }

  const evidence: EvidenceItem[] = [];
  addEvidence(evidence, priorityHit);
  addEvidence(evidence, escalationHit);
  for (const hit of categoryHits) addEvidence(evidence, hit);
  if (evidence.length === 0) {
    const doc = documents.find((d) => d.id === 'ticket.description' && d.text.trim()) ?? documents.find((d) => d.text.trim());
    const quote = doc ? sentences(doc.text)[0] : undefined;
    if (doc && quote) evidence.push({ quote, source: doc.id });
  }

  const escalationReason =
    priority === 'urgent' && priorityHit
      ? `Urgent keyword "${priorityHit.keyword}" in the ticket.`
      : escalationHit
        ? `Escalation keyword "${escalationHit.keyword}" in the ticket.`
        : null;

  // From the documents, not the input: the documents are the redacted, windowed text.
  const subjectDoc = documents.find((d) => d.id === 'ticket.subject');
  const descriptionDoc = documents.find((d) => d.id === 'ticket.description');
  const headline = subjectDoc?.text.trim() || sentences(descriptionDoc?.text ?? '')[0] || '';
  const matched = [
    categoryHits.length > 0 ? `category ${category} from ${categoryHits.map((h) => `"${h.keyword}"`).join(', ')}` : 'no category keyword, so other',
    priorityHit ? `priority ${priority} from "${priorityHit.keyword}"` : 'no priority keyword, so normal',
    escalationHit ? `escalation keyword "${escalationHit.keyword}"` : undefined,
  ].filter((s): s is string => s !== undefined);

  return {
    reasoning: `baseline keyword rules: ${matched.join('; ')}.`,
    evidence,
    // Rules make no claims to pair: grounding step 3 is for the model (their quotes are still checked).
    claims: [],
    outcome: 'triaged',
    summary: truncate(`${category} / ${priority}: ${headline}`, SUMMARY_MAX),
    category,
    priority,
    escalation_reason: escalationReason,
    confidence: BASELINE_CONFIDENCE,
    missing_information: [],
  };
}
