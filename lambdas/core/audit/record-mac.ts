import { createHmac, timingSafeEqual } from 'node:crypto';
import { hashRecord, type AuditRecord } from '../audit-record.js';

/**
 * Per-writer MACs on audit objects. Each writer (a stage, or the `operator` behind the review,
 * redrive and backfill commands) holds its own HMAC key, so a compromised stage can add records
 * only under its own name: a record it forges for another stage carries a MAC it cannot compute.
 * The MAC covers the writer, the object key and the record's hash (which covers its content).
 */

/** A key, or a loader for one (Secrets Manager in AWS, a key file locally). */
export type AuditKeySource = Buffer | (() => Promise<Buffer>);

/** Who an audit store writes as, and with which key. */
export interface AuditWriter {
  /** The writer's name: the stage it runs (`ingest`, `validate`, …) or {@link OPERATOR_WRITER}. */
  stage: string;
  key: AuditKeySource;
}

/** The writer of records an operator's command seals: review decisions, redrives, backfills. */
export const OPERATOR_WRITER = 'operator';

/** Kinds an operator writes under a stage's name (a redrive is recorded on the parked stage). */
const OPERATOR_KINDS = new Set(['redriven', 'review_approved', 'review_rejected']);
/** Stages whose records only the operator writes. */
const OPERATOR_STAGES = new Set(['review', 'backfill']);

/** HMAC-SHA256 (hex) of one stored audit object. */
export function macRecord(key: Buffer, writer: string, objectKey: string, hash: string): string {
  return createHmac('sha256', key).update(`seamwork-audit-v1\n${writer}\n${objectKey}\n${hash}`, 'utf8').digest('hex');
}

/** True when `record.mac` is the MAC of its writer, `objectKey` and its hash under `key` (constant time). */
export function verifyRecordMac(key: Buffer, record: AuditRecord, objectKey: string): boolean {
  if (typeof record.mac !== 'string' || typeof record.writer !== 'string') return false;
  const expected = Buffer.from(macRecord(key, record.writer, objectKey, record.hash), 'hex');
  const actual = Buffer.from(record.mac, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Whether `writer` may seal `record`: a stage writes its own records; the operator writes review, redrive and backfill records. */
export function writerMayWrite(writer: string, record: Pick<AuditRecord, 'stage' | 'kind'>): boolean {
  if (writer === OPERATOR_WRITER) return OPERATOR_STAGES.has(record.stage) || OPERATOR_KINDS.has(record.kind);
  return writer === record.stage && !OPERATOR_STAGES.has(record.stage);
}

/** Resolves a key source once and keeps the key (a loader is called on first use only). */
export function keyOnce(source: AuditKeySource): () => Promise<Buffer> {
  if (Buffer.isBuffer(source)) return async () => source;
  let pending: Promise<Buffer> | undefined;
  return () => {
    pending ??= source().catch((err: unknown) => {
      pending = undefined; // a failed load (throttled secret) is retried by the next append
      throw err;
    });
    return pending;
  };
}

/**
 * The object a store writes for `record` at `objectKey`: the record with `writer` and `mac` when
 * the store has a writer, the record as sealed otherwise. The record's hash is not recomputed.
 */
export async function withWriterMac(record: AuditRecord, objectKey: string, writer: { stage: string; key: () => Promise<Buffer> } | undefined): Promise<AuditRecord> {
  const { writer: _w, mac: _m, ...sealed } = record;
  if (!writer) return sealed;
  return { ...sealed, writer: writer.stage, mac: macRecord(await writer.key(), writer.stage, objectKey, record.hash) };
}

/**
 * True when `existing` (read back from a store) and `record` are the same sealed record: both
 * hashes match their contents and each other. An edited record that kept its old hash is not.
 */
export function sameRecord(existing: AuditRecord, record: AuditRecord): boolean {
  return existing.hash === record.hash && hashRecord(existing) === existing.hash && hashRecord(record) === record.hash;
}
