/**
 * What `seamwork audit verify` can find, one code per kind of damage. The sentence is what the
 * code means; a finding's own message names the decision, the record and the evidence.
 */
export const AUDIT_FINDING_CODES = {
  UNREADABLE: 'an object under decisions/ or checkpoints/ is not a JSON audit record or checkpoint',
  KEY_MISMATCH: 'a record is stored under a key that is not its own (copied, moved or reordered)',
  HASH_MISMATCH: 'a record\'s content does not match its hash (edited without re-sealing)',
  MAC_MISSING: 'a record carries no writer MAC',
  MAC_INVALID: 'a record\'s MAC does not verify under its writer\'s key (forged or re-sealed by another writer)',
  WRITER_NOT_ALLOWED: 'a record was sealed by a writer that may not write that stage\'s records',
  CHAIN_BROKEN: 'a record does not link into its decision\'s chain (a predecessor deleted or replaced)',
  CHILD_OF_FAILED_ATTEMPT: 'a record links to an attempt_failed record, which nothing hands on from',
  CONFLICT: 'two outcome records of one stage share a predecessor (a forged or doubled outcome)',
  CHECKPOINT_INVALID: 'a checkpoint is malformed, or its hash or root does not match its content',
  CHECKPOINT_SIGNATURE: 'a checkpoint\'s signature does not verify under the checkpointer\'s key',
  CHECKPOINT_CHAIN: 'a checkpoint does not link to its predecessor, or checkpoints are missing from the sequence',
  CHECKPOINT_HEAD_MISSING: 'the head record a checkpoint saw for a decision is gone (its last records deleted)',
  CHECKPOINT_COVERAGE: 'the records a checkpoint covered for a decision are not all there, or were changed',
  DECISION_MISSING: 'a decision a checkpoint covered has no records left (the whole decision deleted)',
  DEDUPE_WITHOUT_RECORDS: 'the dedupe table names a decision that has no audit records',
  DELETE_MARKER: 'a delete marker hides an audit object (a versioned bucket keeps the object behind it)',
} as const;

/** One kind of damage the verifier reports. */
export type AuditFindingCode = keyof typeof AUDIT_FINDING_CODES;

/** One problem found in the audit log. */
export interface AuditFinding {
  code: AuditFindingCode;
  /** A sentence naming the decision, the record and what is wrong. */
  message: string;
  integration?: string;
  decisionId?: string;
  /** The object key concerned, when there is one. */
  key?: string;
}
