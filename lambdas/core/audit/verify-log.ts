import { auditKey, hashRecord, verifyChain, type AuditRecord } from '../audit-record.js';
import type { AuditArchive } from './archive.js';
import {
  checkpointSeqOf, coverageOrder, entriesRoot, hashCheckpoint, listCheckpointKeys, parseCheckpoint, recordsDigest, verifyCheckpointSignature,
  CHECKPOINT_PREFIX, type Checkpoint, type CheckpointEntry,
} from './checkpoint.js';
import { childrenOfFailedAttempts, describeConflict, findConflicts } from './conflicts.js';
import type { DecisionIndex } from './decision-index.js';
import type { AuditFinding } from './finding.js';
import { CHECKPOINTER_KEY, type AuditKeyRing } from './key-ring.js';
import { DECISIONS_PREFIX, groupDecisions, mapLimit, readDecision, type DecisionObjects, type StoredRecord } from './read-log.js';
import { verifyRecordMac, writerMayWrite } from './record-mac.js';

/** Options of {@link verifyAuditLog}. */
export interface VerifyAuditOptions {
  archive: AuditArchive;
  /** Writers' keys (one per stage, `operator`) and the `checkpointer` key. */
  keys: AuditKeyRing;
  /** Decisions known outside the log (the dedupe table). @default none: the cross-check is skipped */
  index?: DecisionIndex;
  /** Only this integration's decisions. @default every integration */
  integration?: string;
  /** Only decisions with an object modified since, and checkpoints made since. @default everything */
  since?: Date;
  /** A record without a writer MAC is a finding (false: a note, for logs written before MACs). @default true */
  requireMac?: boolean;
}

/** What {@link verifyAuditLog} found. */
export interface AuditVerification {
  /** Every problem; none means the log verifies. */
  findings: AuditFinding[];
  /** What could not be checked, and why. */
  notes: string[];
  counts: { decisions: number; records: number; checkpoints: number; notCheckpointed: number };
}

/**
 * Verifies everything the audit log lets a reader check: per record its key, hash, writer and
 * MAC; per decision its chain and conflicts; the checkpoints' chain, signatures and coverage;
 * the dedupe table against the decisions; delete markers where the bucket is versioned.
 */
export async function verifyAuditLog(opts: VerifyAuditOptions): Promise<AuditVerification> {
  const keys = cachedKeys(opts.keys);
  const findings: AuditFinding[] = [];
  const notes: string[] = [];
  const since = opts.since?.getTime() ?? -Infinity;

  const checkpoints = await checkCheckpoints(opts.archive, keys, findings);
  const latest = latestEntries(checkpoints.filter((c) => new Date(c.until).getTime() >= since), opts.integration);
  const groups = await groupDecisions(opts.archive, opts.integration);
  const inScope = groups.filter((g) => latest.has(idOf(g)) || g.objects.some((o) => o.lastModified.getTime() >= since));
  const read = await mapLimit(inScope, 8, async (g) => ({ group: g, records: await checkDecision(opts.archive, g, keys, opts.requireMac ?? true, findings, notes) }));
  const byId = new Map(read.map((r) => [idOf(r.group), r.records]));

  for (const [id, { seq, entry }] of latest) checkCoverage(seq, entry, byId.get(id), findings);
  if (opts.index) await checkIndex(opts.index, opts.integration, new Set(groups.map(idOf)), findings);
  else notes.push('No decision index given: the dedupe table was not cross-checked.');
  const markers = await opts.archive.deleteMarkers([DECISIONS_PREFIX, CHECKPOINT_PREFIX]);
  if (markers.supported) {
    for (const m of markers.markers) findings.push({ code: 'DELETE_MARKER', key: m.key, message: `${m.key}: hidden by a delete marker${m.versionId ? ` (version ${m.versionId})` : ''}${m.at ? ` since ${m.at.toISOString()}` : ''}.` });
  } else {
    notes.push(`Delete markers not checked: ${markers.reason}`);
  }
  if (checkpoints.length === 0) notes.push('No checkpoints: deleting a decision\'s last records or a whole decision is detectable only through the dedupe table.');
  const notCheckpointed = read.filter((r) => !latest.has(idOf(r.group))).length;
  if (notCheckpointed > 0) notes.push(`${notCheckpointed} decision(s) are not covered by a checkpoint yet: deleting their last records would not be detected.`);
  return {
    findings: findings.sort((a, b) => `${a.integration}/${a.decisionId}/${a.key}`.localeCompare(`${b.integration}/${b.decisionId}/${b.key}`)),
    notes,
    counts: { decisions: read.length, records: read.reduce((n, r) => n + r.group.objects.length, 0), checkpoints: checkpoints.length, notCheckpointed },
  };
}

// Per record: key, hash, writer, MAC. The records that pass are the decision's trusted records;
// chain, conflicts and failed-attempt children are checked over them. Returns every parsed record.
async function checkDecision(
  archive: AuditArchive, group: DecisionObjects, keys: AuditKeyRing, requireMac: boolean, findings: AuditFinding[], notes: string[],
): Promise<StoredRecord[]> {
  const { integration, decisionId } = group;
  const at = (key: string | undefined, code: AuditFinding['code'], message: string) => findings.push({ code, integration, decisionId, ...(key ? { key } : {}), message: `${integration}/${decisionId}: ${message}` });
  const { records, unreadable } = await readDecision(archive, group.objects);
  for (const u of unreadable) at(u.key, 'UNREADABLE', `${u.key} is not an audit record (${u.reason}).`);
  const trusted: AuditRecord[] = [];
  let unsealed = 0;
  for (const { key, record } of records) {
    const label = `record ${record.seq} (${record.stage} ${record.kind}, attempt ${record.attempt}) at ${key}`;
    if (hashRecord(record) !== record.hash) { at(key, 'HASH_MISMATCH', `${label}: its content does not match its hash.`); continue; }
    if (auditKey(record) !== key) { at(key, 'KEY_MISMATCH', `${label}: belongs at ${auditKey(record)}.`); continue; }
    if (record.mac === undefined && record.writer === undefined) {
      if (requireMac) { at(key, 'MAC_MISSING', `${label}: carries no writer MAC.`); continue; }
      unsealed += 1;
    } else if (typeof record.writer !== 'string' || !writerMayWrite(record.writer, record)) {
      at(key, 'WRITER_NOT_ALLOWED', `${label}: sealed by ${String(record.writer)}, which may not write ${record.stage} records.`); continue;
    } else {
      const key_ = await keys.key(record.writer);
      if (!key_) { at(key, 'MAC_INVALID', `${label}: there is no key for writer ${record.writer} to verify its MAC with.`); continue; }
      if (!verifyRecordMac(key_, record, key)) { at(key, 'MAC_INVALID', `${label}: its MAC does not verify under ${record.writer}'s key.`); continue; }
    }
    trusted.push(record);
  }
  if (unsealed > 0) notes.push(`${integration}/${decisionId}: ${unsealed} record(s) carry no writer MAC (accepted: MACs not required).`);
  if (trusted.length > 0) {
    for (const problem of verifyChain(trusted).problems) at(undefined, 'CHAIN_BROKEN', problem);
  }
  for (const c of findConflicts(trusted)) at(undefined, 'CONFLICT', `${describeConflict(c)}.`);
  for (const r of childrenOfFailedAttempts(trusted)) at(auditKey(r), 'CHILD_OF_FAILED_ATTEMPT', `record ${r.seq} (${r.stage} ${r.kind}) links to an attempt_failed record.`);
  return records;
}

// Every checkpoint: key, shape, hash, root, signature, link to its predecessor, no gaps. Returns
// the ones whose hash and signature verify (only those count for coverage).
async function checkCheckpoints(archive: AuditArchive, keys: AuditKeyRing, findings: AuditFinding[]): Promise<Checkpoint[]> {
  const valid: Checkpoint[] = [];
  const signingKey = await keys.key(CHECKPOINTER_KEY);
  let prev: Checkpoint | undefined;
  let expected = 0;
  for (const key of await listCheckpointKeys(archive)) {
    const seq = checkpointSeqOf(key);
    if (seq === undefined) { findings.push({ code: 'UNREADABLE', key, message: `${key}: not a checkpoint key (checkpoints/<8 digits>.json).` }); continue; }
    let body: unknown;
    try { body = await archive.readObject(key); } catch (err) { body = `unreadable: ${(err as Error).message}`; }
    const cp = parseCheckpoint(body);
    const bad = (code: AuditFinding['code'], message: string) => findings.push({ code, key, message: `checkpoint ${seq}: ${message}` });
    if (typeof cp === 'string') { bad('CHECKPOINT_INVALID', `malformed (${cp}).`); continue; }
    if (cp.seq !== seq) { bad('CHECKPOINT_INVALID', `says seq ${cp.seq} but is stored as ${key}.`); continue; }
    if (hashCheckpoint(cp) !== cp.hash) { bad('CHECKPOINT_INVALID', 'its content does not match its hash.'); continue; }
    if (entriesRoot(cp.decisions) !== cp.root) { bad('CHECKPOINT_INVALID', 'its Merkle root does not match its entries.'); continue; }
    if (!signingKey) { bad('CHECKPOINT_SIGNATURE', `there is no ${CHECKPOINTER_KEY} key to verify its signature with.`); continue; }
    if (!verifyCheckpointSignature(signingKey, cp)) { bad('CHECKPOINT_SIGNATURE', `its signature does not verify under the ${CHECKPOINTER_KEY} key.`); continue; }
    if (seq > expected) bad('CHECKPOINT_CHAIN', `checkpoint(s) ${expected}${seq - 1 > expected ? `–${seq - 1}` : ''} missing before it.`);
    else if (prev && cp.prevHash !== prev.hash) bad('CHECKPOINT_CHAIN', `does not link to checkpoint ${prev.seq} (prevHash ${cp.prevHash.slice(0, 12)}…, expected ${prev.hash.slice(0, 12)}…).`);
    else if (!prev && seq === 0 && !/^0{64}$/.test(cp.prevHash)) bad('CHECKPOINT_CHAIN', 'is the first checkpoint but does not link to the genesis hash.');
    valid.push(cp);
    prev = cp;
    expected = seq + 1;
  }
  return valid;
}

// The newest entry per decision across the checkpoints given (later checkpoints win).
function latestEntries(checkpoints: Checkpoint[], integration: string | undefined): Map<string, { seq: number; entry: CheckpointEntry }> {
  const out = new Map<string, { seq: number; entry: CheckpointEntry }>();
  for (const cp of checkpoints) for (const entry of cp.decisions) if (!integration || entry.integration === integration) out.set(idOf(entry), { seq: cp.seq, entry });
  return out;
}

/** What checkpoint `seq` covered of a decision must still be there: the head, and the first `records` records in coverage order. */
export function checkCoverage(seq: number, entry: CheckpointEntry, records: StoredRecord[] | undefined, findings: AuditFinding[]): void {
  const { integration, decisionId } = entry;
  const at = (code: AuditFinding['code'], message: string) => findings.push({ code, integration, decisionId, message: `${integration}/${decisionId}: ${message}` });
  if (!records || records.length === 0) return void at('DECISION_MISSING', `checkpoint ${seq} covered ${entry.records} record(s) of it; none is left.`);
  if (entry.head && !records.some((r) => r.record.hash === entry.head!.hash)) {
    return void at('CHECKPOINT_HEAD_MISSING', `checkpoint ${seq} saw head seq ${entry.head.seq} (${entry.head.hash.slice(0, 12)}…); it is gone, and the log now ends at seq ${Math.max(...records.map((r) => r.record.seq))}.`);
  }
  const covered = coverageOrder(records).slice(0, entry.records);
  if (covered.length < entry.records || recordsDigest(covered) !== entry.digest) {
    at('CHECKPOINT_COVERAGE', `checkpoint ${seq} covered ${entry.records} record(s); ${covered.length < entry.records ? `only ${records.length} exist now` : 'the records that sort first now are not the ones it signed'} (deleted, or inserted before them).`);
  }
}

async function checkIndex(index: DecisionIndex, integration: string | undefined, present: Set<string>, findings: AuditFinding[]): Promise<void> {
  const seen = new Set<string>();
  for await (const d of index.list()) {
    const id = idOf(d);
    if ((integration && d.integration !== integration) || seen.has(id)) continue;
    seen.add(id);
    if (!present.has(id)) findings.push({ code: 'DEDUPE_WITHOUT_RECORDS', integration: d.integration, decisionId: d.decisionId, message: `${id}: the dedupe table says it was accepted and enqueued, but it has no audit records.` });
  }
}

function idOf(d: { integration: string; decisionId: string }): string {
  return `${d.integration}/${d.decisionId}`;
}

function cachedKeys(keys: AuditKeyRing): AuditKeyRing {
  const cache = new Map<string, Promise<Buffer | undefined>>();
  return { key: (name) => cache.get(name) ?? (cache.set(name, keys.key(name)), cache.get(name)!) };
}
