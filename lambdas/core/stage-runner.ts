import { headOf, sealRecord, type AuditRecord } from './audit-record.js';
import type { QueueStage } from './config-keys.js';
import type { Envelope, RejectionRecord } from './envelope.js';
import { SeamworkError, toSeamworkError } from './errors.js';
import { METRIC_UNITS, METRICS } from './metrics.js';
import type { AuditStore, MetricsSink, QueueSender, StageCommit, StageLedger, StageSend } from './ports.js';
import { metricsOf } from './record-metrics.js';
import type { StageOutcome } from './stages/types.js';

/**
 * Where a fault-injection run may stop a handler dead, as a crash or a timeout would (chaos tests
 * only; nothing is injected unless a test wires it).
 */
export type CrashPoint = 'after-stage-work' | 'after-commit' | 'after-vendor-call' | 'after-ingest-send' | 'after-step';

/** Injected faults: `crash` throws {@link SimulatedCrash} when the run decides this point dies. */
export interface FaultInjector {
  crash(point: CrashPoint, decisionId: string): void;
}

/** A crash injected by a chaos test: it escapes every handler, as a dead process would. */
export class SimulatedCrash extends Error {
  constructor(point: CrashPoint, decisionId: string) {
    super(`simulated crash at ${point} of ${decisionId}`);
    this.name = 'SimulatedCrash';
  }
}

/**
 * The invocation ran out of time. In Lambda a timed-out invocation is killed; an in-process one (the
 * local stack) keeps running, so the runner stops it here, at the next point where it would commit,
 * apply or spend — as a killed one would have stopped.
 */
export class InvocationExpired extends Error {
  constructor(decisionId: string) {
    super(`the invocation running ${decisionId} is past its timeout`);
    this.name = 'InvocationExpired';
  }
}

/** Whether an error means the invocation is dead (an injected crash, or past its timeout): it escapes every handler. */
export function isDeadInvocation(err: unknown): boolean {
  return err instanceof SimulatedCrash || err instanceof InvocationExpired;
}

/** Ports the runner needs around any stage. */
export interface RunnerPorts {
  audit: AuditStore;
  queues: QueueSender;
  metrics: MetricsSink;
  now: () => Date;
  /**
   * Exactly-once per (decision, stage, chain position): a redelivery of a message whose stage
   * committed applies that commit again (idempotently) instead of running the stage.
   * @default none — every delivery runs (eval dry runs and unit tests)
   */
  ledger?: StageLedger;
  /** How long a delivery holds the stage: the invocation's remaining time. @default 300 */
  leaseSeconds?: number;
  /** How long a delivery waits for another one that holds the stage before giving up for now. @default 5000 */
  busyWaitMs?: number;
  faults?: FaultInjector;
  /** What is left of the invocation, in ms; at 0 the runner stops before committing, applying or spending. @default unbounded */
  remainingMs?: () => number | undefined;
}

/** What the runner tells the event source: `done` deletes the message, `retry` leaves it for redelivery. */
export type RunResult =
  | { status: 'done'; outcome?: string; duplicate?: boolean }
  | { status: 'retry'; error: SeamworkError };

/** A review-queue item: the envelope plus why a human must look. */
export type ReviewItem = Omit<RejectionRecord, 'retryable'> & { kind: 'review' };

/** A quarantine item: the envelope (raw body included) held by a drift policy, with the pointer. */
export type QuarantineItem = Omit<RejectionRecord, 'retryable'> & { kind: 'quarantine' };

/** What a stage function receives besides the envelope: steps with side effects, done once per stage. */
export interface StepMemo {
  /** Runs `fn` once per (decision, stage, step); a later attempt of the stage gets the stored result. */
  once<T>(step: string, fn: () => Promise<T>): Promise<T>;
}

/** The ledger key of one stage of one decision at one chain position. */
export function stageKey(stage: string, envelope: Pick<Envelope, 'integration' | 'decisionId' | 'auditHead'>): string {
  const head = envelope.auditHead ?? { seq: -1, hash: 'genesis' };
  // The stage comes first: in AWS each stage's role may touch only items under its own name
  // (IAM dynamodb:LeadingKeys), so one stage cannot plant another's memo or commit.
  return `${stage}#${envelope.integration}#${envelope.decisionId}#${head.seq}#${String(head.hash).slice(0, 16)}`;
}

/**
 * Runs one stage on one envelope with the same rules everywhere, exactly once per (decision,
 * stage, chain position):
 * - the stage is claimed first; a delivery of a message whose stage already committed does no
 *   work again — it re-applies that commit (same records, same messages) if it was not fully
 *   applied, and counts a `StageRedelivered`;
 * - the stage's outcome (audit record + what it hands on) is committed to the ledger before it is
 *   applied, so a crash anywhere after the commit repeats the same effects, never new ones;
 * - a non-retryable error (or a retryable one on its last delivery) parks the message in the
 *   stage's DLQ with a rejection record; a retryable one records `attempt_failed`, gives the
 *   claim back (completed steps kept) and is left for SQS to redeliver.
 */
export async function runStage(
  stage: QueueStage,
  envelope: Envelope,
  delivery: { attempt: number; maxReceiveCount: number },
  fn: (e: Envelope, memo: StepMemo) => Promise<StageOutcome>,
  ports: RunnerPorts,
): Promise<RunResult> {
  const seal = (kind: string, data: Record<string, unknown>): AuditRecord =>
    sealRecord({ decisionId: envelope.decisionId, integration: envelope.integration, stage, attempt: delivery.attempt, kind, at: ports.now().toISOString(), data }, envelope.auditHead);
  const key = stageKey(stage, envelope);
  const claim = ports.ledger ? await claimStage(ports.ledger, key, ports) : undefined;
  if (claim?.kind === 'busy') {
    return { status: 'retry', error: new SeamworkError('STAGE_BUSY', `Another delivery of ${envelope.decisionId} is running ${stage} (until ${new Date(claim.leaseUntil).toISOString()}).`, true) };
  }
  if (claim?.kind === 'completed') {
    ports.metrics.add(METRICS.StageRedelivered);
    if (claim.handedOn) return { status: 'done', outcome: claim.commit.outcome, duplicate: true };
    // The delivery that committed is still applying it (we waited): stay on the queue until it has,
    // rather than trust it to finish — it may be this very message, redelivered early.
    if (!claim.applyToken) {
      return { status: 'retry', error: new SeamworkError('STAGE_APPLYING', `Another delivery of ${envelope.decisionId} is handing on ${stage}'s commit.`, true) };
    }
    // The delivery that committed died or gave up: apply exactly that commit.
    alive(ports, envelope.decisionId);
    await applyOrRelease(key, claim.applyToken, claim.commit, ports);
    return { status: 'done', outcome: claim.commit.outcome, duplicate: true };
  }
  const token = claim?.kind === 'claimed' ? claim.token : undefined;
  const memo = stepMemo(key, envelope.decisionId, token, claim?.kind === 'claimed' ? claim.memo : {}, ports);

  let commit: StageCommit;
  try {
    const out = await fn(envelope, memo);
    ports.faults?.crash('after-stage-work', `${stage}/${envelope.decisionId}`);
    commit = planHandOn(stage, envelope, out, seal, ports);
  } catch (caught) {
    if (isDeadInvocation(caught)) throw caught;
    const err = toSeamworkError(caught);
    if (err.retryable && delivery.attempt < delivery.maxReceiveCount) {
      await appendMetered(ports, seal('attempt_failed', { code: err.code, message: err.message, attempt: delivery.attempt, maxReceiveCount: delivery.maxReceiveCount }));
      if (ports.ledger && token) await ports.ledger.release(key, token);
      return { status: 'retry', error: err };
    }
    commit = planPark(stage, envelope, err, delivery, seal, ports);
  }

  if (ports.ledger && token) {
    alive(ports, envelope.decisionId);
    const won = await ports.ledger.complete(key, token, commit);
    // Lost the lease while working: another delivery took the stage over and its commit stands.
    if (!won) {
      ports.metrics.add(METRICS.StageRedelivered);
      return { status: 'done', duplicate: true };
    }
    ports.faults?.crash('after-commit', `${stage}/${envelope.decisionId}`);
  }
  try {
    await applyOrRelease(key, token, commit, ports);
  } catch (caught) {
    const err = toSeamworkError(caught);
    // Committed but not applied: every redelivery applies the same commit again. Without a ledger
    // (dry runs) nothing would, so park it on the last delivery ourselves.
    if (ports.ledger || delivery.attempt < delivery.maxReceiveCount) throw err;
    const parked = planPark(stage, envelope, new SeamworkError(err.code, `Handing on failed on the last delivery: ${err.message}`, err.retryable, { cause: err }), delivery, seal, ports);
    await applyCommit(key, parked, ports);
    return { status: 'done', outcome: 'dlq' };
  }
  return { status: 'done', outcome: commit.outcome };
}

/**
 * Claims the stage, waiting a little for a delivery that holds it — running it, or handing its
 * commit on — to finish.
 */
async function claimStage(ledger: StageLedger, key: string, ports: RunnerPorts) {
  const deadline = Date.now() + (ports.busyWaitMs ?? 5_000);
  for (;;) {
    const claim = await ledger.claim(key, { leaseSeconds: ports.leaseSeconds ?? 300, now: ports.now() });
    const waiting = claim.kind === 'busy' || (claim.kind === 'completed' && !claim.handedOn && !claim.applyToken);
    if (!waiting || Date.now() >= deadline) return claim;
    await new Promise((r) => setTimeout(r, Math.min(250, Math.max(10, deadline - Date.now()))));
  }
}

/** Stops an invocation that is past its timeout (see {@link InvocationExpired}). */
function alive(ports: RunnerPorts, decisionId: string): void {
  const left = ports.remainingMs?.();
  if (left !== undefined && left <= 0) throw new InvocationExpired(decisionId);
}

/** Applies a commit; if that fails, gives the lease back so the next delivery applies it at once. */
async function applyOrRelease(key: string, token: string | undefined, commit: StageCommit, ports: RunnerPorts): Promise<void> {
  try {
    await applyCommit(key, commit, ports);
  } catch (err) {
    if (ports.ledger && token && !isDeadInvocation(err)) await ports.ledger.release(key, token).catch(() => ports.metrics.add(METRICS.StepMemoFailed));
    throw err;
  }
}

function stepMemo(key: string, decisionId: string, token: string | undefined, stored: Record<string, unknown>, ports: RunnerPorts): StepMemo {
  const known = new Map(Object.entries(stored));
  return {
    async once<T>(step: string, fn: () => Promise<T>): Promise<T> {
      if (known.has(step)) {
        ports.metrics.add(METRICS.StepReplayed);
        return known.get(step) as T;
      }
      const value = await fn();
      known.set(step, value);
      if (ports.ledger && token) {
        // The step happened (a model call was billed): a ledger that cannot keep it must not turn
        // it into a failure — that would bill it again. It is counted, and the stage goes on.
        await ports.ledger.remember(key, token, step, value).catch(() => ports.metrics.add(METRICS.StepMemoFailed));
      }
      ports.faults?.crash('after-step', decisionId);
      alive(ports, decisionId);
      return value;
    },
  };
}

/** Applies a commit: its records (idempotent appends), then its messages, then marks it applied. */
async function applyCommit(key: string, commit: StageCommit, ports: RunnerPorts): Promise<void> {
  for (const record of commit.records) await appendMetered(ports, record);
  for (const send of commit.sends) await ports.queues.send(send.queue, send.body, send.delaySeconds !== undefined ? { delaySeconds: send.delaySeconds } : undefined);
  for (const name of commit.metrics ?? []) ports.metrics.add(name);
  await ports.ledger?.markHandedOn(key);
}

/** Every record written also feeds the metrics, so dashboards agree with the audit log; a re-append does not count twice. */
async function appendMetered(ports: RunnerPorts, record: AuditRecord): Promise<void> {
  const written = await ports.audit.append(record);
  if ((written as unknown) === 'exists') return;
  for (const [name, value] of metricsOf(record)) ports.metrics.add(name, value, METRIC_UNITS[name]);
}

/** What recording the stage's outcome and handing it on consists of, decided before any of it happens. */
function planHandOn(
  stage: QueueStage,
  envelope: Envelope,
  out: StageOutcome,
  seal: (kind: string, data: Record<string, unknown>) => AuditRecord,
  ports: RunnerPorts,
): StageCommit {
  const one = (rec: AuditRecord, send?: StageSend, outcome?: string, metrics?: string[]): StageCommit =>
    ({ records: [rec], sends: send ? [send] : [], ...(outcome ? { outcome } : {}), ...(metrics ? { metrics } : {}) });
  switch (out.kind) {
    case 'forward': {
      const rec = seal(out.audit.kind, out.audit.data);
      return one(rec, { queue: out.to, body: { ...out.envelope, stage: out.to, auditHead: headOf(rec) } satisfies Envelope });
    }
    case 'requeue': {
      const rec = seal(out.audit.kind, out.audit.data);
      return one(rec, { queue: stage, body: { ...out.envelope, auditHead: headOf(rec) }, delaySeconds: Math.min(900, out.delaySeconds) });
    }
    case 'review': {
      const rec = seal(out.audit.kind, { ...out.audit.data, outcome: 'review', code: out.code, reason: out.reason });
      const item: ReviewItem = {
        kind: 'review', stage, integration: envelope.integration, decisionId: envelope.decisionId, code: out.code, reason: out.reason,
        at: ports.now().toISOString(), envelope: { ...out.envelope, auditHead: headOf(rec) },
      };
      return one(rec, { queue: 'review', body: item }, 'review', [METRICS.ReviewRouted]);
    }
    case 'quarantine': {
      const rec = seal(out.audit.kind, { ...out.audit.data, outcome: 'quarantine', code: out.code, reason: out.reason, pointer: out.pointer });
      const item: QuarantineItem = {
        kind: 'quarantine', stage, integration: envelope.integration, decisionId: envelope.decisionId, code: out.code, reason: out.reason,
        pointer: out.pointer, contractVersion: out.contractVersion, detail: out.audit.data, at: ports.now().toISOString(),
        envelope: { ...out.envelope, auditHead: headOf(rec) },
      };
      return one(rec, { queue: 'quarantine', body: item }, 'quarantine');
    }
    case 'final':
      return one(seal(out.audit.kind, { ...out.audit.data, outcome: out.outcome }), undefined, out.outcome);
  }
}

function planPark(
  stage: QueueStage,
  envelope: Envelope,
  err: SeamworkError,
  delivery: { attempt: number; maxReceiveCount: number },
  seal: (kind: string, data: Record<string, unknown>) => AuditRecord,
  ports: RunnerPorts,
): StageCommit {
  const reason = err.retryable ? `${err.message} (gave up after ${delivery.attempt} deliveries)` : err.message;
  const rec = seal('rejected', {
    outcome: 'dlq', code: err.code, reason, retryable: err.retryable, pointer: err.pointer ?? null, contractVersion: err.contractVersion ?? null, detail: err.detail ?? null,
  });
  const rejection: RejectionRecord = {
    stage, integration: envelope.integration, decisionId: envelope.decisionId, code: err.code, reason, retryable: err.retryable,
    ...(err.pointer !== undefined ? { pointer: err.pointer } : {}),
    ...(err.contractVersion !== undefined ? { contractVersion: err.contractVersion } : {}),
    ...(err.detail ? { detail: err.detail } : {}),
    at: ports.now().toISOString(),
    envelope: { ...envelope, auditHead: headOf(rec) },
  };
  return { records: [rec], sends: [{ queue: `${stage}-dlq`, body: rejection }], outcome: 'dlq', metrics: [METRICS.DlqRouted] };
}
