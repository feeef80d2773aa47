import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertAbstainable, checkAbstain } from '../../lambdas/core/grounding/abstain.js';
import { checkCitations, fromCitations } from '../../lambdas/core/grounding/citations.js';
import { checkClaimPairing, claimsOf } from '../../lambdas/core/grounding/claim-pairing.js';
import { checkClosedBook, freeTextOf, indexSources, ungroundedTokens } from '../../lambdas/core/grounding/closed-book.js';
import { checkDivergence, wants } from '../../lambdas/core/grounding/divergence.js';
import { checkEvaluation, evaluatorPrompt } from '../../lambdas/core/grounding/fresh-evaluator.js';
import { assertGroundingFits, hallucinationFlagged, PLAYBOOK } from '../../lambdas/core/grounding/playbook.js';
import { checkQuotesExist } from '../../lambdas/core/grounding/quote-exists.js';
import { checkQuotesFirst } from '../../lambdas/core/grounding/quotes-first.js';
import { checkReasoningFirst, checkReasoningNeverActs } from '../../lambdas/core/grounding/reasoning-first.js';
import { admitSources, checkCitedSources } from '../../lambdas/core/grounding/source-whitelist.js';
import type { Claim, SourceDocument } from '../../lambdas/core/integration.js';
import { outputJsonSchema, promptText } from '../../lambdas/core/prompt.js';
import { checkDecision } from '../../lambdas/core/stages/verify.js';
import { shopifyOrderRisk } from '../../lambdas/integrations/shopify-order-risk/index.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const origin = 'zendesk:ticket/1';
const docs: SourceDocument[] = [
  { id: 'ticket.subject', title: 'Subject', text: 'Checkout down for Acme since Monday', origin },
  { id: 'ticket.description', title: 'Description', text: 'I was charged $40.00 twice on 2026-11-02 for order 12345. Card [CARD_1]. Contact @jane at acme.io please.', origin },
];
const trusted = supportTriage.grounding.trustedOrigins;
const claim = (field: string, statement: string, quote_ids: string[] = ['q1']): Claim => ({ field, statement, quote_ids });

describe('the playbook', () => {
  it('has one file per step, ten steps, in the reference text\'s order', () => {
    expect(PLAYBOOK.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const s of PLAYBOOK) expect(existsSync(fileURLToPath(new URL(`../../lambdas/core/grounding/${s.file}`, import.meta.url))), s.file).toBe(true);
    expect(PLAYBOOK.filter((s) => s.modelCall).map((s) => s.check)).toEqual(['fresh-evaluator', 'divergence']);
  });

  it('refuses an integration whose schema and policy disagree', () => {
    const schema = outputJsonSchema(supportTriage.output.schema);
    expect(() => assertGroundingFits('x', supportTriage.grounding, schema, 'insufficient_information')).not.toThrow();
    expect(() => assertGroundingFits('x', { ...supportTriage.grounding, claimFields: ['category'] }, schema, 'insufficient_information')).toThrow(/claims\[\]\.field offers/);
    expect(() => assertGroundingFits('x', { ...supportTriage.grounding, canary: { when: 'always', fields: ['nope'], temperature: 1 } }, schema, 'insufficient_information')).toThrow(/names nope/);
    expect(() => assertGroundingFits('x', { ...supportTriage.grounding, trustedOrigins: [] }, schema, 'insufficient_information')).toThrow(/trustedOrigins is empty/);
    expect(() => assertGroundingFits('x', { ...supportTriage.grounding, highStakes: undefined }, schema, 'insufficient_information')).toThrow(/no highStakes predicate/);
    expect(() => assertGroundingFits('x', { ...supportTriage.grounding, evaluator: { when: 'always', maxTokens: 100, model: 'gpt-9' } }, schema, 'insufficient_information')).toThrow(/gpt-9 has no price/);
    expect(() => assertAbstainable('x', schema, 'i_dont_know')).toThrow(/must offer "i_dont_know"/);
  });

  it('flags a hallucination for failed or retracted grounding checks only', () => {
    expect(hallucinationFlagged([{ check: 'claim-pairing', verdict: 'retracted' }])).toBe(true);
    expect(hallucinationFlagged([{ check: 'confidence-floor', verdict: 'fail' }, { check: 'abstain', verdict: 'fail' }, { check: 'divergence', verdict: 'skipped' }])).toBe(false);
  });
});

describe('step 1: abstain', () => {
  it('sends an abstention to review with the missing items named', () => {
    const f = checkAbstain({ outcome: 'insufficient_information', missing_information: ['which product', ' '] }, 'insufficient_information');
    expect(f).toMatchObject({ ok: false, unretractable: true, data: { missing: ['which product'] } });
    expect(f.detail).toContain('which product');
    expect(checkAbstain({ outcome: 'insufficient_information', missing_information: [] }, 'insufficient_information').detail).toMatch(/without naming/);
    expect(checkAbstain({ outcome: 'triaged' }, 'insufficient_information').ok).toBe(true);
  });
});

describe('step 2: quotes first', () => {
  const fields = ['category', 'priority'];
  it('passes quotes with ids written before the claims and the fields', () => {
    expect(checkQuotesFirst({ reasoning: 'r', evidence: [{ id: 'q1' }, { id: 'q2' }], claims: [], category: 'x', priority: 'y' }, fields, 'quotes-first').ok).toBe(true);
  });
  it('fails claims or fields written before the quotes, missing or repeated ids', () => {
    expect(checkQuotesFirst({ reasoning: 'r', category: 'x', evidence: [{ id: 'q1' }], claims: [] }, fields, 'quotes-first').detail).toMatch(/"category" came before the quotes/);
    expect(checkQuotesFirst({ evidence: [{ quote: 'a' }, { id: 'q1' }] }, fields, 'quotes-first').detail).toMatch(/1 of 2 quotes have no q<n> id/);
    expect(checkQuotesFirst({ evidence: [{ id: 'q1' }, { id: 'q1' }] }, fields, 'quotes-first').detail).toMatch(/repeat \(q1\)/);
    expect(checkQuotesFirst({ claims: [] }, fields, 'quotes-first').detail).toMatch(/no evidence list/);
  });
  it('does not apply in citations mode', () => {
    expect(checkQuotesFirst({}, fields, 'citations')).toMatchObject({ ok: true, skipped: true });
  });
});

describe('step 3: claim–quote pairing', () => {
  const verified = [{ id: 'q1', quote: 'a', source: 's' }];
  it('keeps claims citing a verified quote', () => {
    const f = checkClaimPairing([claim('category', 'x')], verified, { category: 'billing' }, ['category']);
    expect(f.ok).toBe(true);
    expect(f.supported).toHaveLength(1);
  });
  it('retracts claims citing nothing or only unverified quotes', () => {
    const f = checkClaimPairing([claim('category', 'x'), claim('priority', 'y', []), claim('priority', 'z', ['q9'])], verified, { category: 'billing', priority: null }, ['category', 'priority']);
    expect(f.ok).toBe(false);
    expect(f.retractClaims!.map((c) => c.statement)).toEqual(['y', 'z']);
    // priority is null, so it needs no claim: retracting is enough.
    expect(f.unretractable).toBe(false);
  });
  it('cannot be satisfied by retraction when a field that holds a value loses its last claim', () => {
    const f = checkClaimPairing([claim('priority', 'y', ['q7'])], verified, { priority: 'urgent' }, ['priority']);
    expect(f).toMatchObject({ ok: false, unretractable: true, data: { unsupportedFields: ['priority'] } });
  });
  it('reads claims defensively', () => {
    expect(claimsOf({ claims: [{ field: 'a', statement: 's' }, null, 'x', { statement: 'no field' }] })).toEqual([{ field: 'a', statement: 's', quote_ids: [] }]);
    expect(claimsOf({})).toEqual([]);
  });
});

describe('step 4: closed book', () => {
  const index = indexSources(docs);
  it('accepts numbers, dates, names, handles, domains and tokens the sources state', () => {
    expect(ungroundedTokens('s', 'Acme was charged 40 dollars twice for order 12,345 on 2026-11-02; card [CARD_1]; ask @jane at acme.io since Monday.', index)).toEqual([]);
  });
  it('flags a number, a date, a name, a handle, a domain or a token from nowhere', () => {
    const found = ungroundedTokens('s', 'The customer paid $4,000 on 2026-12-01 via Stripe; ask @bob at evil.com about [CARD_2].', index);
    expect(found.map((u) => u.token).sort()).toEqual(['2026-12-01', '4,000', '@bob', 'Stripe', '[CARD_2]', 'evil.com'].sort());
  });
  it('does not take a sentence\'s first word for a name, nor a package version for a handle', () => {
    expect(ungroundedTokens('s', 'Customer was charged twice. Refund requested.', index)).toEqual([]);
    expect(ungroundedTokens('s', 'after upgrading to acme@3 and npm i acme@latest', indexSources([{ id: 'd', title: 'd', text: 'after upgrading to acme@3 and npm i acme@latest', origin: 'o' }]))).toEqual([]);
  });
  it('reads digits in any script and shorthand amounts, and is not fooled by words with digits in them', () => {
    expect(ungroundedTokens('s', 'refund $４,０００', index).map((u) => u.token)).toEqual(['4,000']);
    expect(ungroundedTokens('s', 'refund ٤٠٠٠ EUR', index)).toHaveLength(2); // the amount, and EUR
    expect(ungroundedTokens('s', 'about $4k', index).map((u) => u.token)).toEqual(['4k']);
    expect(ungroundedTokens('s', 'charged $40', index)).toEqual([]);
    expect(ungroundedTokens('s', 'needs 2FA on v2 of the p1 flow', index)).toEqual([]);
    expect(ungroundedTokens('s', 'per Émile at the office', index).map((u) => u.token)).toEqual(['Émile']);
  });
  it('accepts a date or time restated in parts, and small counts the sources spell out', () => {
    const src = indexSources([{ id: 'd', title: 'd', text: 'Failed at 2026-11-25T09:30:00Z. I was charged twice.', origin: 'o' }]);
    expect(ungroundedTokens('s', 'It failed on Nov 25 at 09:30; charged 2 times.', src)).toEqual([]);
    expect(ungroundedTokens('s', 'It failed on Nov 26 and was charged 3 times.', src).map((u) => u.token)).toEqual(['26', '3']);
  });
  it('checks every free-text string that can reach an action, lists and nested fields included', () => {
    const decision = { reasoning: 'Stripe 999', evidence: [{ quote: 'x' }], claims: [], category: 'billing', summary: 'ok', missing_information: ['the version (we fixed this in 4.2.1 per Jane Doe)'], nested: [{ why_not: 'costs $12' }] };
    const schema = { properties: { category: { enum: ['billing'] }, summary: { type: 'string' }, missing_information: { type: 'array', items: { type: 'string' } }, nested: { type: 'array', items: { properties: { why_not: { anyOf: [{ type: 'string' }, { type: 'null' }] } } } } } };
    const text = freeTextOf(decision, schema, ['reasoning', 'evidence', 'claims']);
    expect(text).toEqual({ summary: 'ok', 'missing_information[0]': decision.missing_information[0], 'nested[0].why_not': 'costs $12' });
    const f = checkClosedBook([], text, docs);
    expect(f.data!.ungrounded).toEqual(expect.arrayContaining([expect.objectContaining({ where: 'missing_information[0]', token: '4.2.1' }), expect.objectContaining({ where: 'missing_information[0]', token: 'Jane' })]));
  });
  it('retracts ungrounded claims but cannot retract an ungrounded free-text field', () => {
    const onlyClaim = checkClosedBook([claim('priority', 'Charged 4817 times')], { summary: 'Charged twice' }, docs);
    expect(onlyClaim).toMatchObject({ ok: false, unretractable: false });
    expect(onlyClaim.retractClaims).toHaveLength(1);
    const field = checkClosedBook([], { summary: 'Charged 4817 times' }, docs);
    expect(field).toMatchObject({ ok: false, unretractable: true });
    expect(field.detail).toContain('number "4817" in summary');
  });
  it('passes every number taken from a source and flags any other (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 10_000_001, max: 2 ** 31 }), (nums, invented) => {
        const source = [{ id: 'd', title: 'd', text: `Numbers: ${nums.join(' and ')}.`, origin: 'o' }];
        expect(checkClosedBook([], { summary: `We saw ${nums[0]}` }, source).ok).toBe(true);
        expect(checkClosedBook([], { summary: `We saw ${invented}` }, source).ok).toBe(false);
      }),
    );
  });
});

describe('step 5: citations', () => {
  const sent = [docs[0], docs[1]];
  const text = docs[1].text;
  const start = text.indexOf('I was charged');
  const sentence = 'I was charged $40.00 twice on 2026-11-02 for order 12345.';
  const cite = (over: Record<string, unknown> = {}) => ({ type: 'char_location', cited_text: sentence, document_index: 1, document_title: 'ticket.description', start_char_index: start, end_char_index: start + sentence.length, ...over });

  it('builds evidence with offsets and claims from cited text blocks', () => {
    const mapped = fromCitations([{ text: 'Here is my assessment.' }, { text: 'category: A double charge.', citations: [cite()] }], sent, ['category', 'priority']);
    expect(mapped.problems).toEqual([]);
    expect(mapped.evidence).toEqual([{ id: 'c1', quote: sentence, source: 'ticket.description', location: { start, end: start + sentence.length } }]);
    expect(mapped.claims).toEqual([{ field: 'category', statement: 'A double charge.', quote_ids: ['c1'] }]);
    expect(checkCitations('citations', [{ text: 'x' }], mapped).ok).toBe(true);
    // Step 7 then checks the offsets hold the quote.
    expect(checkQuotesExist(mapped.evidence, sent).finding.ok).toBe(true);
  });
  it('joins the blocks the API splits at citation boundaries back into one claim', () => {
    const mapped = fromCitations([{ text: 'Here is what I found.\n' }, { text: 'category: ' }, { text: 'A double charge', citations: [cite()] }, { text: ' on one order.\n' }, { text: 'priority: ' }, { text: 'Charged twice.', citations: [cite()] }], sent, ['category', 'priority']);
    expect(mapped.problems).toEqual([]);
    expect(mapped.claims).toEqual([
      { field: 'category', statement: 'A double charge on one order.', quote_ids: ['c1'] },
      { field: 'priority', statement: 'Charged twice.', quote_ids: ['c2'] },
    ]);
  });
  it('catches offsets that do not hold the quote, an index that was not sent, and cited text naming no field', () => {
    const shifted = fromCitations([{ text: 'category: x', citations: [cite({ start_char_index: start + 7, end_char_index: start + 7 + sentence.length })] }], sent, ['category']);
    expect(checkQuotesExist(shifted.evidence, sent).finding.detail).toMatch(/offsets .* do not hold the quoted text/);
    const ghost = fromCitations([{ text: 'category: x', citations: [cite({ document_index: 5 })] }], sent, ['category']);
    expect(checkCitations('citations', [{ text: 'x' }], ghost)).toMatchObject({ ok: false });
    expect(ghost.problems[0]).toMatch(/document_index 5, which was not sent/);
    const unnamed = fromCitations([{ text: 'Because of this.', citations: [cite()] }], sent, ['category']);
    expect(unnamed.claims).toEqual([]);
    expect(unnamed.problems[0]).toMatch(/names no claimed field/);
  });
  it('blocks when the model cited nothing, and does not apply in quotes-first mode', () => {
    expect(checkCitations('citations', [], fromCitations([], sent, ['category']))).toMatchObject({ ok: false, unretractable: true });
    expect(checkCitations('quotes-first', undefined, undefined)).toMatchObject({ skipped: true });
  });
});

describe('step 6: fresh-context evaluator', () => {
  const claims = [claim('recommendation', 'Billing and shipping are in different countries.'), claim('recommendation', 'The buyer used 9 cards.')];
  it('sends only the sources and the claims: no system prompt, instructions, reasoning or decision of the generator', () => {
    const reasoning = 'SECRET-REASONING the buyer is a reseller';
    const p = evaluatorPrompt(shopifyOrderRisk, [{ id: 'order.addresses', title: 'Addresses', text: 'Billing and shipping are in different countries.', origin: 'shopify:order/1' }], claims);
    const text = promptText(p);
    expect(text).not.toContain(shopifyOrderRisk.prompt.system);
    expect(text).not.toContain(shopifyOrderRisk.prompt.instructions.slice(0, 60));
    expect(text).not.toContain(reasoning);
    expect(text).toContain('"claim_id":"c2"');
    expect(p.request.tool_choice).toEqual({ type: 'tool', name: 'record_verdicts' });
    expect(p.request.model).toBe(shopifyOrderRisk.model.id);
    expect(evaluatorPrompt({ ...shopifyOrderRisk, grounding: { ...shopifyOrderRisk.grounding, evaluator: { when: 'always', maxTokens: 300, model: 'claude-sonnet-4-5' } } }, [], claims).request.model).toBe('claude-sonnet-4-5');
  });
  it('retracts claims judged unsupported or not judged, and blocks on an unreadable answer or a failed call', () => {
    const run = (answer: unknown) => checkEvaluation({ ran: true, why: 'always', model: 'm', claims, answer });
    expect(run({ verdicts: [{ claim_id: 'c1', verdict: 'supported', quote: 'x' }, { claim_id: 'c2', verdict: 'supported', quote: 'y' }] }).ok).toBe(true);
    const f = run({ verdicts: [{ claim_id: 'c1', verdict: 'supported', quote: 'x' }, { claim_id: 'c2', verdict: 'unsupported', quote: '' }] });
    expect(f.retractClaims).toEqual([claims[1]]);
    expect(run({ verdicts: [{ claim_id: 'c1', verdict: 'supported', quote: 'x' }] }).detail).toMatch(/c2 \(recommendation\) not judged/);
    expect(run({ nope: true })).toMatchObject({ ok: false, unretractable: true });
    // Held to the generator's rule: a "supported" needs a quote that is in the sources.
    const sources = [{ id: 'order.addresses', title: 'A', text: 'Billing and shipping are in different countries.', origin: 'shopify:order/1' }];
    const judged = checkEvaluation({ ran: true, why: 'always', model: 'm', claims, answer: { verdicts: [{ claim_id: 'c1', verdict: 'supported', quote: 'Billing and shipping are in different countries.' }, { claim_id: 'c2', verdict: 'supported', quote: 'The buyer used 9 cards.' }] } }, undefined, sources);
    expect(judged.retractClaims).toEqual([claims[1]]);
    expect(judged.detail).toMatch(/c2 \(recommendation\) supported by a quote that is not in the sources/);
    expect(checkEvaluation({ ran: false, why: 'high stakes', failed: 'cap' })).toMatchObject({ ok: false, unretractable: true });
    expect(checkEvaluation({ ran: false, why: 'not high stakes' })).toMatchObject({ skipped: true });
  });
});

describe('step 7: quotes exist', () => {
  it('retracts invented, near-verbatim and phantom-source quotes; tolerates whitespace and curly quotes', () => {
    const { finding, found } = checkQuotesExist([
      { id: 'q1', quote: 'I  was charged $40.00 twice', source: 'ticket.description' },
      { id: 'q2', quote: 'I was charged $40.00 twice on 2026-11-02 for order 1234.', source: 'ticket.description' },
      { id: 'q3', quote: 'Checkout down for Acme', source: 'ticket.attachment' },
      { id: 'q4', quote: 'Everything is on fire', source: 'ticket.subject' },
    ], docs);
    expect(found.map((e) => e.id)).toEqual(['q1']);
    expect(finding.retractQuotes!.map((e) => e.id)).toEqual(['q2', 'q3', 'q4']);
  });
});

describe('step 8: divergence canary', () => {
  const policy = supportTriage.grounding;
  it('runs for high-stakes decisions only, unless the policy says always', () => {
    expect(wants(policy.canary, policy, { priority: 'urgent', escalation_reason: null }).run).toBe(true);
    expect(wants(policy.canary, policy, { priority: 'low', escalation_reason: null })).toMatchObject({ run: false, why: expect.stringContaining('not high stakes') });
    expect(wants({ when: 'always' }, policy, {}).run).toBe(true);
    expect(wants(undefined, policy, {}).run).toBe(false);
  });
  it('flags two samples that disagree on a compared field, and an undrawn second sample', () => {
    const first = { outcome: 'triaged', category: 'billing', priority: 'urgent', summary: 'a' };
    expect(checkDivergence(first, { ran: true, why: 'w', decision: { ...first, summary: 'b' } }, ['outcome', 'category', 'priority']).ok).toBe(true);
    const f = checkDivergence(first, { ran: true, why: 'w', decision: { ...first, category: 'technical' } }, ['outcome', 'category', 'priority']);
    expect(f).toMatchObject({ ok: false, unretractable: true, data: { fields: ['category'] } });
    expect(checkDivergence(first, { ran: false, why: 'w', failed: 'model down' }, ['category']).ok).toBe(false);
  });
});

describe('step 9: source whitelist', () => {
  it('keeps documents from untrusted origins out of the prompt and names them', () => {
    const { documents, lineage } = admitSources([...docs, { id: 'kb', title: 'KB', text: 'x', origin: 'https://example.com/kb' }], trusted);
    expect(documents.map((d) => d.id)).toEqual(['ticket.subject', 'ticket.description']);
    expect(lineage.refused).toEqual([{ id: 'kb', origin: 'https://example.com/kb', reason: expect.stringContaining('matches none of: Zendesk ticket') }]);
    expect(lineage.admitted[0]).toEqual({ id: 'ticket.subject', origin, trustedAs: 'Zendesk ticket' });
  });
  it('refuses citations of web pages or documents never provided', () => {
    const f = checkCitedSources([{ quote: 'x', source: 'ticket.subject' }, { quote: 'y', source: 'https://en.wikipedia.org/wiki/Refund' }], docs, trusted);
    expect(f.ok).toBe(false);
    expect(f.retractQuotes).toEqual([{ quote: 'y', source: 'https://en.wikipedia.org/wiki/Refund' }]);
  });
});

describe('step 10: reasoning first', () => {
  it('needs a non-empty reasoning written before everything else', () => {
    expect(checkReasoningFirst({ reasoning: 'because', evidence: [] }, 'reasoning').ok).toBe(true);
    expect(checkReasoningFirst({ evidence: [], reasoning: 'because' }, 'reasoning').detail).toMatch(/came after "evidence"/);
    expect(checkReasoningFirst({ reasoning: ' ', evidence: [] }, 'reasoning').ok).toBe(false);
  });
  it('finds the reasoning smuggled into an action parameter', () => {
    const reasoning = 'The customer sounds upset and I infer the plan is Enterprise tier.';
    expect(checkReasoningNeverActs(reasoning, [{ name: 'a', connector: 'slack', params: { text: 'Charged twice' } }]).ok).toBe(true);
    expect(checkReasoningNeverActs(reasoning, [{ name: 'a', connector: 'slack', params: { text: `Note: ${reasoning}` } }]).ok).toBe(false);
  });
});

describe('checkDecision with a policy', () => {
  const good = {
    reasoning: 'duplicate charge',
    evidence: [{ id: 'q1', quote: 'I was charged $40.00 twice on 2026-11-02 for order 12345.', source: 'ticket.description' }],
    claims: [claim('category', 'Charged twice for order 12345.'), claim('priority', 'Charged twice.')],
    outcome: 'triaged', summary: 'Customer was charged $40.00 twice', category: 'billing', priority: 'high', escalation_reason: null, confidence: 0.9, missing_information: [],
  };
  it('sends an invented fact in missing_information (which reaches the Zendesk note) to review', () => {
    expect(checkDecision(supportTriage, { ...good, missing_information: ['Confirm the $4,000 refund Stripe promised'] }, docs).blocked).toMatchObject({ to: 'review', code: 'UNGROUNDED_CLAIM' });
  });
  it('sends an invented amount in the summary to review though every quote is real', () => {
    expect(checkDecision(supportTriage, { ...good, summary: 'Customer was charged $4,000 and threatens a lawsuit' }, docs).blocked).toMatchObject({ to: 'review', code: 'UNGROUNDED_CLAIM' });
  });
  it('rejects to the DLQ when the policy says reject', () => {
    const strict = { ...supportTriage, grounding: { ...supportTriage.grounding, onFail: { 'closed-book': 'reject' as const } } };
    expect(checkDecision(strict, { ...good, summary: 'Charged $4,000' }, docs).blocked).toMatchObject({ to: 'dlq', code: 'GROUNDING_REJECTED' });
  });
  it('retracts an unpaired claim and acts when the field keeps another', () => {
    const v = checkDecision(supportTriage, { ...good, claims: [...good.claims, claim('category', 'Unpaired.', [])] }, docs);
    expect(v.blocked).toBeUndefined();
    expect(v.retractedClaims).toEqual([claim('category', 'Unpaired.', [])]);
    expect(v.checks.find((c) => c.check === 'claim-pairing')!.verdict).toBe('retracted');
  });
  it('skips the model-only steps for the baseline but still checks its quotes', () => {
    const v = checkDecision(supportTriage, { ...good, claims: [], evidence: [{ quote: 'not there', source: 'ticket.description' }] }, docs, { source: 'baseline' });
    expect(v.checks.filter((c) => c.verdict === 'skipped').map((c) => c.check)).toEqual(['reasoning-first', 'quotes-first', 'citations', 'fresh-evaluator', 'claim-pairing', 'divergence']);
    expect(v.blocked).toMatchObject({ code: 'INSUFFICIENT_EVIDENCE' });
  });
  it('sends a divergent second sample to review', () => {
    const v = checkDecision(supportTriage, good, docs, { grounding: { canary: { ran: true, why: 'high stakes', decision: { ...good, priority: 'low' } } } });
    expect(v.blocked).toMatchObject({ to: 'review', code: 'DIVERGENT_SAMPLES' });
  });
});
