import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetClients } from '../../lambdas/aws/clients.js';
import { DynamoCostLedger, DynamoDedupeStore, DynamoTokenPacer, DynamoTokenVault } from '../../lambdas/aws/dynamo-stores.js';
import { DynamoActionLedger, DynamoStageLedger } from '../../lambdas/aws/dynamo-ledgers.js';
import { ExactlyOnceExecutor, type ConnectorPort } from '../../lambdas/core/exactly-once.js';
import { S3AuditStore } from '../../lambdas/aws/s3-audit-store.js';
import { sealRecord } from '../../lambdas/core/audit-record.js';
import { AuditIntegrityError } from '../../lambdas/core/errors.js';
import type { ActionRequest } from '../../lambdas/core/integration.js';
import { startConnectorTargets, type ConnectorTargets } from '../../lib/local/connector-targets.js';
import { startEmulators, type Emulators } from '../../lib/local/emulators.js';

/** The AWS adapters, through the real SDK, against the emulators, with deliberately concurrent callers. */
describe('AWS adapters under concurrency', () => {
  let emulators: Emulators;
  let targets: ConnectorTargets;

  beforeAll(async () => {
    emulators = await startEmulators();
    targets = await startConnectorTargets();
    Object.assign(process.env, emulators.env);
    resetClients();
  });
  afterAll(async () => {
    resetClients();
    await targets?.stop();
    await emulators?.stop();
  });

  it('never lets 50 simultaneous reservations overshoot a cap, and refuses exactly the surplus', async () => {
    const ledger = new DynamoCostLedger(emulators.tables.ledger);
    const scope = { key: 'tenant#race#day#2026-11-25', capMicroUsd: 20_000 };
    const results = await Promise.all(Array.from({ length: 50 }, () => ledger.reserve([scope], 1_500)));
    const granted = results.filter((r) => r.ok).length;
    expect(granted).toBe(13); // floor(20000 / 1500)
    expect(await ledger.spent(scope.key)).toBe(granted * 1_500);
    expect(await ledger.spent(scope.key)).toBeLessThanOrEqual(scope.capMicroUsd);
  });

  it('releases the difference on reconcile, so the ledger holds the actual spend', async () => {
    const ledger = new DynamoCostLedger(emulators.tables.ledger);
    const scope = { key: 'tenant#reconcile#day#2026-11-25', capMicroUsd: 10_000 };
    const r = await ledger.reserve([scope], 4_000);
    if (!r.ok) throw new Error('expected a reservation');
    await ledger.reconcile(r.reservation, 1_234);
    expect(await ledger.spent(scope.key)).toBe(1_234);
  });

  describe('reservations of crashed invocations', () => {
    const hold = (id: string, now: Date, ttlSeconds = 60) => ({ id, decisionId: `dec_${id}`, integration: 'support-triage', tenant: 't', ttlSeconds, now });
    const t0 = new Date('2026-11-25T10:00:00Z');

    it('are given back once expired, and only then', async () => {
      const ledger = new DynamoCostLedger(emulators.tables.ledger);
      const scopes = [{ key: 'tenant#crash#day#2026-11-25', capMicroUsd: 10_000 }, { key: 'global#crash#day#2026-11-25', capMicroUsd: 50_000 }];
      const r = await ledger.reserve(scopes, 6_000, hold('crash-1', t0));
      expect(r.ok).toBe(true);
      expect(await ledger.releaseExpired(new Date(t0.getTime() + 30_000))).toEqual([]);
      // The invocation died: after its time-to-live the sweeper releases the reservation in every scope.
      const released = await ledger.releaseExpired(new Date(t0.getTime() + 61_000));
      expect(released).toEqual([{ id: 'crash-1', decisionId: 'dec_crash-1', reservedMicroUsd: 6_000, scopes: scopes.map((s) => s.key) }]);
      for (const s of scopes) expect(await ledger.spent(s.key)).toBe(0);
      // The budget is usable again.
      expect((await ledger.reserve(scopes, 9_000)).ok).toBe(true);
    });

    it('are never released twice, and a reconcile that lost the race charges the actual cost in full', async () => {
      const ledger = new DynamoCostLedger(emulators.tables.ledger);
      const scope = { key: 'tenant#race2#day#2026-11-25', capMicroUsd: 100_000 };
      const reservations = [];
      for (let i = 0; i < 10; i++) {
        const r = await ledger.reserve([scope], 5_000, hold(`race2-${i}`, t0, 1));
        if (!r.ok) throw new Error('expected a reservation');
        reservations.push(r.reservation);
      }
      // Two sweepers and ten late reconciles (each billed 1,000) all at once.
      const later = new Date(t0.getTime() + 5_000);
      const [[a, b]] = await Promise.all([Promise.all([ledger.releaseExpired(later), ledger.releaseExpired(later)]), ...reservations.map((r) => ledger.reconcile(r, 1_000))]);
      const ids = [...a, ...b].map((x) => x.id);
      expect(new Set(ids).size).toBe(ids.length);
      // Whoever won each race, the ledger ends at exactly the actual spend.
      expect(await ledger.spent(scope.key)).toBe(10 * 1_000);
    });

    it('are kept as spend, not given back, when the model had been called (the call may have billed)', async () => {
      const ledger = new DynamoCostLedger(emulators.tables.ledger);
      const scope = { key: 'tenant#invoked#day#2026-11-25', capMicroUsd: 10_000 };
      const r = await ledger.reserve([scope], 4_000, hold('invoked-1', t0, 1));
      if (!r.ok) throw new Error('expected a reservation');
      await ledger.markInvoked(r.reservation);
      expect(await ledger.releaseExpired(new Date(t0.getTime() + 60_000))).toMatchObject([{ id: 'invoked-1', charged: true }]);
      expect(await ledger.spent(scope.key)).toBe(4_000);
    });

    it('once reconciled, are not released by the sweeper', async () => {
      const ledger = new DynamoCostLedger(emulators.tables.ledger);
      const scope = { key: 'tenant#done#day#2026-11-25', capMicroUsd: 10_000 };
      const r = await ledger.reserve([scope], 4_000, hold('done-1', t0, 1));
      if (!r.ok) throw new Error('expected a reservation');
      await ledger.reconcile(r.reservation, 1_500);
      expect(await ledger.releaseExpired(new Date(t0.getTime() + 60_000))).toEqual([]);
      expect(await ledger.spent(scope.key)).toBe(1_500);
    });
  });

  it('shares one tokens-per-minute budget exactly between simultaneous callers', async () => {
    const pacer = new DynamoTokenPacer(emulators.tables.ledger);
    const now = new Date('2026-11-25T10:00:30Z');
    const results = await Promise.all(Array.from({ length: 20 }, () => pacer.take('integration#pace', 1_000, 5_000, now)));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(results.find((r) => !r.ok)).toMatchObject({ ok: false, retryAfterSeconds: 30 });
    // The next minute has a fresh budget.
    expect((await pacer.take('integration#pace', 1_000, 5_000, new Date('2026-11-25T10:01:00Z'))).ok).toBe(true);
  });

  it('lets exactly one of many simultaneous claims of a vendor event win', async () => {
    const dedupe = new DynamoDedupeStore(emulators.tables.dedupe);
    const now = new Date();
    const opts = { ttlSeconds: 3600, leaseSeconds: 120, now };
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => dedupe.claim('support-triage#evt-race', `dec_${i}`, opts)));
    const winners = claims.filter((c) => c.claimed);
    expect(winners).toHaveLength(1);
    const winner = `dec_${claims.findIndex((c) => c.claimed)}`;
    // Until the winner confirms, the others are told a delivery is in progress, not "duplicate".
    for (const c of claims.filter((x) => !x.claimed)) expect(c).toEqual({ claimed: false, decisionId: winner, state: 'pending' });
    await dedupe.confirm('support-triage#evt-race', winner);
    expect(await dedupe.claim('support-triage#evt-race', 'dec_late', opts)).toEqual({ claimed: false, decisionId: winner, state: 'enqueued' });
  });

  it('lets a retry take over a pending claim whose claimer died before enqueueing (lease lapsed)', async () => {
    const dedupe = new DynamoDedupeStore(emulators.tables.dedupe);
    const t0 = new Date('2026-03-01T00:00:00Z');
    await dedupe.claim('support-triage#evt-crash', 'dec_crashed', { ttlSeconds: 3600, leaseSeconds: 120, now: t0 });
    const within = await dedupe.claim('support-triage#evt-crash', 'dec_retry1', { ttlSeconds: 3600, leaseSeconds: 120, now: new Date(t0.getTime() + 60_000) });
    expect(within).toMatchObject({ claimed: false, state: 'pending' });
    const after = await dedupe.claim('support-triage#evt-crash', 'dec_retry2', { ttlSeconds: 3600, leaseSeconds: 120, now: new Date(t0.getTime() + 180_000) });
    expect(after).toEqual({ claimed: true });
  });

  it('treats an expired claim as free, comparing the expiry in code', async () => {
    const dedupe = new DynamoDedupeStore(emulators.tables.dedupe);
    await dedupe.claim('support-triage#evt-old', 'dec_old', { ttlSeconds: 1, leaseSeconds: 1, now: new Date('2026-01-01T00:00:00Z') });
    await dedupe.confirm('support-triage#evt-old', 'dec_old');
    expect(await dedupe.claim('support-triage#evt-old', 'dec_new', { ttlSeconds: 1, leaseSeconds: 1, now: new Date('2026-01-02T00:00:00Z') })).toEqual({ claimed: true });
  });

  it('forgets vault tokens after their expiry even though the emulator never deletes them', async () => {
    const vault = new DynamoTokenVault(emulators.tables.vault);
    await vault.put('dec_v', { '[EMAIL_1]': 'a@b.example' }, 60, new Date('2026-01-01T00:00:00Z'));
    expect(await vault.get('dec_v', new Date('2026-01-01T00:00:30Z'))).toEqual({ '[EMAIL_1]': 'a@b.example' });
    expect(await vault.get('dec_v', new Date('2026-01-01T00:02:00Z'))).toEqual({});
  });

  it('runs an action once at the vendor when three attempts race to execute it', async () => {
    let sent = 0;
    const vendor: ConnectorPort = {
      execute: async () => { sent++; await new Promise((r) => setTimeout(r, 30)); return { status: 200 }; },
      reconcile: async () => ({ found: sent > 0, response: { status: 200 } }) as never,
    };
    const executor = new ExactlyOnceExecutor({ ledger: new DynamoActionLedger(emulators.tables.idempotency), connector: vendor, now: () => new Date(), leaseMs: () => 30_000 });
    const action: ActionRequest = { name: 'slack.post_urgent', connector: 'slack', params: { text: 'race' } };
    const settled = await Promise.allSettled([1, 2, 3].map(() => executor.execute('dec_race', action, {})));
    expect(settled.filter((s) => s.status === 'fulfilled' && s.value.status === 'executed')).toHaveLength(1);
    // The losers were told to retry (in progress): never a second send.
    for (const s of settled) if (s.status === 'rejected') expect((s.reason as { code?: string }).code).toBe('ACTION_IN_PROGRESS');
    expect(sent).toBe(1);
    expect((await executor.execute('dec_race', action, {})).status).toBe('duplicate');
    expect(sent).toBe(1);
  });

  it('hands an unknown action outcome to the next attempt once the lease is given back', async () => {
    const ledger = new DynamoActionLedger(emulators.tables.idempotency);
    const first = await ledger.take('k-unknown', { leaseMs: 60_000, now: new Date() });
    expect(first).toMatchObject({ ok: true, unknown: false });
    expect(await ledger.take('k-unknown', { leaseMs: 60_000, now: new Date() })).toMatchObject({ ok: false, state: { state: 'sending' } });
    await ledger.release('k-unknown', (first as { token: string }).token);
    expect(await ledger.take('k-unknown', { leaseMs: 60_000, now: new Date() })).toMatchObject({ ok: true, unknown: true });
    await ledger.done('k-unknown', { status: 201 }, 'reconciled', new Date());
    expect(await ledger.take('k-unknown', { leaseMs: 60_000, now: new Date() })).toMatchObject({ ok: false, state: { state: 'done', via: 'reconciled', response: { status: 201 } } });
  });

  it('lets one of many concurrent deliveries claim a stage, keeps its steps, and returns its commit to the rest', async () => {
    const ledger = new DynamoStageLedger(emulators.tables.idempotency);
    const now = new Date();
    const claims = await Promise.all(Array.from({ length: 10 }, () => ledger.claim('s#race', { leaseSeconds: 60, now })));
    const won = claims.filter((c) => c.kind === 'claimed');
    expect(won).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'busy')).toHaveLength(9);
    const token = (won[0] as { token: string }).token;
    await ledger.remember('s#race', token, 'model:abc', { usage: { input_tokens: 3 } });
    await ledger.release('s#race', token);
    const again = await ledger.claim('s#race', { leaseSeconds: 60, now });
    expect(again).toMatchObject({ kind: 'claimed', memo: { 'model:abc': { usage: { input_tokens: 3 } } } });
    const commit = { records: [], sends: [{ queue: 'act', body: { text: '✓ 😀 𠀀' } }], outcome: 'acted' };
    expect(await ledger.complete('s#race', (again as { token: string }).token, commit)).toBe(true);
    expect(await ledger.claim('s#race', { leaseSeconds: 60, now })).toEqual({ kind: 'completed', commit, handedOn: false });
    await ledger.markHandedOn('s#race');
    expect(await ledger.claim('s#race', { leaseSeconds: 60, now })).toMatchObject({ kind: 'completed', handedOn: true });
  });

  it('keeps a commit too large for a DynamoDB item in the payload bucket, and gives it back whole', async () => {
    const ledger = new DynamoStageLedger(emulators.tables.idempotency, { payloadBucket: emulators.buckets.payload });
    // A webhook body near the 256 KiB limit is in the ingest commit twice: sealed (it does not
    // compress) in the record, and as text in the validate message.
    const sealed = randomBytes(250 * 1024).toString('base64');
    const text = randomBytes(200 * 1024).toString('hex');
    const commit = { records: [], sends: [{ queue: 'validate', body: { raw: text, sealed } }] };
    const claim = await ledger.claim('s#big', { leaseSeconds: 60, now: new Date() });
    expect(await ledger.complete('s#big', (claim as { token: string }).token, commit)).toBe(true);
    expect(await ledger.claim('s#big', { leaseSeconds: 60, now: new Date() })).toEqual({ kind: 'completed', commit, handedOn: false });
    const without = new DynamoStageLedger(emulators.tables.idempotency);
    const other = await without.claim('s#big2', { leaseSeconds: 60, now: new Date() });
    await expect(without.complete('s#big2', (other as { token: string }).token, commit)).rejects.toMatchObject({ code: 'COMMIT_TOO_LARGE' });
  });

  it('takes a stage over from a holder whose lease ran out, and refuses the late holder\'s commit', async () => {
    const ledger = new DynamoStageLedger(emulators.tables.idempotency);
    const t0 = new Date('2026-12-04T00:00:00Z');
    const dead = await ledger.claim('s#late', { leaseSeconds: 1, now: t0 });
    const taker = await ledger.claim('s#late', { leaseSeconds: 60, now: new Date(t0.getTime() + 2_000) });
    expect(taker.kind).toBe('claimed');
    expect(await ledger.complete('s#late', (dead as { token: string }).token, { records: [], sends: [] })).toBe(false);
    expect(await ledger.complete('s#late', (taker as { token: string }).token, { records: [], sends: [] })).toBe(true);
  });

  it('refuses to overwrite an audit record, by its own guard, although the emulator would overwrite', async () => {
    const store = new S3AuditStore(emulators.buckets.audit);
    const record = sealRecord({ decisionId: 'dec_w', integration: 'support-triage', stage: 'ingest', attempt: 1, kind: 'accepted', at: '2026-11-25T00:00:00Z', data: {} }, null);
    await store.append(record);
    // The very same record again is a redelivery re-applying its commit: nothing changes.
    await expect(store.append(record)).resolves.toBe('exists');
    // Other content under the same key is refused.
    await expect(store.append({ ...record, data: { forged: true } })).rejects.toBeInstanceOf(AuditIntegrityError);
    expect((await store.listDecision('support-triage', 'dec_w')).map((r) => r.data)).toEqual([record.data]);
  });

  it('is not protected by the emulator alone: without the guard the same write goes through (why the guard exists)', async () => {
    const store = new S3AuditStore(emulators.buckets.audit, { headBeforePut: false });
    const record = sealRecord({ decisionId: 'dec_x', integration: 'support-triage', stage: 'ingest', attempt: 1, kind: 'accepted', at: '2026-11-25T00:00:00Z', data: {} }, null);
    await store.append(record);
    await expect(store.append(record)).resolves.toBeUndefined();
  });
});
