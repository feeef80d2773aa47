import type { AuditRecord } from './audit-record.js';
import type { IntegrationFlag } from './flags.js';
import type { ActionRequest } from './integration.js';
import type { BuiltPrompt } from './prompt.js';

/**
 * The small interfaces the pure pipeline talks through. AWS implementations live in
 * lambdas/aws, in-memory ones (for eval dry runs and unit tests) in lambdas/core/memory-ports.ts.
 */

/** Layer 6: append-only, write-once audit log. */
export interface AuditStore {
  /**
   * Writes one sealed record. Appending the very same record again succeeds (and may say
   * `'exists'`); a different record at an existing key fails with AuditIntegrityError.
   */
  append(record: AuditRecord): Promise<void | 'exists'>;
  /** Every record of one decision, in key order. */
  listDecision(integration: string, decisionId: string): Promise<AuditRecord[]>;
}

/** What a dedupe claim found. */
export type DedupeClaim =
  | { claimed: true }
  /** `enqueued`: a decision already exists; `pending`: another delivery is being accepted right now. */
  | { claimed: false; decisionId: string; state: 'enqueued' | 'pending' };

/**
 * Ingest dedupe by vendor event id, in two phases so a crash between claiming and enqueueing
 * never turns the vendor's retry into a false duplicate: a claim is `pending` with a lease until
 * `confirm` marks it `enqueued`; a pending claim whose lease ran out may be taken over.
 */
export interface DedupeStore {
  claim(key: string, decisionId: string, opts: { ttlSeconds: number; leaseSeconds: number; now: Date }): Promise<DedupeClaim>;
  /** Marks the claim enqueued: from now on a repeat is a duplicate. */
  confirm(key: string, decisionId: string): Promise<void>;
  /** Gives a claim back (only if still held by this decision), so a vendor retry is processed. */
  release(key: string, decisionId: string): Promise<void>;
}

/** One scope of a spend cap, e.g. tenant per day. */
export interface CapScope {
  /** Ledger key, e.g. `tenant#acme#day#2026-11-25`. */
  key: string;
  /** Cap in integer micro-dollars. */
  capMicroUsd: number;
}

/** An atomic reservation against every scope, reconciled after the call. */
export interface Reservation {
  scopes: CapScope[];
  reservedMicroUsd: number;
  /** Set when the reservation is recorded, so a crashed invocation's can expire and be released. */
  id?: string;
  /** Each scope's spend right after this reservation (reservations included), when the ledger reports it. */
  spentAfterMicroUsd?: Record<string, number>;
}

/** What a reservation is for, and how long it may live unreconciled. */
export interface ReservationHold {
  /** Unique per attempt, e.g. `<decisionId>#<attempt>`. */
  id: string;
  decisionId: string;
  integration: string;
  tenant: string;
  /** After this long without a reconcile the reservation is released by {@link CostLedger.releaseExpired}. */
  ttlSeconds: number;
  now: Date;
}

/** A reservation released because its invocation never reconciled it. */
export interface ReleasedReservation {
  id: string;
  decisionId: string;
  reservedMicroUsd: number;
  scopes: string[];
  /** The call had been made: the worst case was kept as spend rather than given back. */
  charged?: boolean;
}

/** Layer 3: the cost ledger. Reservations are atomic, worst case first (invariant 3). */
export interface CostLedger {
  /**
   * Reserves `microUsd` in every scope or none; returns the scope that refused, if any. With a
   * hold, the reservation is recorded so that it expires and is released if never reconciled.
   */
  reserve(scopes: CapScope[], microUsd: number, hold?: ReservationHold): Promise<{ ok: true; reservation: Reservation } | { ok: false; refusedBy: CapScope; spentMicroUsd: number }>;
  /** Replaces the reservation by the actual spend (releases the difference). */
  reconcile(reservation: Reservation, actualMicroUsd: number): Promise<void>;
  /**
   * Releases up to `limit` recorded reservations whose time ran out (crashed invocations). One
   * marked as invoked (the model may have billed) is charged at its worst case instead.
   */
  releaseExpired(now: Date, limit?: number): Promise<ReleasedReservation[]>;
  /** Marks a recorded reservation as invoked, just before the model call. */
  markInvoked?(reservation: Reservation): Promise<void>;
}

/** Layer 3 pacing: a tokens-per-minute budget shared by every invocation of an integration. */
export interface TokenPacer {
  /** Takes `tokens` from the minute's budget of `key`, or says how long until the next minute. */
  take(key: string, tokens: number, limitPerMinute: number, now: Date): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number; usedThisMinute: number }>;
}

/** Layer 7: flags, read through the AppConfig agent. */
export interface FlagSource {
  get(integration: string): Promise<IntegrationFlag>;
}

/** What a model call returns, in the Anthropic Messages API shape we rely on. */
export interface ModelResult {
  /** Input of the forced tool call, or undefined if the model did not call it. */
  toolInput?: unknown;
  /** Any text the model produced instead (recorded, never trusted). */
  text?: string;
  /** Text blocks with the API's citations, in order (citations mode, grounding step 5). */
  textBlocks?: Array<{ text: string; citations?: Array<Record<string, unknown>> | null }>;
  /** The API's message id (`msg_…`). */
  messageId?: string;
  stopReason: string | null;
  model: string;
  requestId?: string;
  usage: { input_tokens: number; output_tokens: number; cache_creation_input_tokens?: number | null; cache_read_input_tokens?: number | null };
  /**
   * The answer of a call an earlier attempt of the same stage made and paid for (kept in the
   * stage ledger), not a new call: reconciled at $0 so the ledger counts it once.
   */
  replayed?: boolean;
}

/** Layer 3: the model, behind one tiny interface (`anthropic:<model>`). */
export interface ModelPort {
  readonly id: string;
  invoke(prompt: BuiltPrompt): Promise<ModelResult>;
  /** Counts the request's input tokens the way the API bills them (Anthropic's count_tokens); absent → estimated. */
  countTokens?(prompt: BuiltPrompt): Promise<number>;
}

/**
 * PII vault: originals of redaction tokens (for actions that need them) and the key of each
 * decision's sealed raw body. Everything here expires; expiry erases.
 */
export interface TokenVault {
  put(decisionId: string, tokens: Record<string, string>, ttlSeconds: number, now: Date): Promise<void>;
  get(decisionId: string, now: Date): Promise<Record<string, string>>;
  putBodyKey(decisionId: string, key: Buffer, ttlSeconds: number, now: Date): Promise<void>;
  /** The key, or undefined once it expired or was erased. */
  getBodyKey(decisionId: string, now: Date): Promise<Buffer | undefined>;
}

/** What executing one action did. */
export interface ActionResult {
  action: string;
  /**
   * `executed`: sent now; `duplicate`: an earlier attempt's result, from the action ledger;
   * `reconciled`: an earlier attempt's outcome was unknown and the vendor shows it committed;
   * `recorded`: a dry run or shadow action, never sent.
   */
  status: 'executed' | 'duplicate' | 'reconciled' | 'recorded';
  /** Connector response summary (status code, ids), never credentials. */
  response?: Record<string, unknown>;
}

/** Layer 5: executes actions exactly once per (decision id, action name). */
export interface ActionExecutor {
  execute(decisionId: string, action: ActionRequest, tokens: Record<string, string>): Promise<ActionResult>;
}

/** Sends envelopes and records to queues by logical name (`infer`, `review`, `validate-dlq`). */
export interface QueueSender {
  send(queue: string, body: unknown, options?: { delaySeconds?: number }): Promise<void>;
}

/** One day's count of one kind of drift at one field of one contract version. */
export interface DriftCount {
  contractVersion: string;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  field: string;
  kind: string;
  count: number;
  /** Whether the findings were tolerated by an open migration window. */
  tolerated: boolean;
  /** The latest sentence seen for it. */
  message: string;
}

/** Layer 1: drift seen per field and day, for `seamwork contracts drift`. */
export interface DriftStore {
  /** Adds each finding (weighted by its occurrences in one payload counting once) to its day's count. */
  record(integration: string, contractVersion: string, findings: ReadonlyArray<{ field: string; kind: string; message: string; migration?: { expired: boolean } }>, at: Date): Promise<void>;
  /** Every count of an integration from `since` (a UTC day) on, oldest first. */
  list(integration: string, since: string): Promise<DriftCount[]>;
}

/** Layer 7: metrics, from the fixed vocabulary in metrics.ts. */
export interface MetricsSink {
  add(name: string, value?: number, unit?: 'Count' | 'Milliseconds' | 'Percent' | 'None'): void;
}

/** A message a stage hands on once it has committed: queue, body, delay. */
export interface StageSend {
  queue: string;
  body: unknown;
  delaySeconds?: number;
}

/**
 * What a stage committed for one (decision, stage, chain position): the audit records it writes
 * and the messages it hands on. Stored before either is applied, so a redelivery after a crash
 * applies exactly this again (same records, same messages) instead of running the stage twice.
 */
export interface StageCommit {
  records: AuditRecord[];
  sends: StageSend[];
  /** What the runner told the event source: the outcome it reached, if final. */
  outcome?: string;
  /** Metrics the outcome emits once applied (records emit their own). */
  metrics?: string[];
}

/** What claiming a stage found. */
export type StageClaim =
  /** This delivery runs the stage; `memo` holds the steps an earlier attempt already completed. */
  | { kind: 'claimed'; token: string; memo: Record<string, unknown> }
  /**
   * The stage already committed. `handedOn`: its records and messages were all applied. Not yet:
   * `applyToken` is set when this delivery took over applying them (the delivery that committed
   * died: its lease ran out); absent while that delivery may still be applying them itself.
   */
  | { kind: 'completed'; commit: StageCommit; handedOn: boolean; applyToken?: string }
  /** Another delivery holds the stage until `leaseUntil` (epoch ms). */
  | { kind: 'busy'; leaseUntil: number };

/**
 * Layer 5/6 exactly-once per (decision, stage): a lease while a delivery runs a stage, the steps
 * with side effects it completed (a billed model call), and the commit it reached. The key names
 * the decision, the stage and the chain position, so a requeue or a redrive (a new position) runs
 * again while a redelivery of the same message does not.
 */
export interface StageLedger {
  /** Claims the stage for `leaseSeconds`, or reports who has it or what it committed. */
  claim(key: string, opts: { leaseSeconds: number; now: Date }): Promise<StageClaim>;
  /** Stores the result of one step with a side effect under the caller's lease. */
  remember(key: string, token: string, step: string, value: unknown): Promise<void>;
  /** Stores the commit if the caller still holds the lease (which now covers applying it); false when it lost it. */
  complete(key: string, token: string, commit: StageCommit): Promise<boolean>;
  /**
   * Gives the lease back: after a recorded retryable failure (the next delivery runs, memo kept),
   * or after a commit could not be applied (the next delivery applies it at once).
   */
  release(key: string, token: string): Promise<void>;
  /** Marks the commit fully applied. */
  markHandedOn(key: string): Promise<void>;
}

/** What the action ledger knows of one action of one decision. */
export type ActionState =
  | { state: 'none' }
  /** An attempt started sending at `firstAt` (the first of `attempts`); whether the vendor committed it is unknown. */
  | { state: 'sending'; firstAt: string; attempts: number; leaseUntil: number }
  | { state: 'done'; at: string; response: Record<string, unknown>; via: 'executed' | 'reconciled' };

/** What taking an action for sending found. */
export type ActionTake =
  /** This attempt may send; `unknown` when an earlier attempt's outcome is unknown (reconcile first). */
  | { ok: true; token: string; unknown: false }
  | { ok: true; token: string; unknown: true; firstAt: string }
  | { ok: false; state: ActionState };

/**
 * Layer 5: each action's progress between attempts, for exactly-once at the vendor. An attempt
 * takes the action with a lease before sending; the lease lapses with the call's worst case (or
 * is given back on a failed call), after which the next attempt must reconcile with the vendor
 * before it may send again.
 */
export interface ActionLedger {
  get(key: string): Promise<ActionState>;
  /** Takes the action if nobody has, or if the last attempt's lease lapsed or was given back. */
  take(key: string, opts: { leaseMs: number; now: Date }): Promise<ActionTake>;
  /** Gives the lease back after a failed call: the outcome stays unknown until reconciled. */
  release(key: string, token: string): Promise<void>;
  /** Forgets an attempt the vendor refused outright (a 4xx: nothing was committed), so the next one need not reconcile. */
  forget(key: string, token: string): Promise<void>;
  done(key: string, response: Record<string, unknown>, via: 'executed' | 'reconciled', now: Date): Promise<void>;
}
