import { createHash } from 'node:crypto';
import type { AuditHead } from './envelope.js';

/**
 * Layer 6 audit records and their hash chain.
 *
 * Every stage writes one record per attempt before it hands on. Each record carries the hash of
 * the previous one, so a decision's records form a chain from a genesis hash: editing any record
 * changes its hash and breaks the link from its successor, which {@link verifyChain} reports even
 * where S3 Object Lock is not available (locally). A retried stage writes a sibling record that
 * links to the same predecessor; that is expected, not tampering.
 *
 * What the chain cannot show on its own: deletion of the newest record(s), or a rewrite that
 * re-seals every later record. Per-writer MACs (`audit/record-mac.ts`), conflict detection and
 * signed checkpoints (`audit/checkpoint.ts`) cover those; see docs/audit.md for the threat model.
 */

/** One audit record: what one stage attempt did for one decision. */
export interface AuditRecord {
  decisionId: string;
  integration: string;
  /** Position in the chain: 0 for the first record, predecessor's seq + 1 after. */
  seq: number;
  stage: string;
  /** 1-based attempt of the stage (SQS receive count); retries write siblings. */
  attempt: number;
  /** What the record describes, e.g. `accepted`, `validated`, `model_call`, `verified`, `acted`. */
  kind: string;
  /** ISO 8601 time the record was sealed. */
  at: string;
  /** Hash of the predecessor, or {@link GENESIS_HASH} for seq 0. */
  prevHash: string;
  /** sha256 hex of the canonical JSON of this record without `hash`. */
  hash: string;
  data: Record<string, unknown>;
  /**
   * Who sealed the stored object (a stage, or `operator`), added by the audit store at append.
   * Not covered by {@link hash}: {@link mac} binds it instead.
   */
  writer?: string;
  /** HMAC-SHA256 of the writer, the object key and {@link hash} under the writer's key (hex). */
  mac?: string;
}

/** The `prevHash` of the first record of every decision. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Deterministic JSON: object keys sorted, no whitespace, otherwise JSON.stringify semantics
 * (`toJSON` honoured, `undefined` members dropped, non-finite numbers as `null`). Hashing needs
 * one spelling per value; a record read back from S3 re-serialises to the same string.
 *
 * @throws TypeError on a circular structure or a bigint, which JSON cannot represent.
 */
export function canonicalJson(value: unknown): string {
  return serialise(value, new Set()) ?? 'null';
}

function serialise(input: unknown, ancestors: Set<object>): string | undefined {
  let value = input;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('canonicalJson cannot serialise a bigint.');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  const obj = value as object;
  if (ancestors.has(obj)) throw new TypeError('canonicalJson cannot serialise a circular structure.');
  ancestors.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = `[${obj.map((item) => serialise(item, ancestors) ?? 'null').join(',')}]`;
  } else {
    const members: string[] = [];
    for (const key of Object.keys(obj).sort()) {
      const member = serialise((obj as Record<string, unknown>)[key], ancestors);
      if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
    }
    out = `{${members.join(',')}}`;
  }
  ancestors.delete(obj);
  return out;
}

/**
 * sha256 hex of the canonical JSON of `record` without its `hash` field (nor the store's `writer`
 * and `mac`, which are added after sealing): what `hash` must equal.
 */
export function hashRecord(record: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, writer: _w, mac: _m, ...content } = record;
  return createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex');
}

/**
 * Seals a record onto the chain whose head is `head` (null for a decision's first record):
 * sets `seq` and `prevHash` from the head and computes `hash`.
 */
export function sealRecord(input: Omit<AuditRecord, 'hash' | 'prevHash' | 'seq'>, head: AuditHead | null): AuditRecord {
  // Strip chain fields a caller may have spread in from an earlier record at runtime.
  const { hash: _h, prevHash: _p, seq: _s, writer: _w, mac: _m, ...content } = input as AuditRecord;
  const unsealed = { ...content, seq: head === null ? 0 : head.seq + 1, prevHash: head === null ? GENESIS_HASH : head.hash };
  return { ...unsealed, hash: hashRecord(unsealed) };
}

/** The head to carry in the envelope so the next stage links to `record`. */
export function headOf(record: AuditRecord): AuditHead {
  return { seq: record.seq, hash: record.hash };
}

/**
 * S3 key of a record: `decisions/<integration>/<decisionId>/<seq 4 digits>-<stage>-<attempt>-<hash 12>.json`.
 * Content-addressed by the record's own hash, so two deliveries of one message (SQS is at least
 * once, and both may say attempt 1) write two sibling records instead of colliding, the same
 * record written twice is the same key, and lexical order is still chain order.
 */
export function auditKey(record: Pick<AuditRecord, 'integration' | 'decisionId' | 'seq' | 'stage' | 'attempt' | 'hash'>): string {
  return `decisions/${record.integration}/${record.decisionId}/${String(record.seq).padStart(4, '0')}-${record.stage}-${record.attempt}-${record.hash.slice(0, 12)}.json`;
}

/** Sibling records linked to the same predecessor: a stage that ran more than once. */
export interface ChainRetry {
  seq: number;
  prevHash: string;
  /** The siblings, in attempt order. */
  records: Array<{ stage: string; attempt: number; hash: string }>;
}

/** Result of {@link verifyChain}. */
export interface ChainVerification {
  /** True when every record's hash verifies and every record links into the chain. */
  ok: boolean;
  /** One sentence per problem found. */
  problems: string[];
  /** The longest chain of valid, linked records from genesis, in seq order. */
  chain: AuditRecord[];
  /** Stages that wrote more than one attempt (allowed, reported for the reader). */
  retries: ChainRetry[];
}

/**
 * Verifies the records of one decision (in any order): recomputes every hash, checks every link,
 * and returns the longest valid chain. Tampering with any field of any record shows up as a hash
 * that does not match, or as a successor whose link points at a record that is not there.
 */
export function verifyChain(records: AuditRecord[]): ChainVerification {
  const problems: string[] = [];
  if (records.length === 0) return { ok: false, problems: ['There are no audit records.'], chain: [], retries: [] };

  const { decisionId, integration } = records[0];
  const byHash = new Map<string, AuditRecord>();
  for (const record of records) {
    const label = describe(record);
    if (hashRecord(record) !== record.hash) {
      problems.push(`${label}: its hash does not match its contents (tampered or corrupted).`);
      continue;
    }
    if (record.decisionId !== decisionId || record.integration !== integration) {
      problems.push(`${label}: belongs to ${record.integration}/${record.decisionId}, not ${integration}/${decisionId}.`);
      continue;
    }
    byHash.set(record.hash, record); // an exact duplicate (same hash) is the same record
  }

  const children = new Map<string, AuditRecord[]>();
  const linked: AuditRecord[] = [];
  for (const record of byHash.values()) {
    const label = describe(record);
    if (record.seq === 0) {
      if (record.prevHash !== GENESIS_HASH) {
        problems.push(`${label}: is the first record but does not link to the genesis hash.`);
        continue;
      }
    } else {
      const parent = byHash.get(record.prevHash);
      if (parent === undefined) {
        problems.push(`${label}: links to ${String(record.prevHash).slice(0, 12)}…, which is not a valid record in the log (missing or tampered).`);
        continue;
      }
      if (parent.seq !== record.seq - 1) {
        problems.push(`${label}: links to a record with seq ${parent.seq}, expected ${record.seq - 1}.`);
        continue;
      }
    }
    linked.push(record);
    const siblings = children.get(record.prevHash) ?? [];
    siblings.push(record);
    children.set(record.prevHash, siblings);
  }

  const retries: ChainRetry[] = [];
  for (const [prevHash, siblings] of children) {
    if (siblings.length < 2) continue;
    const ordered = [...siblings].sort(byAttempt);
    retries.push({ seq: ordered[0].seq, prevHash, records: ordered.map((r) => ({ stage: r.stage, attempt: r.attempt, hash: r.hash })) });
  }
  retries.sort((a, b) => a.seq - b.seq || a.prevHash.localeCompare(b.prevHash));

  return { ok: problems.length === 0, problems, chain: longestChain(children), retries };
}

// Depth-first from genesis over records whose links all verified; on equal length the later
// attempt wins, since a retry supersedes the attempt it repeats.
function longestChain(children: Map<string, AuditRecord[]>): AuditRecord[] {
  const best = (prevHash: string, seen: Set<string>): AuditRecord[] => {
    let winner: AuditRecord[] = [];
    for (const child of [...(children.get(prevHash) ?? [])].sort(byAttempt)) {
      if (seen.has(child.hash)) continue;
      seen.add(child.hash);
      const path = [child, ...best(child.hash, seen)];
      seen.delete(child.hash);
      if (path.length >= winner.length) winner = path;
    }
    return winner;
  };
  return best(GENESIS_HASH, new Set());
}

function byAttempt(a: AuditRecord, b: AuditRecord): number {
  return a.attempt - b.attempt || String(a.at).localeCompare(String(b.at)) || a.hash.localeCompare(b.hash);
}

function describe(record: AuditRecord): string {
  return `Record ${record.seq} (${record.stage}, attempt ${record.attempt})`;
}
