import { describe, expect, it } from 'vitest';
import type { DecisionSummary } from '../../lambdas/core/trace.js';
import { describeChecks } from '../../lib/cli/format.js';

const summary = (checks: Array<[string, string]>) => ({ checks: checks.map(([check, verdict]) => ({ check, verdict, detail: '' })) }) as unknown as DecisionSummary;

describe('describeChecks', () => {
  it('folds passing grounding checks into one mark and leaves skipped ones out', () => {
    expect(describeChecks(summary([['output-schema', 'pass'], ['reasoning-first', 'pass'], ['citations', 'skipped'], ['quote-exists', 'pass'], ['abstain', 'pass'], ['min-evidence', 'pass'], ['confidence-floor', 'pass']])))
      .toBe('schema✓ grounding 2✓ evidence✓ conf✓');
  });
  it('names the grounding checks that retracted or failed, and an abstention', () => {
    expect(describeChecks(summary([['output-schema', 'pass'], ['quote-exists', 'retracted'], ['claim-pairing', 'fail'], ['divergence', 'pass'], ['abstain', 'fail']])))
      .toBe('schema✓ quotes↶ claims✗ abstained');
  });
});
