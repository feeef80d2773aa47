import type { ActionRequest } from '../../core/integration.js';
import type { TicketInput } from './contract.js';
import type { TriageDecision } from './output.js';

/**
 * Layer 5 routing: a verified triage decision becomes a Zendesk ticket update, plus a Slack
 * alert when the ticket is urgent. Built only from the decision's public fields; `reasoning`
 * stays in the audit log and never reaches a downstream system.
 */

/** Slack channel that receives urgent tickets. */
export const URGENT_CHANNEL = '#support-urgent';

/** Tag every ticket touched by this integration carries, so agents can filter on it. */
export const SEAMWORK_TAG = 'seamwork';

/** Action names: stable, they are part of the idempotency key. */
export const ACTION_UPDATE_TICKET = 'zendesk.update_ticket';
export const ACTION_POST_URGENT = 'slack.post_urgent';

/** The Zendesk internal note: what the agent sees on the ticket. Never the reasoning. */
export function internalNote(decision: TriageDecision): string {
  const lines = [
    'Seamwork triage (automated)',
    `Summary: ${decision.summary}`,
    `Category: ${decision.category}`,
    `Priority: ${decision.priority}`,
    `Confidence: ${decision.confidence.toFixed(2)}`,
  ];
  if (decision.escalation_reason) lines.push(`Escalation: ${decision.escalation_reason}`);
  if (decision.evidence.length > 0) {
    lines.push('Evidence:');
    for (const e of decision.evidence) lines.push(`- "${e.quote}" (${e.source})`);
  }
  if (decision.missing_information.length > 0) {
    lines.push('Ask the customer for:');
    for (const m of decision.missing_information) lines.push(`- ${m}`);
  }
  return lines.join('\n');
}

/** Routes a verified decision to its actions; an abstention leads to none. */
export function triageActions(decision: TriageDecision, input: TicketInput): ActionRequest[] {
  if (decision.outcome === 'insufficient_information') return [];

  const tags = [SEAMWORK_TAG, `category:${decision.category}`, `priority:${decision.priority}`];
  if (decision.escalation_reason) tags.push('escalated');

  const actions: ActionRequest[] = [
    {
      name: ACTION_UPDATE_TICKET,
      connector: 'zendesk',
      params: {
        ticketId: input.ticketId,
        tags,
        priority: decision.priority,
        internalNote: internalNote(decision),
      },
      // Agents may see the customer's own email and phone in the private note (Zendesk holds them
      // already); card numbers stay tokenised, and Slack gets nothing restored.
      restore: { params: ['internalNote'], kinds: ['EMAIL', 'PHONE'] },
    },
  ];

  if (decision.priority === 'urgent') {
    const reason = decision.escalation_reason ? ` — ${decision.escalation_reason}` : '';
    actions.push({
      name: ACTION_POST_URGENT,
      connector: 'slack',
      params: {
        channel: URGENT_CHANNEL,
        text: `:rotating_light: Urgent ${decision.category} ticket #${input.ticketId}: ${decision.summary}${reason}`,
      },
    });
  }
  return actions;
}
