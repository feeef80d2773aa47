import type { AuditArchive } from './archive.js';
import { checkpointSeqOf, hashCheckpoint, listCheckpointKeys, parseCheckpoint, verifyCheckpointSignature, type CheckpointEntry } from './checkpoint.js';
import { describeConflict, findConflicts } from './conflicts.js';
import type { AuditFinding } from './finding.js';
import { CHECKPOINTER_KEY, type AuditKeyRing } from './key-ring.js';
import { readDecision, groupDecisions } from './read-log.js';
import { checkCoverage } from './verify-log.js';

/** Where one decision stands against the checkpoints, for `seamwork trace`. */
export type DecisionCheckpointState =
  | { state: 'covered'; checkpoint: number; headSeq: number | null; signature: 'verified' | 'unverified'; problems: string[] }
  | { state: 'not-checkpointed' }
  | { state: 'conflict'; conflicts: string[] };

/**
 * The newest checkpoint covering one decision and whether its records still match it, or the
 * conflicts that make its outcome undecided. Reads every checkpoint (a CLI call, not a hot path).
 */
export async function decisionCheckpointState(archive: AuditArchive, integration: string, decisionId: string, keys?: AuditKeyRing): Promise<DecisionCheckpointState> {
  const group = (await groupDecisions(archive, integration)).find((g) => g.decisionId === decisionId);
  const { records } = group ? await readDecision(archive, group.objects) : { records: [] };
  const conflicts = findConflicts(records.map((r) => r.record));
  if (conflicts.length > 0) return { state: 'conflict', conflicts: conflicts.map(describeConflict) };

  const signingKey = await keys?.key(CHECKPOINTER_KEY);
  let latest: { seq: number; entry: CheckpointEntry; verified: boolean } | undefined;
  for (const key of await listCheckpointKeys(archive)) {
    if (checkpointSeqOf(key) === undefined) continue;
    const cp = parseCheckpoint(await archive.readObject(key));
    if (typeof cp === 'string' || hashCheckpoint(cp) !== cp.hash) continue;
    const verified = signingKey !== undefined && verifyCheckpointSignature(signingKey, cp);
    if (signingKey !== undefined && !verified) continue;
    const entry = cp.decisions.find((e) => e.integration === integration && e.decisionId === decisionId);
    if (entry) latest = { seq: cp.seq, entry, verified };
  }
  if (!latest) return { state: 'not-checkpointed' };
  const findings: AuditFinding[] = [];
  checkCoverage(latest.seq, latest.entry, records, findings);
  return { state: 'covered', checkpoint: latest.seq, headSeq: latest.entry.head?.seq ?? null, signature: latest.verified ? 'verified' : 'unverified', problems: findings.map((f) => f.message) };
}
