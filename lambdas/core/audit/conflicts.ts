import type { AuditRecord } from '../audit-record.js';

/** Two or more outcome records of one stage linked to the same predecessor. */
export interface AuditConflict {
  seq: number;
  stage: string;
  prevHash: string;
  /** The competing records, in attempt order. */
  records: Array<{ kind: string; attempt: number; hash: string; outcome?: string }>;
}

/** The kind of the record a retried stage writes for a failed attempt: a sibling that is not an outcome. */
export const ATTEMPT_FAILED = 'attempt_failed';

/**
 * Conflicts among a decision's (hash-valid) records: a stage that wrote two outcomes at one chain
 * position. A retry writes `attempt_failed` siblings and then one outcome, which is not a
 * conflict; two outcomes are, whoever wrote them, and neither is chosen silently.
 */
export function findConflicts(records: AuditRecord[]): AuditConflict[] {
  const groups = new Map<string, Map<string, AuditRecord>>();
  for (const record of records) {
    if (record.kind === ATTEMPT_FAILED) continue;
    const id = `${record.prevHash}\u0000${record.stage}`;
    const group = groups.get(id) ?? new Map<string, AuditRecord>();
    group.set(record.hash, record); // the same record twice is one record
    groups.set(id, group);
  }
  const conflicts: AuditConflict[] = [];
  for (const group of groups.values()) {
    if (group.size < 2) continue;
    const ordered = [...group.values()].sort((a, b) => a.attempt - b.attempt || String(a.at).localeCompare(String(b.at)));
    conflicts.push({
      seq: ordered[0].seq, stage: ordered[0].stage, prevHash: ordered[0].prevHash,
      records: ordered.map((r) => ({ kind: r.kind, attempt: r.attempt, hash: r.hash, ...(typeof r.data?.outcome === 'string' ? { outcome: r.data.outcome } : {}) })),
    });
  }
  return conflicts.sort((a, b) => a.seq - b.seq || a.stage.localeCompare(b.stage));
}

/** Records whose predecessor is an `attempt_failed` record: a retry hands on from the head it was given, never from its failure. */
export function childrenOfFailedAttempts(records: AuditRecord[]): AuditRecord[] {
  const failed = new Set(records.filter((r) => r.kind === ATTEMPT_FAILED).map((r) => r.hash));
  return records.filter((r) => failed.has(r.prevHash));
}

/** One line per conflict: stage, position and the competing records. */
export function describeConflict(conflict: AuditConflict): string {
  const rivals = conflict.records.map((r) => `${r.kind} attempt ${r.attempt} (${r.hash.slice(0, 12)}${r.outcome ? `, outcome ${r.outcome}` : ''})`);
  return `${conflict.stage} wrote ${conflict.records.length} outcome records at seq ${conflict.seq}, all linked to ${conflict.prevHash.slice(0, 12)}…: ${rivals.join(' vs ')}`;
}
