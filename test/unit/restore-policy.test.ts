import { describe, expect, it } from 'vitest';
import { restoreParams } from '../../lambdas/core/exactly-once.js';
import type { ActionRequest } from '../../lambdas/core/integration.js';
import { triageActions } from '../../lambdas/integrations/support-triage/actions.js';

const tokens = { '[EMAIL_1]': 'jane@example.org', '[PHONE_1]': '+44 20 7946 0958', '[CARD_1]': '4111 1111 1111 1111' };

describe('restoreParams', () => {
  it('restores nothing for an action that names no restoration', () => {
    const action: ActionRequest = { name: 'slack.post', connector: 'slack', params: { text: 'call [PHONE_1] about [CARD_1]' } };
    expect(restoreParams(action, tokens)).toEqual(action.params);
  });

  it('restores only the named parameters and kinds', () => {
    const action: ActionRequest = {
      name: 'zendesk.update_ticket', connector: 'zendesk',
      params: { internalNote: 'mail [EMAIL_1], card [CARD_1]', tags: ['[EMAIL_1]'] },
      restore: { params: ['internalNote'], kinds: ['EMAIL', 'PHONE'] },
    };
    expect(restoreParams(action, tokens)).toEqual({ internalNote: 'mail jane@example.org, card [CARD_1]', tags: ['[EMAIL_1]'] });
  });
});

describe('support-triage actions', () => {
  const decision = {
    outcome: 'triaged' as const, reasoning: 'r', summary: 'Card [CARD_1] charged; call [PHONE_1]', category: 'billing' as const, priority: 'urgent' as const,
    escalation_reason: 'payments failing for [EMAIL_1]', confidence: 0.9, missing_information: [], evidence: [{ quote: 'q', source: 'ticket.description' }], claims: [],
  };
  const input = { ticketId: '1', accountId: 1, subject: 's', description: 'd', requesterId: '2', tags: [], vendorPriority: null, createdAt: '2026-01-01T00:00:00Z', channel: 'web' };

  it('never lets a card number back into any action, nor any PII into Slack', () => {
    const actions = triageActions(decision, input as never);
    const sent = actions.map((a) => restoreParams(a, tokens));
    expect(JSON.stringify(sent)).not.toContain('4111 1111 1111 1111');
    const slack = sent[actions.findIndex((a) => a.connector === 'slack')];
    expect(JSON.stringify(slack)).not.toMatch(/jane@example\.org|7946/);
  });
});
