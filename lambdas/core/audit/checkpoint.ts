import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson, GENESIS_HASH, verifyChain, type AuditRecord } from '../audit-record.js';
import { AuditIntegrityError, ConfigurationError } from '../errors.js';
import type { AuditArchive } from './archive.js';
import { CHECKPOINTER_KEY, type AuditKeyRing } from './key-ring.js';
import { groupDecisions, mapLimit, readDecision, type StoredRecord } from './read-log.js';

/**
 * Signed checkpoints of the audit log, chained to one another like CloudTrail digest files or a
 * certificate-transparency tree head. Each one states, for every decision that changed since the
 * previous one, its head, how many records it had and a digest over their keys and hashes. A
 * record deleted later (the last one, or a whole decision) no longer matches what was signed.
 */

/** Where checkpoints live: `checkpoints/<seq, 8 digits>.json`. */
export const CHECKPOINT_PREFIX = 'checkpoints/';

/** What a checkpoint saw of one decision. */
export interface CheckpointEntry {
  integration: string;
  decisionId: string;
  /** Tip of the longest valid chain (null when no record verified). */
  head: { seq: number; hash: string } | null;
  /** Objects of the decision, and the digest over the first `records` of them in {@link coverageOrder}. */
  records: number;
  digest: string;
}

/** One checkpoint. `hash` covers everything but `hash` and `signature`; `signature` is the checkpointer's HMAC over `hash`. */
export interface Checkpoint {
  v: 1;
  seq: number;
  /** `hash` of checkpoint `seq - 1`, or the genesis hash for checkpoint 0. */
  prevHash: string;
  /** The previous checkpoint's `until` (null for the first). */
  from: string | null;
  /** When the listing behind this checkpoint started. */
  until: string;
  decisions: CheckpointEntry[];
  /** Merkle root (RFC 6962 style) over the entries' canonical JSON. */
  root: string;
  signer: string;
  hash: string;
  signature: string;
}

/** Options of {@link writeCheckpoint}. */
export interface CheckpointOptions {
  archive: AuditArchive;
  keys: AuditKeyRing;
  /** @default () => new Date() */
  now?: () => Date;
  /**
   * Decisions changed this long before the previous checkpoint's `until` are looked at again, so
   * a record written while that listing ran (or under a skewed clock) is never missed.
   * @default 300
   */
  overlapSeconds?: number;
}

/** The key of checkpoint `seq`. */
export function checkpointKey(seq: number): string {
  return `${CHECKPOINT_PREFIX}${String(seq).padStart(8, '0')}.json`;
}

/** The seq in a checkpoint key, or undefined for any other key. */
export function checkpointSeqOf(key: string): number | undefined {
  const m = /^checkpoints\/(\d{8})\.json$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

/**
 * The order coverage is counted in: seq, then attempt, then seal time, then key. Records written
 * after a checkpoint (a later seq, a retry's later attempt) sort after the ones it covered.
 */
export function coverageOrder(records: StoredRecord[]): StoredRecord[] {
  return [...records].sort((a, b) => a.record.seq - b.record.seq || a.record.attempt - b.record.attempt
    || String(a.record.at).localeCompare(String(b.record.at)) || a.key.localeCompare(b.key));
}

/** sha256 over `key hash` lines of the records, in the order given. */
export function recordsDigest(records: StoredRecord[]): string {
  return sha256(records.map((r) => `${r.key} ${r.record.hash}`).join('\n'));
}

/** What a checkpoint records of one decision's stored records. */
export function entryFor(integration: string, decisionId: string, records: StoredRecord[]): CheckpointEntry {
  const tip = verifyChain(records.map((r) => r.record)).chain.at(-1);
  return { integration, decisionId, head: tip ? { seq: tip.seq, hash: tip.hash } : null, records: records.length, digest: recordsDigest(coverageOrder(records)) };
}

/** RFC 6962 Merkle tree hash over the leaves (hex): 0x00-prefixed leaves, 0x01-prefixed nodes. */
export function merkleRoot(leaves: string[]): string {
  if (leaves.length === 0) return sha256('');
  const hash = (prefix: number, ...parts: Buffer[]) => createHash('sha256').update(Buffer.from([prefix])).update(Buffer.concat(parts)).digest();
  const tree = (items: string[]): Buffer => {
    if (items.length === 1) return hash(0, Buffer.from(items[0], 'utf8'));
    let split = 1;
    while (split * 2 < items.length) split *= 2;
    return hash(1, tree(items.slice(0, split)), tree(items.slice(split)));
  };
  return tree(leaves).toString('hex');
}

/** Merkle root over the entries of a checkpoint. */
export function entriesRoot(entries: CheckpointEntry[]): string {
  return merkleRoot(entries.map((e) => canonicalJson(e)));
}

/** sha256 of a checkpoint's canonical JSON without `hash` and `signature`. */
export function hashCheckpoint(checkpoint: Omit<Checkpoint, 'hash' | 'signature'> & { hash?: string; signature?: string }): string {
  const { hash: _h, signature: _s, ...content } = checkpoint;
  return sha256(canonicalJson(content));
}

/** The checkpointer's HMAC over a checkpoint hash. */
export function signCheckpoint(key: Buffer, hash: string): string {
  return createHmac('sha256', key).update(`seamwork-checkpoint-v1\n${hash}`, 'utf8').digest('hex');
}

/** True when `checkpoint.signature` verifies under `key` (constant time). */
export function verifyCheckpointSignature(key: Buffer, checkpoint: Checkpoint): boolean {
  const expected = Buffer.from(signCheckpoint(key, checkpoint.hash), 'hex');
  const actual = Buffer.from(String(checkpoint.signature), 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Writes the next checkpoint: every decision with an object modified since the previous
 * checkpoint (less the overlap) whose state differs from what recent checkpoints already say.
 * Returns undefined when nothing changed (no empty checkpoints).
 *
 * @throws AuditIntegrityError when the latest checkpoint is unreadable, or another checkpointer wrote the same seq first.
 */
export async function writeCheckpoint(opts: CheckpointOptions): Promise<Checkpoint | undefined> {
  const now = opts.now ?? (() => new Date());
  const key = await opts.keys.key(CHECKPOINTER_KEY);
  if (!key) throw new ConfigurationError(`No ${CHECKPOINTER_KEY} key: checkpoints cannot be signed.`);
  const until = now();
  const recent = await recentCheckpoints(opts.archive, key, (opts.overlapSeconds ?? 300) * 1000);
  const latest = recent[0];
  const since = latest ? new Date(latest.until).getTime() - (opts.overlapSeconds ?? 300) * 1000 : -Infinity;
  const known = new Map<string, string>();
  for (const cp of [...recent].reverse()) for (const e of cp.decisions) known.set(`${e.integration}/${e.decisionId}`, canonicalJson(e));

  const changed = (await groupDecisions(opts.archive)).filter((g) => g.objects.some((o) => o.lastModified.getTime() >= since));
  const read = await mapLimit(changed, 8, async (g) => entryFor(g.integration, g.decisionId, (await readDecision(opts.archive, g.objects)).records));
  const entries = read.filter((e) => known.get(`${e.integration}/${e.decisionId}`) !== canonicalJson(e));
  if (entries.length === 0) return undefined;

  const content = {
    v: 1 as const, seq: latest ? latest.seq + 1 : 0, prevHash: latest?.hash ?? GENESIS_HASH, from: latest?.until ?? null,
    until: until.toISOString(), decisions: entries, root: entriesRoot(entries), signer: CHECKPOINTER_KEY,
  };
  const hash = hashCheckpoint(content);
  const checkpoint: Checkpoint = { ...content, hash, signature: signCheckpoint(key, hash) };
  await opts.archive.writeOnce(checkpointKey(checkpoint.seq), checkpoint);
  return checkpoint;
}

/** Checkpoint keys in seq order. */
export async function listCheckpointKeys(archive: AuditArchive): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of archive.listObjects(CHECKPOINT_PREFIX)) keys.push(o.key);
  return keys.sort();
}

// The latest checkpoint and those before it whose window reaches into the overlap, newest first.
// A checkpoint that does not verify is never extended: a forged one would otherwise become the base.
async function recentCheckpoints(archive: AuditArchive, key: Buffer, overlapMs: number): Promise<Checkpoint[]> {
  const keys = (await listCheckpointKeys(archive)).filter((k) => checkpointSeqOf(k) !== undefined);
  const out: Checkpoint[] = [];
  for (const k of keys.reverse()) {
    const cp = parseCheckpoint(await archive.readObject(k));
    let problem = typeof cp === 'string' ? cp : undefined;
    if (typeof cp !== 'string' && (hashCheckpoint(cp) !== cp.hash || !verifyCheckpointSignature(key, cp))) problem = 'its hash or signature does not verify';
    if (typeof cp === 'string' || problem) throw new AuditIntegrityError(`Checkpoint ${k} does not verify (${problem}); run \`seamwork audit verify\` before writing another.`);
    out.push(cp);
    if (new Date(cp.until).getTime() < new Date(out[0].until).getTime() - 2 * overlapMs) break;
  }
  return out;
}

/** A checkpoint from its stored JSON, or a sentence saying what is malformed. */
export function parseCheckpoint(body: unknown): Checkpoint | string {
  const cp = body as Partial<Checkpoint> | null;
  if (cp === null || typeof cp !== 'object') return 'not a JSON object';
  if (cp.v !== 1 || !Number.isInteger(cp.seq) || typeof cp.prevHash !== 'string' || typeof cp.until !== 'string') return 'missing v, seq, prevHash or until';
  if (!Array.isArray(cp.decisions) || typeof cp.root !== 'string' || typeof cp.hash !== 'string' || typeof cp.signature !== 'string') return 'missing decisions, root, hash or signature';
  for (const e of cp.decisions) {
    if (typeof e?.integration !== 'string' || typeof e.decisionId !== 'string' || !Number.isInteger(e.records) || typeof e.digest !== 'string') return 'an entry lacks integration, decisionId, records or digest';
  }
  return cp as Checkpoint;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
