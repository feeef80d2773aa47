import type { ActionRequest } from '../../core/integration.js';
import type { OrderInput } from './contract.js';
import { FACT_DOCS } from './documents.js';
import { ABSTAIN_OUTCOME, type OrderRiskDecision } from './output.js';

/**
 * Layer 5 routing: a verified order-risk decision becomes an order tag, plus a Slack alert when a
 * human should look. Nothing here cancels, refunds or holds an order: a `cancel` recommendation is
 * a tag and an alert, and a person decides. Built only from the decision's public fields and the
 * order's name and total; `reasoning` stays in the audit log.
 */

/** Action names: stable, they are part of the idempotency key. */
export const ACTION_TAG_ORDER = 'shopify.add_order_tags';
export const ACTION_POST_ALERT = 'slack.post_order_risk';

/** Tag prefix; the full tag is `seamwork-risk:<recommendation>`, so staff can filter orders on it. */
export const RISK_TAG_PREFIX = 'seamwork-risk:';

/** The tag an order gets for a recommendation. */
export const riskTag = (recommendation: OrderRiskDecision['recommendation']): string => `${RISK_TAG_PREFIX}${recommendation}`;

/**
 * The evidence line shown in Slack: the first verified quote from a document built only from
 * derived facts. Never the customer's note or product titles — free text can hold a name or an
 * address no detector recognises, and Slack is not where the order's personal data lives.
 */
export function alertEvidence(decision: OrderRiskDecision): { quote: string; source: string } | undefined {
  return decision.evidence.find((e) => FACT_DOCS.includes(e.source));
}

/** The Slack alert text: order name, total, recommendation, signals, one fact. No personal data. */
export function alertText(decision: OrderRiskDecision, input: OrderInput): string {
  const cancel = decision.recommendation === 'cancel';
  const lines = [
    `${cancel ? ':octagonal_sign:' : ':warning:'} Order ${input.name} (${input.totals.total} ${input.currency}): Seamwork recommends ${cancel ? 'CANCELLING it' : 'a REVIEW before fulfilment'} (confidence ${decision.confidence.toFixed(2)}).`,
  ];
  if (decision.risk_signals.length > 0) lines.push(`Signals: ${decision.risk_signals.join(', ')}.`);
  const evidence = alertEvidence(decision);
  if (evidence) lines.push(`Evidence: "${evidence.quote}" (${evidence.source})`);
  lines.push(
    cancel
      ? `Nothing was cancelled: the order is tagged ${riskTag('cancel')} and waits for a person to decide.`
      : `The order is tagged ${riskTag('review')}; nothing else was changed.`,
  );
  return lines.join('\n');
}

/** Routes a verified decision to its actions; an abstention leads to none. */
export function orderRiskActions(decision: OrderRiskDecision, input: OrderInput): ActionRequest[] {
  if (decision.outcome === ABSTAIN_OUTCOME) return [];
  const actions: ActionRequest[] = [
    { name: ACTION_TAG_ORDER, connector: 'shopify', params: { orderGid: input.orderGid, tags: [riskTag(decision.recommendation)] } },
  ];
  if (decision.recommendation !== 'approve') {
    // No `restore`: Slack gets nothing put back, tokens stay tokens.
    actions.push({ name: ACTION_POST_ALERT, connector: 'slack', params: { text: alertText(decision, input) } });
  }
  return actions;
}
