import { CreateBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetClients, s3Client } from '../../lambdas/aws/clients.js';
import { S3AuditStore } from '../../lambdas/aws/s3-audit-store.js';
import { auditKey, headOf, sealRecord, type AuditRecord } from '../../lambdas/core/audit-record.js';
import type { AuditArchive } from '../../lambdas/core/audit/archive.js';
import { checkpointKey, entriesRoot, hashCheckpoint, signCheckpoint, writeCheckpoint, type Checkpoint } from '../../lambdas/core/audit/checkpoint.js';
import { StaticDecisionIndex } from '../../lambdas/core/audit/decision-index.js';
import type { AuditFindingCode } from '../../lambdas/core/audit/finding.js';
import { macRecord } from '../../lambdas/core/audit/record-mac.js';
import { verifyAuditLog } from '../../lambdas/core/audit/verify-log.js';
import { MemoryAuditStore } from '../../lambdas/core/memory-ports.js';
import type { AuditStore } from '../../lambdas/core/ports.js';
import { startEmulators, type Emulators } from '../../lib/local/emulators.js';
import { buildAuditLog, keyRingOf, writerKeys, type BuiltLog } from '../support/audit-log.js';

/** What one backend gives a tamper: the stages' stores, and the raw powers of the threat model. */
interface Bucket {
  archive: AuditArchive;
  /** A stage's (or the operator's) store, sealing with that writer's key. */
  storeFor(writer: string): AuditStore;
  /** An operator's power: delete an object (a delete marker where the bucket is versioned). */
  remove(key: string): Promise<void>;
  /** A stage role's power: put any new object (never over an existing one). */
  add(key: string, body: unknown): Promise<void>;
}

interface Backend {
  name: string;
  versioned: boolean;
  open(keys: Record<string, Buffer>): Promise<Bucket>;
}

let emulators: Emulators | undefined;
let buckets = 0;

const BACKENDS: Backend[] = [
  {
    name: 'memory store (versioned, like the AWS bucket)',
    versioned: true,
    open: async (keys) => {
      const store = new MemoryAuditStore({ versioned: true });
      return { archive: store, storeFor: (w) => store.as({ stage: w, key: keys[w] }), remove: (k) => store.deleteObject(k), add: (k, b) => store.writeOnce(k, b) };
    },
  },
  {
    name: 'S3 through the SDK against fauxqs (no versioning)',
    versioned: false,
    open: async (keys) => {
      const bucket = `audit-tamper-${++buckets}`;
      await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
      const archive = new S3AuditStore(bucket);
      return {
        archive,
        storeFor: (w) => new S3AuditStore(bucket, { writer: { stage: w, key: keys[w] } }),
        remove: async (k) => void (await s3Client().send(new DeleteObjectCommand({ Bucket: bucket, Key: k }))),
        add: (k, b) => archive.writeOnce(k, b),
      };
    },
  },
];

interface Tamper {
  log: BuiltLog;
  bucket: Bucket;
  keys: Record<string, Buffer>;
  checkpoint(): Promise<unknown>;
}

/** A record re-sealed by `writer` onto `head`, with changes. */
const reseal = (record: AuditRecord, head: AuditRecord | null, changes: Partial<AuditRecord> = {}) => sealRecord({ ...record, ...changes }, head && headOf(head));

/** Every case of the threat model, with only the powers it grants, and the finding it must raise. */
const CASES: Array<{ name: string; expects: AuditFindingCode[]; decision?: keyof BuiltLog['decisions']; needsVersioning?: boolean; tamper(t: Tamper): Promise<void> }> = [
  {
    name: 'an edit without re-seal (a new object, changed content, the old hash)',
    expects: ['HASH_MISMATCH'], decision: 'plain',
    tamper: async ({ log, bucket, keys }) => {
      const verified = log.decisions.plain.find((r) => r.kind === 'verified')!;
      const edited = { ...verified, attempt: 2, data: { ...verified.data, decision: { priority: 'urgent' } } };
      const key = auditKey(edited);
      await bucket.add(key, { ...edited, writer: 'verify', mac: macRecord(keys.verify, 'verify', key, edited.hash) });
    },
  },
  {
    name: 'an edit with the tail re-sealed (infer rewrites its record and re-hashes verify and act)',
    expects: ['CONFLICT', 'MAC_INVALID'], decision: 'plain',
    tamper: async ({ log, bucket, keys }) => {
      const [, validated, , inferred, verified, acted] = log.decisions.plain;
      const inferred2 = reseal(inferred, validated, { attempt: 3, data: { response: { toolInput: { priority: 'urgent' } } } });
      const verified2 = reseal(verified, inferred2, { data: { decision: { priority: 'urgent' }, checks: [] } });
      const acted2 = reseal(acted, verified2, { data: { outcome: 'acted', results: [{ action: 'refund', status: 'executed' }] } });
      await bucket.storeFor('infer').append(inferred2);
      // infer holds no verify or act key: it signs their records with its own key under their names.
      for (const r of [verified2, acted2]) await bucket.add(auditKey(r), { ...r, writer: r.stage, mac: macRecord(keys.infer, r.stage, auditKey(r), r.hash) });
    },
  },
  {
    name: 'an edit with the tail re-sealed by the tail\'s own writer (act rewrites its last record)',
    expects: ['CONFLICT'], decision: 'retried',
    tamper: async ({ log, bucket }) => {
      const records = log.decisions.retried;
      const verified = records.find((r) => r.kind === 'verified')!;
      const acted = records.at(-1)!;
      await bucket.storeFor('act').append(reseal(acted, verified, { attempt: 3, data: { outcome: 'acted', results: [{ action: 'refund', status: 'executed' }] } }));
    },
  },
  {
    name: 'a sibling forge (attempt + 1, recomputed hash, linked to an existing predecessor, another outcome)',
    expects: ['CONFLICT'], decision: 'reviewed',
    tamper: async ({ log, bucket }) => {
      const records = log.decisions.reviewed;
      const verified = records.find((r) => r.kind === 'verified')!;
      const acted = records.at(-1)!;
      await bucket.storeFor('act').append(reseal(acted, verified, { attempt: acted.attempt + 1, data: { outcome: 'review', code: 'BLOCKED', results: [] } }));
    },
  },
  {
    name: 'a sibling forged by another stage under the real writer\'s name',
    expects: ['MAC_INVALID'], decision: 'reviewed',
    tamper: async ({ log, bucket, keys }) => {
      const records = log.decisions.reviewed;
      const verified = records.find((r) => r.kind === 'verified')!;
      const forged = reseal(records.at(-1)!, verified, { attempt: 2, data: { outcome: 'dlq', results: [] } });
      await bucket.add(auditKey(forged), { ...forged, writer: 'act', mac: macRecord(keys.validate, 'act', auditKey(forged), forged.hash) });
    },
  },
  {
    name: 'deleting a middle record',
    expects: ['CHAIN_BROKEN', 'CHECKPOINT_COVERAGE'], decision: 'retried',
    tamper: async ({ log, bucket }) => bucket.remove(auditKey(log.decisions.retried.find((r) => r.kind === 'validated')!)),
  },
  {
    name: 'deleting the last record',
    expects: ['CHECKPOINT_HEAD_MISSING'], decision: 'plain',
    tamper: async ({ log, bucket }) => bucket.remove(auditKey(log.decisions.plain.at(-1)!)),
  },
  {
    name: 'deleting a whole checkpointed decision',
    expects: ['DECISION_MISSING', 'DEDUPE_WITHOUT_RECORDS'], decision: 'redriven',
    tamper: async ({ log, bucket }) => {
      for (const r of log.decisions.redriven) await bucket.remove(auditKey(r));
    },
  },
  {
    name: 'deleting a whole decision not checkpointed yet (the dedupe table still names it)',
    expects: ['DEDUPE_WITHOUT_RECORDS'],
    tamper: async ({ bucket, log }) => {
      const late = sealRecord({ decisionId: 'dec_late', integration: log.integration, stage: 'ingest', attempt: 1, kind: 'accepted', at: '2026-11-25T11:00:00.000Z', data: {} }, null);
      await bucket.storeFor('ingest').append(late);
      log.index.push({ integration: log.integration, decisionId: 'dec_late' });
      await bucket.remove(auditKey(late));
    },
  },
  {
    name: 'a delete marker over a record',
    expects: ['DELETE_MARKER'], needsVersioning: true,
    tamper: async ({ log, bucket }) => bucket.remove(auditKey(log.decisions.reviewed[3])),
  },
  {
    name: 'reordering (two records deleted and re-sealed in swapped order by one of their writers)',
    expects: ['WRITER_NOT_ALLOWED', 'CHAIN_BROKEN', 'CHECKPOINT_COVERAGE'], decision: 'redriven',
    tamper: async ({ log, bucket }) => {
      const records = log.decisions.redriven;
      const [validated, inferred, verified] = [records[3], records[4], records[5]];
      await bucket.remove(auditKey(inferred));
      await bucket.remove(auditKey(verified));
      const verified2 = reseal(verified, validated);
      const inferred2 = reseal(inferred, verified2);
      await bucket.storeFor('verify').append(verified2);
      await bucket.storeFor('verify').append(inferred2);
    },
  },
  {
    name: 'reordering (a record copied under another position\'s key)',
    expects: ['KEY_MISMATCH'], decision: 'plain',
    tamper: async ({ log, bucket }) => {
      const acted = log.decisions.plain.at(-1)!;
      const stored = (await bucket.archive.readObject(auditKey(acted))) as AuditRecord;
      await bucket.add(auditKey({ ...acted, seq: 1, hash: acted.hash.replace(/^./, (c) => (c === '0' ? '1' : '0')) }), stored);
    },
  },
  {
    name: 'a forged checkpoint (signed without the checkpointer key)',
    expects: ['CHECKPOINT_SIGNATURE'],
    tamper: async ({ bucket, keys }) => {
      // A stage can compute everything a checkpoint holds but its signature: it signs with its own key.
      const real = (await bucket.archive.readObject(checkpointKey(0))) as Checkpoint;
      const content = { ...real, seq: 1, prevHash: real.hash, from: real.until, decisions: [], root: entriesRoot([]) };
      const hash = hashCheckpoint(content);
      await bucket.add(checkpointKey(1), { ...content, hash, signature: signCheckpoint(keys.act, hash) });
    },
  },
  {
    name: 'deleting a checkpoint from the middle of the checkpoint chain',
    expects: ['CHECKPOINT_CHAIN'],
    tamper: async ({ bucket, log, checkpoint }) => {
      const late = sealRecord({ decisionId: 'dec_late', integration: log.integration, stage: 'ingest', attempt: 1, kind: 'accepted', at: '2026-11-25T11:00:00.000Z', data: {} }, null);
      await bucket.storeFor('ingest').append(late);
      log.index.push({ integration: log.integration, decisionId: 'dec_late' });
      await checkpoint();
      await bucket.remove(checkpointKey(0));
    },
  },
];

describe.each(BACKENDS)('audit tampering: $name', (backend) => {
  beforeAll(async () => {
    if (backend.versioned) return;
    emulators = await startEmulators();
    Object.assign(process.env, emulators.env);
    resetClients();
  });
  afterAll(async () => {
    if (backend.versioned) return;
    resetClients();
    await emulators?.stop();
    for (const k of Object.keys(emulators?.env ?? {})) delete process.env[k];
  });

  const setUp = async () => {
    const keys = writerKeys();
    const bucket = await backend.open(keys);
    const log = await buildAuditLog(bucket.storeFor);
    const checkpoint = () => writeCheckpoint({ archive: bucket.archive, keys: keyRingOf(keys) });
    await checkpoint();
    const verify = () => verifyAuditLog({ archive: bucket.archive, keys: keyRingOf(keys), index: new StaticDecisionIndex(log.index) });
    return { keys, bucket, log, checkpoint, verify };
  };

  it('finds nothing in an untampered, checkpointed log with retries, a review and a redrive', async () => {
    const { verify, log } = await setUp();
    const result = await verify();
    expect(result.findings).toEqual([]);
    expect(result.counts).toMatchObject({ decisions: 4, records: Object.values(log.decisions).flat().length, checkpoints: 1, notCheckpointed: 0 });
    expect(log.decisions.retried.filter((r) => r.kind === 'attempt_failed')).toHaveLength(3);
  });

  it(backend.versioned ? 'lists delete markers' : 'says why delete markers are not checked', async () => {
    const { verify } = await setUp();
    const { notes } = await verify();
    if (backend.versioned) expect(notes.join('\n')).not.toMatch(/Delete markers not checked/);
    else expect(notes.join('\n')).toMatch(/Delete markers not checked: the S3 endpoint is an emulator without versioning/);
  });

  for (const c of CASES) {
    it.skipIf(c.needsVersioning && !backend.versioned)(`detects ${c.name}`, async () => {
      const { keys, bucket, log, checkpoint, verify } = await setUp();
      await c.tamper({ keys, bucket, log, checkpoint });
      const { findings } = await verify();
      const codes = new Set(findings.map((f) => f.code));
      for (const code of c.expects) expect(codes, `${code} in ${JSON.stringify(findings, null, 1)}`).toContain(code);
      if (c.decision) {
        const id = log.decisions[c.decision][0].decisionId;
        expect(findings.filter((f) => c.expects.includes(f.code)).every((f) => f.decisionId === id)).toBe(true);
      }
    });
  }
});
