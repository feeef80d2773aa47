import type { ActionRequest } from '../integration.js';
import { pass, type Finding } from './finding.js';

/**
 * Step 10 — reasoning before claims. The reasoning field must be present, non-empty and the first
 * thing the model wrote — before the quotes, the claims and every decision field — so faulty
 * reasoning is visible before it becomes an output. It is kept in the audit record and removed
 * before actions are built (`forAction`); {@link checkReasoningNeverActs} proves that.
 *
 * @param raw the model's output object, keys in the order the model wrote them
 */
export function checkReasoningFirst(raw: Record<string, unknown>, field: string): Finding {
  const keys = Object.keys(raw);
  const value = raw[field];
  if (typeof value !== 'string' || value.trim() === '') {
    return { check: 'reasoning-first', step: 10, ok: false, detail: `The output has no "${field}" before its claims.`, data: { order: keys }, unretractable: true };
  }
  if (keys[0] !== field) {
    return {
      check: 'reasoning-first', step: 10, ok: false, unretractable: true,
      detail: `"${field}" came after ${keys.slice(0, keys.indexOf(field)).map((k) => `"${k}"`).join(', ')}: the claims were written before the reasoning.`,
      data: { order: keys },
    };
  }
  return pass('reasoning-first', 10, `"${field}" (${value.length} characters) was written before any quote or claim; it stays in the audit record.`);
}

/** Shortest reasoning passage searched for in action parameters: shorter ones match by chance. */
const MIN_LEAK = 24;

/**
 * The other half of step 10: no action parameter carries the reasoning (or a 24-character run of
 * it). Actions are built from `forAction(decision)`, which drops the field; this check makes sure
 * no integration's action builder found another way to it.
 */
export function checkReasoningNeverActs(reasoning: unknown, actions: ActionRequest[]): Finding {
  if (typeof reasoning !== 'string' || reasoning.length < MIN_LEAK) return pass('reasoning-first', 10, 'No reasoning long enough to leak into an action.');
  const params = JSON.stringify(actions.map((a) => a.params));
  for (let i = 0; i + MIN_LEAK <= reasoning.length; i += 8) {
    const piece = reasoning.slice(i, i + MIN_LEAK);
    if (params.includes(JSON.stringify(piece).slice(1, -1))) {
      return { check: 'reasoning-first', step: 10, ok: false, unretractable: true, detail: 'An action parameter carries the model\'s reasoning, which must stay in the audit record.', data: { excerptAt: i } };
    }
  }
  return pass('reasoning-first', 10, 'The reasoning reaches no action.');
}
