import type { QueueStage, StageName } from './config-keys.js';
import type { ActionRequest, Claim, Evidence, SourceDocument } from './integration.js';
import type { CitedText } from './grounding/citations.js';
import type { CanarySample } from './grounding/divergence.js';
import type { EvaluatorRun } from './grounding/fresh-evaluator.js';
import type { Lineage } from './grounding/source-whitelist.js';

/** What infer gathered for verify's grounding checks besides the decision itself. */
export interface GroundingEvidence {
  /** Citations mode: the model's text blocks with the API's citations (step 5). */
  citations?: CitedText[];
  /** The second sample of a high-stakes decision (step 8). */
  canary?: CanarySample;
  /** The fresh-context evaluator's run (step 6). */
  evaluator?: EvaluatorRun;
  /** Which documents were admitted to the prompt and which were refused (step 9). */
  lineage?: Lineage;
}

/** Which path an event takes, chosen from flags at the infer stage. */
export type DecisionPath = 'ai' | 'baseline' | 'shadow';

/**
 * Where an accepted event ends: exactly one of these (invariant 1). `quarantine` and `dlq` are
 * parked, not lost: `seamwork dlq redrive` replays them, and the replay ends in one of the others.
 */
export type FinalOutcome = 'acted' | 'baseline' | 'review' | 'dlq' | 'quarantine';

/** Result of one check, recorded in the audit log. */
export interface CheckResult {
  /** Check id, e.g. `output-schema`, `quote-exists`, `confidence-floor`. */
  check: string;
  /** The grounding playbook step (1-10) the check enforces, when it is one (docs/grounding.md). */
  step?: number;
  /** `overridden`: the check failed and a person accepted the decision anyway (`seamwork review approve`); `data` says who and why. */
  verdict: 'pass' | 'fail' | 'retracted' | 'skipped' | 'overridden';
  /** A sentence a human understands. */
  detail: string;
  /** Evidence for the verdict (e.g. the unfound quote). */
  data?: Record<string, unknown>;
}

/** The head of a decision's audit hash chain, carried so the next stage can link to it. */
export interface AuditHead {
  seq: number;
  hash: string;
}

/** Model usage and cost of one decision. */
export interface UsageRecord {
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  /** What prompt caching saved against the same tokens uncached (negative on a cache write). */
  cacheSavingUsd?: number;
  /** What was reserved before the call (worst case). */
  reservedUsd: number;
  /**
   * Calls grounding added (divergence canary, fresh-context evaluator), each reserved and
   * reconciled like the generation; their cost is included in `costUsd`.
   */
  groundingCalls?: Array<{ purpose: 'canary' | 'evaluator'; model: string; inputTokens: number; outputTokens: number; costUsd: number }>;
}

/**
 * The decision envelope: what the queues carry between stages. It grows as it moves;
 * raw vendor bytes never travel past validate (they are in the audit record).
 */
export interface Envelope {
  v: 1;
  decisionId: string;
  integration: string;
  tenant: string;
  vendorEventId: string;
  receivedAt: string;
  /** Stage this envelope is addressed to. */
  stage: QueueStage;
  auditHead: AuditHead;
  /** Set only between ingest and validate: the raw body as received (UTF-8). */
  raw?: { body: string; headers: Record<string, string> };
  /** Redacted, validated input. */
  input?: unknown;
  contractVersion?: string;
  /** Windowed, redacted source documents. */
  documents?: SourceDocument[];
  path?: DecisionPath;
  /** Decisions produced at infer, checked at verify. */
  aiDecision?: Record<string, unknown>;
  baselineDecision?: Record<string, unknown>;
  usage?: UsageRecord;
  /** Evidence for the grounding checks gathered at infer: citations, second sample, evaluator, lineage. */
  grounding?: GroundingEvidence;
  /** The verified decision that reaches act, with the checks it passed. */
  verified?: {
    source: 'ai' | 'baseline';
    decision: Record<string, unknown>;
    actions: ActionRequest[];
    retracted: Evidence[];
    /** Claims retracted by grounding (step 3, 4 or 6). */
    retractedClaims?: Claim[];
    /** Shadow: the AI's verified actions, recorded but not executed. */
    shadowActions?: ActionRequest[];
  };
  checks?: CheckResult[];
  /** How many times a rate-limited inference was put back with a delay. */
  requeues?: number;
  /** Dry run (eval, replay): act records the actions instead of executing them. */
  dryRun?: boolean;
  /**
   * A one-off cap override granted by a person working the review queue (`seamwork review
   * approve`): for this decision's next inference only, every cap (per inference and each ledger
   * scope) is raised by `extraUsd`. Recorded in the audit log with the decision it was used for.
   */
  capOverride?: { approvedBy: string; at: string; reason: string; extraUsd: number };
  /**
   * A person's acceptance of a decision verify sent to review (`seamwork review approve`): at the
   * next verify only, a check that would block with one of `codes` is recorded as `overridden`
   * (with who and why) and the decision acts as it stands. Never accepts a schema failure;
   * retracted quotes stay retracted; not carried past verify.
   */
  humanApproval?: HumanApproval;
}

/** Who accepted a blocked decision, when, why, and which review codes the acceptance covers. */
export interface HumanApproval {
  approvedBy: string;
  at: string;
  reason: string;
  /** The review codes the person saw and accepted, e.g. `LOW_CONFIDENCE`. */
  codes: string[];
}

/** A message parked in a DLQ, the review queue or quarantine: the envelope plus why. */
export interface RejectionRecord {
  stage: StageName;
  integration: string;
  decisionId: string;
  code: string;
  /** A sentence a human understands. */
  reason: string;
  retryable: boolean;
  pointer?: string;
  contractVersion?: string;
  detail?: Record<string, unknown>;
  at: string;
  /** The envelope as it was when rejected (already redacted past validate). */
  envelope: Envelope;
}
