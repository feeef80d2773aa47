import { pass, type Finding } from './finding.js';

/**
 * Step 1 — permission to abstain. Every output schema carries an abstention outcome (the
 * integration's `output.abstainOutcome`, checked at registration by `assertAbstainable`); a
 * decision that takes it goes to review with the missing items named. The abstain rate is the
 * `Abstained` / `DecisionJudged` metrics, alarmed both ways (lib/cloud/alarms.ts): too often the
 * model gives up, too rarely it guesses.
 */
export function checkAbstain(decision: Record<string, unknown>, abstainOutcome: string): Finding {
  if (decision.outcome !== abstainOutcome) return pass('abstain', 1, `The model answered ${String(decision.outcome)}, not ${abstainOutcome}.`);
  const missing = Array.isArray(decision.missing_information) ? decision.missing_information.filter((m): m is string => typeof m === 'string' && m.trim() !== '') : [];
  return {
    check: 'abstain',
    step: 1,
    ok: false,
    detail: missing.length
      ? `The model answered ${abstainOutcome}; missing: ${missing.join('; ')}.`
      : `The model answered ${abstainOutcome} without naming what is missing.`,
    data: { missing },
    unretractable: true,
  };
}

/**
 * Registration-time half of step 1: the output schema must offer the abstention outcome and a
 * `missing_information` list, or the model has no honest way to say it does not know.
 */
export function assertAbstainable(name: string, jsonSchema: Record<string, unknown>, abstainOutcome: string): void {
  const props = (jsonSchema.properties ?? {}) as Record<string, { enum?: unknown[]; type?: unknown }>;
  if (!props.outcome?.enum?.includes(abstainOutcome)) {
    throw new Error(`Integration ${name}: the output schema's "outcome" must offer "${abstainOutcome}" (grounding step 1, permission to abstain).`);
  }
  if (props.missing_information?.type !== 'array') {
    throw new Error(`Integration ${name}: the output schema needs a "missing_information" array so an abstention names what is missing (grounding step 1).`);
  }
}
