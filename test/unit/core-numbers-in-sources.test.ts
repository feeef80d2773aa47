import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyNumbers } from '../../lambdas/core/grounding/numbers-in-sources.js';
import { checkDecision } from '../../lambdas/core/stages/verify.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';

const docs = [{ id: 'ticket.description', title: 'Description', text: 'I was charged $40.00 twice on 2026-11-02 for order 12345. Card [CARD_1].', origin: 'zendesk:ticket/1' }];

describe('verifyNumbers', () => {
  it('accepts numbers the sources state, whatever the separators', () => {
    expect(verifyNumbers({ summary: 'Charged 40.00 twice for order 12,345 on 2026-11-02' }, docs)).toEqual([]);
  });

  it('flags a number that appears in no source', () => {
    expect(verifyNumbers({ summary: 'Charged $4,000 and threatens a lawsuit' }, docs)).toEqual([{ field: 'summary', number: '4,000' }]);
  });

  it('does not take the digits of a vault token for a number', () => {
    expect(verifyNumbers({ summary: 'Card [CARD_1] charged' }, docs)).toEqual([]);
    expect(verifyNumbers({ summary: 'order 1 of 1' }, docs)).toEqual([{ field: 'summary', number: '1' }, { field: 'summary', number: '1' }]);
  });

  it('ignores non-string fields', () => {
    expect(verifyNumbers({ escalation_reason: null, confidence: 0.9 }, docs)).toEqual([]);
  });

  it('passes every number taken from a source and flags any other (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 10_000_001, max: 2 ** 31 }), (nums, invented) => {
        const source = [{ id: 'd', title: 'd', text: `Numbers: ${nums.join(' and ')}.`, origin: 'o' }];
        expect(verifyNumbers({ summary: `We saw ${nums[0]}` }, source)).toEqual([]);
        expect(verifyNumbers({ summary: `We saw ${invented}` }, source)).toHaveLength(1);
      }),
    );
  });
});

describe('verify with the closed-book number check', () => {
  it('sends a decision whose summary invents an amount to review, though its quote is real', () => {
    const v = checkDecision(supportTriage, {
      outcome: 'triaged', reasoning: 'r', summary: 'Customer was charged $4,000 and threatens a lawsuit', category: 'billing', priority: 'urgent',
      escalation_reason: 'legal threat', confidence: 0.9, missing_information: [],
      evidence: [{ quote: 'I was charged $40.00 twice on 2026-11-02 for order 12345.', source: 'ticket.description' }],
    }, docs);
    expect(v.blocked).toMatchObject({ to: 'review', code: 'UNGROUNDED_NUMBER' });
  });
});
