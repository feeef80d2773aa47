import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditKey, GENESIS_HASH, hashRecord, headOf, sealRecord, type AuditRecord } from '../../lambdas/core/audit-record.js';
import { checkpointKey, merkleRoot, writeCheckpoint, type Checkpoint } from '../../lambdas/core/audit/checkpoint.js';
import { findConflicts } from '../../lambdas/core/audit/conflicts.js';
import { MemoryKeyRing } from '../../lambdas/core/audit/key-ring.js';
import { macRecord, verifyRecordMac, writerMayWrite } from '../../lambdas/core/audit/record-mac.js';
import { verifyAuditLog } from '../../lambdas/core/audit/verify-log.js';
import { AuditIntegrityError } from '../../lambdas/core/errors.js';
import { MemoryAuditStore } from '../../lambdas/core/memory-ports.js';

const base = { decisionId: 'd-1', integration: 'support-triage', at: '2026-11-25T10:00:00.000Z' };
const record = (stage: string, kind: string, head: AuditRecord | null, attempt = 1, data: Record<string, unknown> = {}) =>
  sealRecord({ ...base, stage, kind, attempt, data }, head && headOf(head));

describe('record MACs', () => {
  const key = randomBytes(32);

  it('verifies a MAC made with the writer\'s key over the object key and hash', () => {
    const r = record('infer', 'inferred', null);
    const sealed = { ...r, writer: 'infer', mac: macRecord(key, 'infer', auditKey(r), r.hash) };
    expect(verifyRecordMac(key, sealed, auditKey(r))).toBe(true);
  });

  it('rejects a MAC made with another key, for another key, or for another writer', () => {
    const r = record('infer', 'inferred', null);
    const mac = macRecord(key, 'infer', auditKey(r), r.hash);
    expect(verifyRecordMac(randomBytes(32), { ...r, writer: 'infer', mac }, auditKey(r))).toBe(false);
    expect(verifyRecordMac(key, { ...r, writer: 'infer', mac }, 'decisions/elsewhere.json')).toBe(false);
    expect(verifyRecordMac(key, { ...r, writer: 'act', mac }, auditKey(r))).toBe(false);
  });

  it('keeps the MAC and writer out of the record hash, so the chain is the same with or without them', () => {
    const r = record('infer', 'inferred', null);
    expect(hashRecord({ ...r, writer: 'infer', mac: 'ab' })).toBe(r.hash);
  });

  it('lets a stage write only its own records, and the operator only review, redrive and backfill records', () => {
    expect(writerMayWrite('infer', { stage: 'infer', kind: 'inferred' })).toBe(true);
    expect(writerMayWrite('infer', { stage: 'act', kind: 'acted' })).toBe(false);
    expect(writerMayWrite('operator', { stage: 'review', kind: 'review_approved' })).toBe(true);
    expect(writerMayWrite('operator', { stage: 'validate', kind: 'redriven' })).toBe(true);
    expect(writerMayWrite('operator', { stage: 'act', kind: 'acted' })).toBe(false);
    expect(writerMayWrite('infer', { stage: 'review', kind: 'review_approved' })).toBe(false);
  });

  it('is added by the store at append when it has a writer', async () => {
    const store = new MemoryAuditStore({ writer: { stage: 'ingest', key: async () => key } });
    const r = record('ingest', 'accepted', null);
    await store.append(r);
    const [stored] = await store.listDecision(base.integration, base.decisionId);
    expect(stored.writer).toBe('ingest');
    expect(verifyRecordMac(key, stored, auditKey(r))).toBe(true);
  });
});

describe('idempotent append', () => {
  it('accepts the very same record again and says it exists', async () => {
    const store = new MemoryAuditStore();
    const r = record('ingest', 'accepted', null);
    await store.append(r);
    await expect(store.append(structuredClone(r))).resolves.toBe('exists');
    expect(store.records.size).toBe(1);
  });

  it('refuses other content at an existing key, including an edit that kept the old hash', async () => {
    const store = new MemoryAuditStore();
    const r = record('ingest', 'accepted', null);
    await store.append(r);
    await expect(store.append({ ...r, data: { edited: true } })).rejects.toBeInstanceOf(AuditIntegrityError);
    expect((await store.listDecision(base.integration, base.decisionId))[0].data).toEqual({});
  });
});

describe('conflict detection', () => {
  it('does not count attempt_failed siblings followed by one outcome as a conflict', () => {
    const a = record('ingest', 'accepted', null);
    const failed = record('validate', 'attempt_failed', a, 1);
    const ok = record('validate', 'validated', a, 2);
    expect(findConflicts([a, failed, ok])).toEqual([]);
  });

  it('reports two outcomes of one stage on one predecessor, naming both', () => {
    const a = record('ingest', 'accepted', null);
    const one = record('act', 'acted', a, 1, { outcome: 'acted' });
    const two = record('act', 'acted', a, 2, { outcome: 'review' });
    const [conflict] = findConflicts([a, one, two]);
    expect(conflict).toMatchObject({ seq: 1, stage: 'act', records: [{ attempt: 1, outcome: 'acted' }, { attempt: 2, outcome: 'review' }] });
  });

  it('does not count siblings of different stages (a review decision beside a redrive) as a conflict of one stage', () => {
    const a = record('ingest', 'accepted', null);
    expect(findConflicts([a, record('review', 'review_approved', a, 0), record('validate', 'redriven', a, 0)])).toEqual([]);
  });
});

describe('checkpoints', () => {
  const keys = new MemoryKeyRing({ checkpointer: randomBytes(32) });

  it('chains each checkpoint to the previous one and covers only decisions that changed', async () => {
    const store = new MemoryAuditStore();
    const a = record('ingest', 'accepted', null);
    await store.append(a);
    const first = (await writeCheckpoint({ archive: store, keys }))!;
    await store.append(record('validate', 'validated', a));
    await store.append(sealRecord({ ...base, decisionId: 'd-2', stage: 'ingest', kind: 'accepted', attempt: 1, data: {} }, null));
    const second = (await writeCheckpoint({ archive: store, keys }))!;
    expect(first).toMatchObject({ seq: 0, prevHash: GENESIS_HASH, from: null });
    expect(second).toMatchObject({ seq: 1, prevHash: first.hash, from: first.until });
    expect(second.decisions.map((d) => [d.decisionId, d.records, d.head?.seq])).toEqual([['d-1', 2, 1], ['d-2', 1, 0]]);
    expect(await store.readObject(checkpointKey(1))).toEqual(second);
  });

  it('writes no checkpoint when nothing changed since the last one', async () => {
    const store = new MemoryAuditStore();
    await store.append(record('ingest', 'accepted', null));
    await writeCheckpoint({ archive: store, keys });
    expect(await writeCheckpoint({ archive: store, keys })).toBeUndefined();
  });

  it('refuses to extend a checkpoint whose signature does not verify', async () => {
    const store = new MemoryAuditStore();
    await store.append(record('ingest', 'accepted', null));
    const cp = (await writeCheckpoint({ archive: store, keys }))!;
    await store.deleteObject(checkpointKey(0));
    await store.writeOnce(checkpointKey(0), { ...cp, signature: '00'.repeat(32) } satisfies Checkpoint);
    await store.append(sealRecord({ ...base, decisionId: 'd-2', stage: 'ingest', kind: 'accepted', attempt: 1, data: {} }, null));
    await expect(writeCheckpoint({ archive: store, keys })).rejects.toBeInstanceOf(AuditIntegrityError);
  });

  it('reports a checkpoint whose entries were changed after signing', async () => {
    const store = new MemoryAuditStore();
    await store.append(record('ingest', 'accepted', null));
    const cp = (await writeCheckpoint({ archive: store, keys }))!;
    await store.deleteObject(checkpointKey(0));
    await store.writeOnce(checkpointKey(0), { ...cp, decisions: [{ ...cp.decisions[0], records: 5 }] });
    const { findings } = await verifyAuditLog({ archive: store, keys, requireMac: false });
    expect(findings.map((f) => f.code)).toEqual(['CHECKPOINT_INVALID']);
  });

  it('computes an RFC 6962 Merkle root that depends on every leaf and on their order', () => {
    expect(merkleRoot(['a', 'b', 'c'])).not.toBe(merkleRoot(['a', 'b', 'd']));
    expect(merkleRoot(['a', 'b'])).not.toBe(merkleRoot(['b', 'a']));
    expect(merkleRoot([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
