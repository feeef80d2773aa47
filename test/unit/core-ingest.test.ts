import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryAuditStore, MemoryMetrics, MemoryQueues, MemoryTokenVault } from '../../lambdas/core/memory-ports.js';
import { MemoryStageLedger } from '../../lambdas/core/memory-ledgers.js';
import { seededFaults } from '../../lambdas/core/faults.js';
import { SimulatedCrash } from '../../lambdas/core/stage-runner.js';
import type { DedupeClaim, DedupeStore } from '../../lambdas/core/ports.js';
import { signZendesk } from '../../lambdas/core/signature/zendesk.js';
import { firstInvalidUtf8, ingestWebhook, type IngestDeps } from '../../lambdas/core/stages/ingest.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { loadFixtures } from '../../lib/local/fixtures.js';

/** The two-phase claim semantics of the DynamoDB store, in memory. */
class MemoryDedupe implements DedupeStore {
  readonly items = new Map<string, { decisionId: string; state: 'pending' | 'enqueued'; leaseUntil: number }>();
  async claim(key: string, decisionId: string, opts: { leaseSeconds: number; now: Date }): Promise<DedupeClaim> {
    const cur = this.items.get(key);
    if (cur && !(cur.state === 'pending' && cur.leaseUntil < opts.now.getTime())) return { claimed: false, decisionId: cur.decisionId, state: cur.state };
    this.items.set(key, { decisionId, state: 'pending', leaseUntil: opts.now.getTime() + opts.leaseSeconds * 1000 });
    return { claimed: true };
  }
  async confirm(key: string, decisionId: string) {
    const cur = this.items.get(key);
    if (cur?.decisionId === decisionId) cur.state = 'enqueued';
  }
  async release(key: string, decisionId: string) {
    if (this.items.get(key)?.decisionId === decisionId) this.items.delete(key);
  }
}

const secret = 'unit-test-signing-secret-0001';
const body = loadFixtures(supportTriage).find((f) => f.name === 'clean-billing-duplicate-charge')!.body;
const now = new Date();
const timestamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
const request = () => ({
  integration: 'support-triage',
  body: Buffer.from(body),
  headers: { 'x-zendesk-webhook-signature': signZendesk(body, timestamp, secret), 'x-zendesk-webhook-signature-timestamp': timestamp },
});

function deps(over: Partial<IngestDeps> = {}): IngestDeps {
  return {
    integration: (n) => (n === 'support-triage' ? supportTriage : undefined), secrets: async () => [secret], dedupe: new MemoryDedupe(), vault: new MemoryTokenVault(), rawBodyTtlSeconds: 3600,
    audit: new MemoryAuditStore(), queues: new MemoryQueues(), metrics: new MemoryMetrics(), now: () => now,
    maxBodyBytes: 256 * 1024, toleranceSeconds: 300, defaultTenant: 'default', dedupeTtlSeconds: 3600, ...over,
  };
}

describe('ingestWebhook', () => {
  it('gives the claim back when the event cannot be enqueued, so the vendor retry is accepted, not deduped', async () => {
    const d = deps();
    let fail = true;
    const queues = new MemoryQueues();
    d.queues = { send: async (q, b, o) => { if (fail) throw new Error('SQS unavailable'); return queues.send(q, b, o); } };
    await expect(ingestWebhook(request(), d)).rejects.toThrow('SQS unavailable');
    fail = false;
    const retry = await ingestWebhook(request(), d);
    expect(retry.status).toBe(202);
    expect(queues.take('validate')).toHaveLength(1);
  });

  it('rethrows the original error even when giving the claim back fails too', async () => {
    const d = deps();
    const dedupe = d.dedupe as MemoryDedupe;
    d.dedupe = Object.assign(Object.create(dedupe), { claim: dedupe.claim.bind(dedupe), confirm: dedupe.confirm.bind(dedupe), release: async () => { throw new Error('DynamoDB throttled'); } });
    d.queues = { send: async () => { throw new Error('SQS unavailable'); } };
    await expect(ingestWebhook(request(), d)).rejects.toThrow('SQS unavailable');
    expect((d.metrics as MemoryMetrics).counts.get('DedupeStoreFailure')).toBe(1);
  });

  it('answers 503 (retry) while another delivery of the same event is still being accepted', async () => {
    const d = deps();
    await d.dedupe.claim('support-triage#' + JSON.parse(body).id, 'dec_other', { ttlSeconds: 3600, leaseSeconds: 120, now });
    const res = await ingestWebhook(request(), d);
    expect(res).toMatchObject({ status: 503, body: { code: 'DELIVERY_IN_PROGRESS' } });
  });

  it('answers 200 duplicate with the first decision id once the first delivery is enqueued', async () => {
    const d = deps();
    const first = await ingestWebhook(request(), d);
    const second = await ingestWebhook(request(), d);
    expect(second).toEqual({ status: 200, body: { status: 'duplicate', decisionId: first.body.decisionId } });
  });
});

describe('ingestWebhook event types', () => {
  // An integration that processes one event type, like GitHub's issues.opened, read from a header.
  const typed = { ...supportTriage, source: { ...supportTriage.source, eventType: (_b: unknown, h: Record<string, string>) => h['x-event'], events: ['ticket.created'] } };
  const typedDeps = (d = deps()) => ({ ...d, integration: () => typed });

  it('acknowledges a signed delivery of another event type with 200 ignored and never queues it', async () => {
    const d = typedDeps();
    const res = await ingestWebhook({ ...request(), headers: { ...request().headers, 'x-event': 'ticket.deleted' } }, d);
    expect(res).toEqual({ status: 200, body: { status: 'ignored', eventType: 'ticket.deleted', reason: 'support-triage processes ticket.created; this delivery is ticket.deleted.' } });
    expect((d.queues as MemoryQueues).sent).toEqual([]);
    expect((d.metrics as MemoryMetrics).counts.get('WebhookIgnored')).toBe(1);
  });

  it('processes the declared event type', async () => {
    const res = await ingestWebhook({ ...request(), headers: { ...request().headers, 'x-event': 'ticket.created' } }, typedDeps());
    expect(res.status).toBe(202);
  });

  it('checks the signature before saying anything about the event type', async () => {
    const res = await ingestWebhook({ ...request(), headers: { 'x-event': 'ticket.deleted' } }, typedDeps());
    expect(res.status).toBe(401);
  });
});

describe('ingestWebhook audit record', () => {
  it('keeps method and URL for re-verification, with credential-like query values removed', async () => {
    const d = deps();
    const res = await ingestWebhook({ ...request(), method: 'POST', url: 'https://api.example.com/webhooks/support-triage?tenant=acme&token=s3cr3t' }, d);
    const records = await (d.audit as MemoryAuditStore).listDecision('support-triage', res.body.decisionId as string);
    expect(records[0].data).toMatchObject({ method: 'POST', url: 'https://api.example.com/webhooks/support-triage?tenant=acme&token=%5Bremoved%5D' });
    expect(JSON.stringify(records[0])).not.toContain('s3cr3t');
  });

  it('keeps a URL without credentials byte for byte (HubSpot signs the exact URL)', async () => {
    const d = deps();
    const url = 'https://api.example.com/webhooks/support-triage?portal=a%3Ab&x=%7e';
    const res = await ingestWebhook({ ...request(), url }, d);
    const records = await (d.audit as MemoryAuditStore).listDecision('support-triage', res.body.decisionId as string);
    expect(records[0].data.url).toBe(url);
  });
});

describe('ingestWebhook on raw bytes', () => {
  it('verifies the signature over the bytes as received, then refuses bytes that are not UTF-8 with the offset', async () => {
    const bytes = Buffer.concat([Buffer.from('{"id":"x","detail":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const signature = signZendesk(bytes, timestamp, secret);
    const d = deps();
    const res = await ingestWebhook({ integration: 'support-triage', body: bytes, headers: { 'x-zendesk-webhook-signature': signature, 'x-zendesk-webhook-signature-timestamp': timestamp } }, d);
    // Past the signature (not 401), but nothing decoded with replacement characters reaches the pipeline.
    expect(res).toEqual({ status: 400, body: { status: 'rejected', code: 'NOT_UTF8', reason: 'The body is not valid UTF-8 (first invalid byte at offset 20); webhooks must carry UTF-8 JSON.' } });
    expect((d.queues as MemoryQueues).sent).toEqual([]);
  });

  it('accepts a UTF-8 body that starts with a byte order mark, and queues the text validate can parse', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]);
    const d = deps();
    const res = await ingestWebhook({ integration: 'support-triage', body: bytes, headers: { 'x-zendesk-webhook-signature': signZendesk(bytes, timestamp, secret), 'x-zendesk-webhook-signature-timestamp': timestamp } }, d);
    expect(res.status).toBe(202);
    const queued = (d.queues as MemoryQueues).sent[0].body as { raw: { body: string } };
    expect(queued.raw.body).toBe(body);
    expect(() => JSON.parse(queued.raw.body)).not.toThrow();
  });

  it('names the offset of the first ill-formed UTF-8 sequence exactly', () => {
    const at = (...parts: Array<string | number[]>) => firstInvalidUtf8(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))));
    expect(at('{"a":"abc', [0xc3, 0x28])).toBe(9); // a lead byte without its continuation
    expect(at('abc', [0xe2, 0x82])).toBe(3); // cut short by the end of the body
    expect(at([0xc0, 0x80])).toBe(0); // overlong
    expect(at('x', [0xed, 0xa0, 0x80])).toBe(1); // a surrogate
    expect(at('xy', [0xf5, 0x80, 0x80, 0x80])).toBe(2); // above U+10FFFF
    expect(at('héllo wörld €')).toBe(-1);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        let valid = true;
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        } catch {
          valid = false;
        }
        const offset = firstInvalidUtf8(bytes);
        expect(offset === -1).toBe(valid);
        if (!valid) {
          // Everything before the offset is well-formed; the sequence starting there is not.
          expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, offset))).not.toThrow();
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('does not echo body content in a malformed-JSON refusal', async () => {
    const text = '{"email":"jane.doe@example.org", oops';
    const signature = signZendesk(text, timestamp, secret);
    const res = await ingestWebhook({ integration: 'support-triage', body: Buffer.from(text), headers: { 'x-zendesk-webhook-signature': signature, 'x-zendesk-webhook-signature-timestamp': timestamp } }, deps());
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toContain('jane');
  });
});

describe('ingestWebhook replays under schemes that sign no timestamp', () => {
  const github = { ...supportTriage, source: { ...supportTriage.source, signature: 'github' as const, eventId: (_b: unknown, h: Record<string, string>) => h['x-github-delivery'] } };
  it('treats the same signed bytes under a fresh delivery-id header as a duplicate, not a new decision', async () => {
    const { signRequest } = await import('../../lambdas/core/signature/index.js');
    const d = deps({ integration: () => github });
    const headers = signRequest('github', { body, secret, now });
    const first = await ingestWebhook({ ...request(), headers: { ...headers, 'x-github-delivery': 'aaaa-1' } }, d);
    const replay = await ingestWebhook({ ...request(), headers: { ...headers, 'x-github-delivery': 'bbbb-2' } }, d);
    expect(first.status).toBe(202);
    expect(replay).toEqual({ status: 200, body: { status: 'duplicate', decisionId: first.body.decisionId } });
    expect((d.queues as MemoryQueues).sent).toHaveLength(1);
    // The replay's own id claim was given back: the store holds the first delivery's two claims only.
    expect([...(d.dedupe as MemoryDedupe).items.keys()].sort()).toEqual([expect.stringMatching(/#aaaa-1$/), expect.stringMatching(/#sha256:[0-9a-f]{64}$/)].sort());
  });
});

describe('ingestWebhook when the dedupe store fails half way', () => {
  it('gives back the claims it took, so the vendor\'s retry is not told to wait out a lease', async () => {
    const { signRequest } = await import('../../lambdas/core/signature/index.js');
    const store = new MemoryDedupe();
    let calls = 0;
    const flaky: DedupeStore = {
      claim: async (k, d, o) => {
        calls += 1;
        if (calls === 2) throw new Error('throttled');
        return store.claim(k, d, o);
      },
      confirm: (k, d) => store.confirm(k, d),
      release: (k, d) => store.release(k, d),
    };
    const github = { ...supportTriage, source: { ...supportTriage.source, signature: 'github' as const } };
    const req = { ...request(), headers: signRequest('github', { body, secret, now }) };
    await expect(ingestWebhook(req, deps({ dedupe: flaky, integration: () => github }))).rejects.toThrow('throttled');
    expect(store.items.size).toBe(0);
    expect((await ingestWebhook(req, deps({ dedupe: flaky, integration: () => github }))).status).toBe(202);
  });
});

describe('ingestWebhook dedupe memory', () => {
  it('remembers event ids of schemes that sign no timestamp for 90 days, others for the configured TTL', async () => {
    const ttls: number[] = [];
    const recording: DedupeStore = { claim: async (_k, _d, o) => (ttls.push(o.ttlSeconds), { claimed: true }), confirm: async () => {}, release: async () => {} };
    await ingestWebhook(request(), deps({ dedupe: recording }));
    const github = { ...supportTriage, source: { ...supportTriage.source, signature: 'github' as const } };
    const { signRequest } = await import('../../lambdas/core/signature/index.js');
    await ingestWebhook({ ...request(), headers: signRequest('github', { body, secret, now }) }, deps({ dedupe: recording, integration: () => github }));
    expect(ttls).toEqual([3600, 90 * 86_400, 90 * 86_400]);
  });
});

describe('ingestWebhook, exactly once', () => {
  it('names a decision after the vendor event, so every delivery of one event is the same decision', async () => {
    const a = await ingestWebhook(request(), deps());
    const b = await ingestWebhook(request(), deps());
    expect(a.body.decisionId).toBe(b.body.decisionId);
    expect(String(a.body.decisionId)).toMatch(/^dec_[0-9a-f]{24}$/);
  });

  it('turns a vendor retry after a crash between the queue send and the dedupe confirm into the same decision, accepted once', async () => {
    let clock = now.getTime();
    const ledger = new MemoryStageLedger();
    const audit = new MemoryAuditStore();
    const queues = new MemoryQueues();
    const d = deps({ ledger, audit, queues, leaseSeconds: 10, now: () => new Date(clock), faults: seededFaults({ seed: 1, crash: { 'after-ingest-send': 1 } }) });
    await expect(ingestWebhook(request(), d)).rejects.toBeInstanceOf(SimulatedCrash);
    // While the dead delivery's lease runs, a retry is asked to come back.
    expect((await ingestWebhook(request(), d)).status).toBe(503);
    clock += 11_000;
    const retry = await ingestWebhook(request(), d);
    expect(retry.status).toBe(202);
    const sent = queues.take('validate') as Array<{ decisionId: string; auditHead: unknown }>;
    // The retry re-sent the very message the dead delivery sent (the validate stage dedupes it by chain position).
    expect(new Set(sent.map((m) => JSON.stringify([m.decisionId, m.auditHead]))).size).toBe(1);
    expect([...audit.records.values()].filter((r) => r.kind === 'accepted')).toHaveLength(1);
    const again = await ingestWebhook(request(), d);
    expect(again).toMatchObject({ status: 200, body: { status: 'duplicate', decisionId: retry.body.decisionId } });
  });
});
