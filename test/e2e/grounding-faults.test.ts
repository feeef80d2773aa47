import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../lambdas/core/audit-record.js';
import { ENV } from '../../lambdas/core/config-keys.js';
import type { CheckResult, RejectionRecord } from '../../lambdas/core/envelope.js';
import { holdEvery } from '../../lib/cli/held-messages.js';
import { hallucinationFlagged } from '../../lambdas/core/grounding/playbook.js';
import type { GoldenExample, GroundingPolicy, IntegrationDefinition } from '../../lambdas/core/integration.js';
import { METRICS } from '../../lambdas/core/metrics.js';
import { metricsOf } from '../../lambdas/core/record-metrics.js';
import { summariseDecision } from '../../lambdas/core/trace.js';
import { INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { localSecret } from '../../lib/cli/start.js';
import { DELIVERY_ID_HEADER, deliver, vendorHeaders } from '../../lib/local/fixtures.js';
import type { FaultKind } from '../../lib/local/model-server/faults.js';
import { startTestStack } from '../support/local-stack.js';

/**
 * Layer 4 end to end under lying: every golden example of every integration goes through the
 * local stack (real HTTP, SQS and S3 emulators, the real SDK against the reference model) while
 * the model server injects the grounding faults at 10% of its answers in total. No decision whose
 * answer carried a fault may reach an action; the hallucination metrics (derived from the audit
 * records, as the handlers derive them) and the review queue must account for every one.
 *
 * The divergence canary normally samples only high-stakes decisions; here it samples every one,
 * so that a divergent answer — which only a second sample can expose — is in play for all of them.
 */
const OUTPUT_FAULTS: FaultKind[] = ['invented_quote', 'near_quote', 'phantom_source', 'off_whitelist_source', 'invented_number', 'unpaired_claim', 'reasoning_last', 'divergent'];
const RATE = 0.1 / OUTPUT_FAULTS.length;

type Stack = Awaited<ReturnType<typeof startTestStack>>;
interface Sent { integration: string; example: string; decisionId: string }

describe('grounding under a lying model (10% of answers faulted)', () => {
  let stack: Stack;
  const sent: Sent[] = [];
  const records = new Map<string, AuditRecord[]>();
  const saved = new Map<string, GroundingPolicy>();

  beforeAll(async () => {
    for (const def of Object.values(INTEGRATIONS)) {
      saved.set(def.name, def.grounding);
      (def as IntegrationDefinition).grounding = { ...def.grounding, canary: { ...(def.grounding.canary ?? { fields: ['outcome'], temperature: 1 }), when: 'always' } };
    }
    stack = await startTestStack();
    stack.model!.setFaults({ seed: 11, rates: Object.fromEntries(OUTPUT_FAULTS.map((k) => [k, RATE])) });
    for (const def of Object.values(INTEGRATIONS)) {
      const secret = localSecret(stack, def);
      const golden = readFileSync(def.eval.goldenPath, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as GoldenExample);
      for (const g of golden) {
        const body = JSON.stringify(g.body);
        const headers = Object.fromEntries(Object.entries(g.headers ?? {}).map(([k, v]) => [k, DELIVERY_ID_HEADER.test(k) ? randomUUID() : v]));
        const url = stack.webhookUrl(def.name);
        const res = await deliver(url, body, vendorHeaders(def, body, secret, 'valid', new Date(), { url, headers }));
        expect(res.status, `${def.name}/${g.id}: ${JSON.stringify(res.body)}`).toBe(202);
        sent.push({ integration: def.name, example: g.id, decisionId: String(res.body.decisionId) });
      }
    }
    await stack.drain(240_000);
    for (const s of sent) records.set(s.decisionId, await stack.records(s.integration, s.decisionId));
  }, 400_000);

  afterAll(async () => {
    for (const def of Object.values(INTEGRATIONS)) (def as IntegrationDefinition).grounding = saved.get(def.name)!;
    await stack?.stop();
  });

  /** The output faults injected into a decision's calls, by purpose (generation, canary, evaluator). */
  function faultsOf(decisionId: string): Array<{ purpose: string; kind: FaultKind }> {
    const log = new Map(stack.model!.faultLog().filter((f) => f.messageId).map((f) => [f.messageId, f.kind]));
    const inferred = records.get(decisionId)!.find((r) => r.kind === 'inferred');
    if (!inferred) return [];
    const calls: Array<{ purpose: string; id?: string }> = [
      { purpose: 'generation', id: (inferred.data.response as { messageId?: string } | undefined)?.messageId },
      ...((inferred.data.groundingCalls ?? []) as Array<{ purpose: string; response: { messageId?: string } }>).map((c) => ({ purpose: c.purpose, id: c.response.messageId })),
    ];
    return calls.flatMap((c) => (c.id && log.has(c.id) ? [{ purpose: c.purpose, kind: log.get(c.id)! }] : []));
  }

  it('sends every golden example through, and each ends in exactly one place', () => {
    expect(sent.length).toBeGreaterThanOrEqual(100);
    for (const s of sent) {
      const outcome = summariseDecision(records.get(s.decisionId)!).outcome;
      expect(['acted', 'review', 'dlq', 'baseline'], `${s.integration}/${s.example}`).toContain(outcome);
    }
  });

  it('injected faults at about the configured rate, of most kinds', () => {
    const applied = stack.model!.faultLog().filter((f) => OUTPUT_FAULTS.includes(f.kind));
    const requests = stack.model!.stats().messages;
    expect(applied.length / requests).toBeGreaterThan(0.04);
    expect(applied.length / requests).toBeLessThan(0.2);
    // Which kinds a 10% draw lands on depends on the prompts' bytes; most must be in play here
    // (the labelled corpus, test/corpus/grounding.jsonl, holds every kind on every example).
    const kinds = new Set(sent.flatMap((s) => faultsOf(s.decisionId).map((f) => f.kind)));
    expect(kinds.size, [...kinds].join(', ')).toBeGreaterThanOrEqual(6);
  });

  it('lets no decision whose answer or second sample was faulted reach an action', () => {
    const faulted = sent.filter((s) => faultsOf(s.decisionId).some((f) => f.purpose !== 'evaluator'));
    expect(faulted.length).toBeGreaterThanOrEqual(10);
    for (const s of faulted) {
      const faults = faultsOf(s.decisionId);
      const recs = records.get(s.decisionId)!;
      const summary = summariseDecision(recs);
      const generation = faults.find((f) => f.purpose === 'generation');
      const canaryDiverged = faults.some((f) => f.purpose === 'canary' && f.kind === 'divergent');
      // A fault in the second sample other than a divergence leaves the decision itself clean.
      if (!generation && !canaryDiverged) continue;
      expect({ decision: `${s.integration}/${s.example}`, faults, outcome: summary.outcome }).toMatchObject({ outcome: 'review' });
      expect(recs.some((r) => r.kind === 'acted')).toBe(false);
    }
  });

  it('accounts for every faulted decision in the hallucination metrics and the review queue', async () => {
    const faulted = sent.filter((s) => faultsOf(s.decisionId).some((f) => f.purpose === 'generation' || (f.purpose === 'canary' && f.kind === 'divergent')));
    let flagged = 0;
    for (const s of faulted) {
      const verified = records.get(s.decisionId)!.find((r) => r.kind === 'verified')!;
      expect(hallucinationFlagged(verified.data.checks as CheckResult[]), `${s.integration}/${s.example}`).toBe(true);
      flagged += metricsOf(verified).filter(([m]) => m === METRICS.HallucinationFlagged).reduce((a, [, v]) => a + v, 0);
    }
    expect(flagged).toBe(faulted.length);
    const review = await holdEvery<RejectionRecord>(stack.env[ENV.queueUrl('review')]);
    const inReview = new Set(review.map((m) => m.item.decisionId));
    for (const s of faulted) expect(inReview.has(s.decisionId), `${s.integration}/${s.example} in the review queue`).toBe(true);
  });

  it('acts on clean decisions, and holds back none of them for grounding', () => {
    const clean = sent.filter((s) => faultsOf(s.decisionId).length === 0);
    let acted = 0;
    for (const s of clean) {
      const recs = records.get(s.decisionId)!;
      const summary = summariseDecision(recs);
      const verified = recs.find((r) => r.kind === 'verified');
      if (verified) expect(hallucinationFlagged(verified.data.checks as CheckResult[]), `${s.integration}/${s.example}`).toBe(false);
      // `baseline`: the local flags keep part of an integration on its rules (sticky rollout buckets).
      if (summary.outcome === 'acted' || summary.outcome === 'baseline') acted += 1;
      // What does not act is the model being honest (abstaining, unsure, thin evidence), never a grounding flag.
      else expect(['INSUFFICIENT_INFORMATION', 'LOW_CONFIDENCE', 'INSUFFICIENT_EVIDENCE'], `${s.integration}/${s.example}: ${JSON.stringify(summary)}`).toContain(summary.code);
    }
    expect(acted / clean.length).toBeGreaterThan(0.5);
  });
});
