import type { SourceDocument } from '../../core/integration.js';
import type { OrderInput } from './contract.js';
import { DOC_ADDRESSES, DOC_CUSTOMER, DOC_SIGNALS, DOC_SUMMARY } from './documents.js';
import type { AlternativeConsidered, EvidenceItem, OrderRiskDecision, Recommendation, RiskSignal } from './output.js';
import { fraudPatterns, orderSignals, type FraudPattern, type OrderSignals } from './signals.js';

/**
 * The non-AI fallback the flag returns to: fixed rules over the derived signals, deterministic,
 * no network. Deliberately simple — the bar the AI path must beat, not a competitor to tune.
 *
 * 1. Nothing to assess (no customer, no billing, no shipping address, not in person) → abstain.
 * 2. A known fraud pattern → recommend cancelling (a human decides; nothing is cancelled):
 *    a new account with a freight-forwarder address and a high value; a new account with a
 *    disposable email domain buying gift cards, shipping to a forwarder or spending a high value;
 *    a new account spending a high value, at least half of it on gift cards.
 * 3. Address mismatch + high value + first order (new account or none) → review; so does a
 *    country mismatch on a new account, a disposable email domain, and a high-value order with no
 *    customer record.
 * 4. Otherwise approve.
 */

/** Fixed confidence of every baseline decision: rules are right often, not always. */
export const BASELINE_CONFIDENCE = 0.65;

interface Rule {
  name: string;
  when: (s: OrderSignals, input: OrderInput) => boolean;
  signals: RiskSignal[];
}

const first = (s: OrderSignals) => s.newAccount || s.noCustomer;

/**
 * The review rules, checked when no known fraud pattern holds (patterns come from
 * {@link fraudPatterns} and each leads to a cancel recommendation); the first that holds decides.
 */
export const REVIEW_RULES: readonly Rule[] = [
  { name: 'address mismatch, high value and a first order', when: (s) => s.addressMismatch && s.highValue && first(s), signals: ['billing_shipping_address_mismatch', 'high_order_value', 'new_customer_account'] },
  { name: 'different countries on a new account', when: (s) => s.countryMismatch && s.newAccount, signals: ['billing_shipping_country_mismatch', 'new_customer_account'] },
  { name: 'disposable email domain', when: (s) => s.disposableEmail, signals: ['disposable_email'] },
  { name: 'high value with no customer record', when: (s) => s.highValue && s.noCustomer, signals: ['high_order_value', 'no_customer_record'] },
];

/** The risk signals each fraud pattern stands for. */
const PATTERN_SIGNALS: Record<FraudPattern['name'], RiskSignal[]> = {
  'reshipping fraud': ['new_customer_account', 'freight_forwarder', 'high_order_value'],
  'throwaway-account fraud': ['new_customer_account', 'disposable_email'],
  'gift-card cash-out': ['new_customer_account', 'gift_cards', 'high_order_value'],
};

/** Which lines of which documents support each signal: the baseline quotes these, verbatim. */
const QUOTE_FOR: Partial<Record<RiskSignal, { doc: string; starts: string }>> = {
  high_order_value: { doc: DOC_SIGNALS, starts: 'The order total is above' },
  new_customer_account: { doc: DOC_CUSTOMER, starts: 'The customer record was created' },
  no_customer_record: { doc: DOC_CUSTOMER, starts: 'No customer record' },
  disposable_email: { doc: DOC_CUSTOMER, starts: 'The email address uses a disposable' },
  billing_shipping_address_mismatch: { doc: DOC_ADDRESSES, starts: 'Billing and shipping addresses' },
  billing_shipping_country_mismatch: { doc: DOC_ADDRESSES, starts: 'Billing and shipping addresses are in different' },
  freight_forwarder: { doc: DOC_ADDRESSES, starts: 'The shipping address looks like a freight forwarder' },
  gift_cards: { doc: DOC_SIGNALS, starts: 'Gift cards make up' },
};

/** Lines of a document, each a verbatim substring of its text. */
function lines(doc: SourceDocument | undefined): string[] {
  return (doc?.text ?? '').split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}

function quote(documents: SourceDocument[], doc: string, starts: string): EvidenceItem | undefined {
  const line = lines(documents.find((d) => d.id === doc)).find((l) => l.startsWith(starts));
  return line ? { quote: line, source: doc } : undefined;
}

function alternatives(chosen: Recommendation, because: string | undefined): AlternativeConsidered[] {
  const why: Record<Recommendation, string> = {
    approve: because ? `${because[0].toUpperCase()}${because.slice(1)} holds, so the order should not ship unchecked.` : 'Approving is the rules\' answer when no rule holds.',
    review: chosen === 'cancel' ? 'A known fraud pattern holds, which is stronger than a reason to look.' : 'No review rule holds for this order.',
    cancel: 'No known fraud pattern holds for this order.',
  };
  return (['approve', 'review', 'cancel'] as const).filter((r) => r !== chosen).map((r) => ({ recommendation: r, why_not: why[r] }));
}

/** Screens an order with the fixed rules. Evidence quotes are verbatim lines from `documents`. */
export function screenByRules(input: OrderInput, documents: SourceDocument[]): OrderRiskDecision {
  const s = orderSignals(input);
  const opening = quote(documents, DOC_SUMMARY, 'Order ');
  const total = quote(documents, DOC_SUMMARY, 'Order total:');

  if (s.nothingToAssess) {
    return {
      reasoning: 'baseline rules: no customer record, no billing address and no shipping address, and the order did not come from an online checkout or a sale in person, so there is nothing to assess.',
      evidence: [quote(documents, DOC_CUSTOMER, 'No customer record'), quote(documents, DOC_ADDRESSES, 'No billing address')].filter((e): e is EvidenceItem => e !== undefined),
      // Rules make no claims to pair: grounding step 3 is for the model (their quotes are still checked).
      claims: [],
      outcome: 'insufficient_information',
      recommendation: 'review',
      summary: `Order ${input.name} carries no customer or address details to assess.`,
      risk_signals: ['no_customer_record', 'missing_addresses'],
      alternatives_considered: [],
      confidence: BASELINE_CONFIDENCE,
      missing_information: ['who the buyer is', 'the billing and shipping addresses'],
    };
  }

  const pattern = fraudPatterns(input, s)[0];
  const rule = pattern ? undefined : REVIEW_RULES.find((r) => r.when(s, input));
  const recommendation: Recommendation = pattern ? 'cancel' : rule ? 'review' : 'approve';
  const because = pattern ? `the known fraud pattern "${pattern.name}"` : rule ? `the rule "${rule.name}"` : undefined;
  const signals: RiskSignal[] = pattern ? [...PATTERN_SIGNALS[pattern.name]] : rule ? [...rule.signals] : [];
  const evidence: EvidenceItem[] = [];
  if (pattern) {
    const q = quote(documents, DOC_SIGNALS, `Known fraud pattern (${pattern.name})`);
    if (q) evidence.push(q);
  }
  for (const signal of signals) {
    const where = QUOTE_FOR[signal];
    const q = where ? quote(documents, where.doc, where.starts) : undefined;
    if (q && !evidence.some((e) => e.quote === q.quote)) evidence.push(q);
  }
  if (evidence.length === 0) {
    for (const q of [quote(documents, DOC_ADDRESSES, 'Billing and shipping addresses are the same'), quote(documents, DOC_SIGNALS, 'The order total is'), opening]) {
      if (q && evidence.length < 2) evidence.push(q);
    }
  }

  return {
    reasoning: `baseline rules: ${because ? `${because} holds, so ${recommendation}` : 'no rule holds, so approve'}.`,
    evidence: evidence.slice(0, 4),
    // Rules make no claims to pair: grounding step 3 is for the model (their quotes are still checked).
    claims: [],
    outcome: 'assessed',
    recommendation,
    summary: `${because ? `${because[0].toUpperCase()}${because.slice(1)} holds` : 'No risk rule holds'}: order ${input.name}, ${total ? `${input.totals.total} ${input.currency}` : 'total not shown'}.`.slice(0, 240),
    risk_signals: signals,
    alternatives_considered: alternatives(recommendation, because),
    confidence: BASELINE_CONFIDENCE,
    missing_information: [],
  };
}
