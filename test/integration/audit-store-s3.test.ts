import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetClients } from '../../lambdas/aws/clients.js';
import { S3AuditStore } from '../../lambdas/aws/s3-audit-store.js';
import { auditKey, sealRecord } from '../../lambdas/core/audit-record.js';
import { verifyRecordMac } from '../../lambdas/core/audit/record-mac.js';
import { AuditIntegrityError } from '../../lambdas/core/errors.js';
import { startEmulators, type Emulators } from '../../lib/local/emulators.js';

/** The S3 audit store's write-once, idempotent append and writer MACs, through the SDK against fauxqs. */
describe('S3AuditStore append', () => {
  let emulators: Emulators;
  beforeAll(async () => {
    emulators = await startEmulators();
    Object.assign(process.env, emulators.env);
    resetClients();
  });
  afterAll(async () => {
    resetClients();
    await emulators?.stop();
  });

  const accepted = (decisionId: string, data: Record<string, unknown> = {}) =>
    sealRecord({ decisionId, integration: 'support-triage', stage: 'ingest', attempt: 1, kind: 'accepted', at: '2026-11-25T00:00:00Z', data }, null);

  it('accepts the very same record again (a stage re-appending what it committed) and says it exists', async () => {
    const store = new S3AuditStore(emulators.buckets.audit);
    const record = accepted('dec_same');
    await store.append(record);
    await expect(store.append(record)).resolves.toBe('exists');
    expect(await store.listDecision('support-triage', 'dec_same')).toEqual([record]);
  });

  it('refuses other content at an existing key, by its own guard, although the emulator would overwrite', async () => {
    const store = new S3AuditStore(emulators.buckets.audit);
    const record = accepted('dec_other');
    await store.append(record);
    await expect(store.append({ ...record, data: { edited: true } })).rejects.toBeInstanceOf(AuditIntegrityError);
    expect(await store.listDecision('support-triage', 'dec_other')).toEqual([record]);
  });

  it('stores the writer and a MAC that verifies under the writer\'s key, loaded once', async () => {
    const key = randomBytes(32);
    let loads = 0;
    const store = new S3AuditStore(emulators.buckets.audit, { writer: { stage: 'ingest', key: async () => (loads++, key) } });
    const record = accepted('dec_mac');
    await store.append(record);
    await store.append(accepted('dec_mac2'));
    const [stored] = await store.listDecision('support-triage', 'dec_mac');
    expect(stored.writer).toBe('ingest');
    expect(verifyRecordMac(key, stored, auditKey(record))).toBe(true);
    expect(loads).toBe(1);
  });
});
