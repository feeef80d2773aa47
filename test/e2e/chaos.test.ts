import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { FileKeyRing } from '../../lambdas/aws/audit-keys.js';
import { DynamoDedupeIndex } from '../../lambdas/aws/dedupe-index.js';
import { DynamoCostLedger } from '../../lambdas/aws/dynamo-stores.js';
import { S3AuditStore } from '../../lambdas/aws/s3-audit-store.js';
import { verifyAuditLog } from '../../lambdas/core/audit/verify-log.js';
import type { AuditRecord } from '../../lambdas/core/audit-record.js';
import { ENV, QUEUE_STAGES } from '../../lambdas/core/config-keys.js';
import { toMicroUsd } from '../../lambdas/core/cost.js';
import type { RejectionRecord } from '../../lambdas/core/envelope.js';
import { CRASH_LOG } from '../../lambdas/core/faults.js';
import type { GoldenExample, IntegrationDefinition } from '../../lambdas/core/integration.js';
import { summariseDecision } from '../../lambdas/core/trace.js';
import { INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { holdEvery } from '../../lib/cli/held-messages.js';
import { localSecret } from '../../lib/cli/start.js';
import { DELIVERY_ID_HEADER, deliver, vendorHeaders } from '../../lib/local/fixtures.js';
import { HTTP_FAULTS } from '../../lib/local/model-server/faults.js';
import { startTestStack } from '../support/local-stack.js';

/**
 * Invariants 1 and 2 under the faults they exist for, counted at the far end: at the connector
 * stand-ins (what the vendor holds), at the model server (what was billed), in the parked queues
 * and in the ledger — not only in Seamwork's own audit log.
 *
 * Faults, all at once: duplicate SQS deliveries at every stage, vendors that commit and then
 * fail, hang or drop the connection, vendors that fail before committing, handlers that die
 * after their side effect (after the stage's work, after its commit, after a vendor call),
 * ingest dying between the queue send and the dedupe confirm, and a model that rate-limits,
 * overloads, errors, times out and answers with broken or invented output.
 *
 * Sized for CI (SEAMWORK_CHAOS_EVENTS, default 150); the README gives a 10,000-event run.
 */
const EVENTS = Number(process.env.SEAMWORK_CHAOS_EVENTS ?? 150);
const SEED = Number(process.env.SEAMWORK_CHAOS_SEED ?? 7);
const CRASH = { 'after-stage-work': 0.02, 'after-commit': 0.02, 'after-vendor-call': 0.03, 'after-ingest-send': 0.02 };
const MODEL_FAULTS = { rate_limit: 0.02, overloaded: 0.03, server_error: 0.02, timeout: 0.01, malformed_json: 0.01, schema_break: 0.01, invented_quote: 0.02 };

type Stack = Awaited<ReturnType<typeof startTestStack>>;
interface Sent { integration: string; decisionId: string; attempts: number }

/** A vendor's delivery loop: retries 5xx and dropped connections with backoff, as Zendesk, GitHub and Shopify do. */
async function deliverLikeAVendor(url: string, body: string, headers: () => Record<string, string>): Promise<{ status: number; body: Record<string, unknown>; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    let res: { status: number; body: Record<string, unknown> };
    try {
      res = await deliver(url, body, headers());
    } catch (err) {
      res = { status: 0, body: { error: (err as Error).message } };
    }
    if ((res.status > 0 && res.status < 500) || attempt >= 60) return { ...res, attempts: attempt };
    await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** Math.min(attempt, 5))));
  }
}

async function mapPool<T, R>(items: T[], width: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

describe(`exactly once under chaos (${EVENTS} events)`, () => {
  let stack: Stack;
  const sent: Sent[] = [];
  const records = new Map<string, AuditRecord[]>();
  const parked = new Map<string, Array<{ decisionId: string; why: string }>>();

  beforeAll(async () => {
    CRASH_LOG.length = 0;
    stack = await startTestStack({
      // As in AWS, a message reappears only after a dead invocation's leases have lapsed.
      // A long run shares two cores with a deep backlog: give each invocation room, so the run
      // measures crashes, not an event loop too busy to finish an invocation in time.
      functionTimeoutSeconds: EVENTS > 1000 ? 90 : 60, visibilityTimeoutSeconds: EVENTS > 1000 ? 100 : 70,
      duplicateDeliveries: { rate: 0.07 },
      env: { [ENV.CHAOS]: JSON.stringify({ seed: SEED, crash: CRASH }), [ENV.CONNECTOR_TIMEOUT_MS]: '1500' },
    });
    stack.model!.setFaults({ seed: SEED, rates: MODEL_FAULTS, timeoutMs: 300 });
    stack.connectors.setChaos({ seed: SEED, failBeforeRate: 0.03, commitThenFailRate: 0.02, hangRate: 0.01, resetRate: 0.01 });

    const defs = Object.values(INTEGRATIONS);
    const pool = defs.flatMap((def) => readFileSync(def.eval.goldenPath, 'utf8').split('\n').filter((l) => l.trim())
      .map((l) => ({ def, g: JSON.parse(l) as GoldenExample })));
    const events = Array.from({ length: EVENTS }, (_, i) => pool[(i * 7) % pool.length]);
    const started = Date.now();
    let delivered = 0;
    const results = await mapPool(events, 8, async ({ def, g }, i) => {
      const secret = localSecret(stack, def);
      const body = JSON.stringify(withEventId(def, g.body, `chaos-${SEED}-${i}`, i));
      // Delivery ids fixed by the seed, so the same run picks the same decisions to crash.
      const fixed = Object.fromEntries(Object.entries(g.headers ?? {}).map(([k, v]) => [k, DELIVERY_ID_HEADER.test(k) ? seededUuid(`${SEED}:${i}:${k}`) : v]));
      const url = stack.webhookUrl(def.name);
      // The vendor's retries resend the same delivery: the same body and delivery id, a fresh signature.
      const res = await deliverLikeAVendor(url, body, () => vendorHeaders(def, body, secret, 'valid', new Date(), { url, headers: fixed }));
      if (EVENTS >= 1000 && ++delivered % 500 === 0) process.stderr.write(`chaos: ${delivered}/${EVENTS} delivered (${Math.round((Date.now() - started) / 1000)} s)\n`);
      return { def, res };
    });
    for (const { def, res } of results) {
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      sent.push({ integration: def.name, decisionId: String(res.body.decisionId), attempts: res.attempts });
    }
    await stack.drain(Math.max(600_000, EVENTS * 200));
    if (EVENTS >= 1000) process.stderr.write(`chaos: drained (${Math.round((Date.now() - started) / 1000)} s); reading ${EVENTS} decisions back\n`);
    for (const s of sent) records.set(s.decisionId, await stack.records(s.integration, s.decisionId));
    for (const q of ['review', 'quarantine', ...QUEUE_STAGES.map((st) => `${st}-dlq`)]) {
      const url = q.endsWith('-dlq') ? stack.env[ENV.dlqUrl(q.replace(/-dlq$/, ''))] : stack.env[ENV.queueUrl(q)];
      parked.set(q, (await holdEvery<RejectionRecord>(url, { unreadable: () => ({ decisionId: 'unreadable' }) as RejectionRecord })).map((m) => ({
        decisionId: m.item.decisionId ?? (m.item as unknown as { envelope?: { decisionId?: string } }).envelope?.decisionId ?? 'unknown',
        // A body without a code is an envelope SQS moved there itself.
        why: m.item.code ? `${m.item.code}: ${m.item.reason}` : 'parked by SQS',
      })));
    }
  }, Math.max(900_000, EVENTS * 300));

  afterAll(async () => {
    await stack?.stop();
  });

  it('injected every kind of fault it promises, at the rates it promises', () => {
    const stats = stack.pollerStats();
    const crashes = new Map<string, number>();
    for (const c of CRASH_LOG) crashes.set(c.point, (crashes.get(c.point) ?? 0) + 1);
    const faulted = stack.connectors.requests().filter((r) => r.fault);
    const modelFaults = stack.model!.faultLog();
    console.log(JSON.stringify({
      events: EVENTS, vendorRetries: sent.reduce((a, s) => a + s.attempts - 1, 0),
      duplicatesInjected: Object.fromEntries(QUEUE_STAGES.map((s) => [s, stats[s].duplicatesInjected])),
      crashes: Object.fromEntries(crashes), connectorFaults: faulted.length, connectorRequests: stack.connectors.requests().length,
      modelFaults: modelFaults.length, modelRequests: stack.model!.stats().messages,
    }));
    // Duplicates at every stage: at least 5% of the decisions that reached it, give or take the draw.
    for (const stage of QUEUE_STAGES) expect(stats[stage].duplicatesInjected, stage).toBeGreaterThanOrEqual(Math.floor(0.05 * stats[stage].firstDeliveries));
    for (const point of Object.keys(CRASH)) expect(crashes.get(point) ?? 0, point).toBeGreaterThan(0);
    expect(faulted.filter((r) => r.fault !== 'before').length).toBeGreaterThan(0);
    expect(modelFaults.length / stack.model!.stats().messages).toBeGreaterThanOrEqual(0.08);
  });

  it('loses nothing: every accepted event ends in exactly one outcome (invariant 1)', () => {
    expect(new Set(sent.map((s) => s.decisionId)).size).toBe(EVENTS);
    for (const s of sent) {
      const recs = records.get(s.decisionId)!;
      const outcomes = recs.filter((r) => typeof r.data.outcome === 'string');
      expect(outcomes.map((r) => `${r.stage}:${r.data.outcome}`), `${s.decisionId}: ${recs.map((r) => `${r.seq}:${r.stage}/${r.kind}#${r.attempt}`).join(' ')}`).toHaveLength(1);
      expect(['acted', 'baseline', 'review', 'quarantine', 'dlq']).toContain(summariseDecision(recs).outcome);
    }
  });

  it('writes one outcome per stage of a decision: redeliveries add nothing but retries (invariant 2)', () => {
    for (const s of sent) {
      const bySlot = new Map<string, AuditRecord[]>();
      for (const r of records.get(s.decisionId)!) if (r.kind !== 'attempt_failed') bySlot.set(`${r.seq}:${r.prevHash}`, [...(bySlot.get(`${r.seq}:${r.prevHash}`) ?? []), r]);
      for (const [slot, siblings] of bySlot) expect(siblings.map((r) => `${r.stage}/${r.kind}`), `${s.decisionId} @ ${slot}`).toHaveLength(1);
    }
  });

  it('runs every action once at the vendor, counted at the stand-ins (invariant 2)', () => {
    const marked = stack.connectors.effects().filter((e) => e.kind === 'comment' || e.kind === 'message');
    const keyOf = (e: (typeof marked)[number]) => markerOf(e.text) ?? ((e.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key);
    const byKey = new Map<string, number>();
    for (const e of marked) {
      const key = keyOf(e);
      expect(key, JSON.stringify(e)).toBeTruthy();
      byKey.set(key!, (byKey.get(key!) ?? 0) + 1);
    }
    const duplicates = [...byKey].filter(([, n]) => n > 1);
    expect(duplicates).toEqual([]);
    // Every effect the vendor holds is one the audit log says happened, and the other way round.
    const audited = new Set<string>();
    let actions = 0;
    for (const s of sent) {
      for (const r of records.get(s.decisionId)!.filter((x) => x.kind === 'acted')) {
        for (const a of r.data.results as Array<{ action: string; status: string }>) {
          actions += 1;
          audited.add(`seamwork:v1:${s.decisionId}:${a.action}`);
        }
      }
    }
    expect(actions).toBeGreaterThan(EVENTS / 3);
    for (const key of byKey.keys()) expect(audited.has(key), key).toBe(true);
  });

  it('calls the model no more than the retry loop does: every answer billed is in the audit log once', () => {
    const answered = stack.model!.stats().messages - stack.model!.faultLog().filter((f) => HTTP_FAULTS.has(f.kind)).length;
    let audited = 0;
    for (const s of sent) {
      for (const r of records.get(s.decisionId)!.filter((x) => x.kind === 'inferred' || x.kind === 'cost_refused')) {
        if ((r.data.response as { messageId?: string } | undefined)?.messageId) audited += 1;
        audited += ((r.data.groundingCalls ?? []) as Array<{ response: { messageId?: string } }>).filter((c) => c.response.messageId).length;
      }
    }
    expect({ answered, audited }).toEqual({ answered: audited, audited });
  });

  it('parks each decision once: no duplicate DLQ, review or quarantine entries', { timeout: Math.max(60_000, EVENTS * 20) }, () => {
    for (const [queue, items] of parked) {
      const ids = items.map((i) => i.decisionId);
      expect(ids.length - new Set(ids).size, `${queue}: ${items.map((i) => `${i.decisionId} ${i.why}`).join('; ').slice(0, 2000)}`).toBe(0);
      const expected = sent.filter((s) => {
        const o = summariseDecision(records.get(s.decisionId)!);
        return queue.endsWith('-dlq') ? o.outcome === 'dlq' && records.get(s.decisionId)!.some((r) => r.data.outcome === 'dlq' && `${r.stage}-dlq` === queue) : o.outcome === queue;
      }).length;
      expect(ids.length, queue).toBe(expected);
    }
  });

  it('leaves an audit log that verifies whole: every record sealed by its own writer, no conflict, checkpoints and dedupe table agree', async () => {
    await stack.checkpoint();
    const result = await verifyAuditLog({
      archive: new S3AuditStore(stack.env[ENV.AUDIT_BUCKET]), keys: new FileKeyRing(join(stack.stateDir, 'keys')), index: new DynamoDedupeIndex(stack.env[ENV.TABLE_DEDUPE]),
    });
    expect(result.findings.map((f) => `${f.code}: ${f.message}`)).toEqual([]);
    expect(result.counts.decisions).toBeGreaterThanOrEqual(EVENTS);
    expect(result.counts.notCheckpointed).toBe(0);
  }, Math.max(60_000, EVENTS * 40));

  it('keeps the ledger equal to the audited costs: nothing billed twice, nothing lost', async () => {
    const ledger = new DynamoCostLedger(stack.env[ENV.TABLE_LEDGER]);
    const day = new Date().toISOString().slice(0, 10);
    const spent = await ledger.spent(`global#day#${day}`);
    let audited = 0;
    for (const s of sent) {
      for (const r of records.get(s.decisionId)!.filter((x) => x.kind === 'inferred')) {
        const usage = r.data.usage as { costUsd: number; groundingCalls?: unknown[] } | undefined;
        if (usage) audited += toMicroUsd(usage.costUsd);
      }
    }
    expect({ spent, audited, off: spent - audited }).toMatchObject({ off: expect.toSatisfy((d: number) => Math.abs(d) <= sent.length * 3) });
  });
});

/**
 * The event as a distinct delivery: a fresh vendor event id where the integration reads it from
 * the body (Zendesk), and a body of its own where the dedupe also claims the body's hash (GitHub,
 * Shopify), changing a field no decision reads.
 */
function withEventId(def: IntegrationDefinition, body: unknown, id: string, n: number): unknown {
  const b = structuredClone(body) as Record<string, any>;
  if (def.name === 'support-triage') b.id = id;
  if (def.name === 'github-issue-triage') b.issue.id = 900_000_000 + n;
  if (def.name === 'shopify-order-risk') b.token = `${b.token}-${id}`;
  return b;
}

/** A UUID-shaped id derived from a name (deterministic, unlike randomUUID). */
function seededUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function markerOf(text: string | undefined): string | undefined {
  return text ? /<!-- seamwork:(seamwork:v1:[^ ]+) -->/.exec(text)?.[1] : undefined;
}
