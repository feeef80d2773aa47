import { randomUUID } from 'node:crypto';
import { GENESIS_HASH, headOf, sealRecord } from './audit-record.js';
import { breakerState, type BreakerPolicy, type BreakerStore } from './breaker.js';
import { capScopes, capsFor, type CapsConfig, type LabelledScope, type TenantCaps } from './caps.js';
import { actualCostUsd, priceFor, toMicroUsd, usageRecord, worstCaseCostUsd } from './cost.js';
import type { Envelope, UsageRecord } from './envelope.js';
import type { IntegrationDefinition } from './integration.js';
import type { AuditStore, CostLedger, DedupeStore, DriftStore, FlagSource, MetricsSink, ModelPort, ModelResult, QueueSender, Reservation, TokenVault } from './ports.js';
import { buildPrompt, type BuiltPrompt } from './prompt.js';
import { choosePath } from './routing.js';
import { sealBody } from './sealed-body.js';
import { runStage } from './stage-runner.js';
import { DEDUPE_LEASE_SECONDS, newDecisionId } from './stages/ingest.js';
import type { StageOutcome } from './stages/types.js';
import { validateStage } from './stages/validate.js';
import { estimateTokens } from './tokens.js';
import { admitSources } from './grounding/source-whitelist.js';
import { groundingStep } from './stages/infer.js';

/**
 * Layer 3 backfills: many captured events at once. At or below a threshold they go through the
 * webhook like any delivery; above it, they are validated in process (the validate stage's own
 * code, audited), their prompts go to the model as one Message Batch at the batch price, each
 * reservation is made and reconciled at that price in the same ledger scopes as a per-call
 * inference, and each decision then continues at verify → act as usual.
 */

/** Environment variable with the default `--batch-over` threshold. */
export const BACKFILL_BATCH_OVER_ENV = 'SEAMWORK_BACKFILL_BATCH_OVER';

/** Above this many events a backfill uses the Message Batches API. */
export const DEFAULT_BATCH_OVER = 20;

/**
 * How long a batch reservation may stay unreconciled: the API expires a batch after 24 hours, and
 * a reservation released before its batch ends would let spend pass a cap. An hour of margin.
 */
export const BATCH_RESERVATION_TTL_SECONDS = 25 * 3600;

/** One request of a Message Batch: the decision it is for (its custom_id) and its prompt. */
export interface BatchRequest {
  customId: string;
  prompt: BuiltPrompt;
}

/** Where a Message Batch stands. */
export interface BatchStatus {
  id: string;
  status: 'in_progress' | 'canceling' | 'ended';
  total: number;
  /** Requests no longer processing (succeeded, errored, canceled or expired). */
  done: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
}

/** What one request of a batch came to: the per-call result shape, or why there is none. */
export type BatchOutcome =
  | { customId: string; ok: true; result: ModelResult }
  | { customId: string; ok: false; kind: 'errored' | 'canceled' | 'expired' | 'missing'; errorType?: string; message: string };

/** Layer 3: the model's batch interface (`anthropic-batch:<base url>`). */
export interface BatchModelPort {
  readonly id: string;
  /** Submits one batch; resolves with it as created (processing). */
  submit(requests: BatchRequest[]): Promise<BatchStatus>;
  /** Polls until the batch ends, telling `onProgress` after each poll. */
  wait(batchId: string, onProgress?: (status: BatchStatus) => void): Promise<BatchStatus>;
  /** One outcome per custom id asked for, in that order. */
  results(batchId: string, customIds: readonly string[]): Promise<BatchOutcome[]>;
}

/** One captured event to backfill. */
export interface BackfillEvent {
  /** Where it came from, for messages (`#3`, a file name). */
  source: string;
  body: unknown;
  /** Headers captured with it, if any (event type and id headers of some vendors). */
  headers?: Record<string, string>;
}

/** Dependencies of {@link runBackfill}. */
export interface BackfillDeps {
  integration: IntegrationDefinition;
  audit: AuditStore;
  /** The stage queues and their DLQs, review and quarantine. */
  queues: QueueSender;
  ledger: CostLedger;
  vault: TokenVault;
  dedupe: DedupeStore;
  flags: FlagSource;
  drift?: DriftStore;
  breaker?: { store: BreakerStore; policy: BreakerPolicy };
  metrics: MetricsSink;
  batchModel: BatchModelPort;
  /**
   * Per-call model for the calls grounding adds to a batched decision (the divergence canary's
   * second sample, the fresh-context evaluator), made when the batch returns. Absent → none are
   * made, and verify sends a decision whose policy wants them to review.
   */
  model?: ModelPort;
  /** Posts one body to the integration's webhook, signed as the vendor would sign it. */
  deliver(body: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Spend caps (the deployment's): tenant day and month, integration day, global day. */
  caps: CapsConfig;
  /** A tenant's own caps (`seamwork caps set`), as infer reads them; absent → the deployment's. */
  tenantCaps?: (tenant: string) => Promise<TenantCaps | undefined>;
  /** Counts a prompt's input tokens as the API bills them, as infer does; absent or failing → estimated. */
  countTokens?: (prompt: BuiltPrompt) => Promise<number>;
  defaultTenant: string;
  now: () => Date;
  /** Progress and per-event lines. */
  log: (line: string) => void;
  /** How long redaction tokens and the sealed body's key stay in the vault. */
  vaultTtlSeconds: number;
  /** How long event ids are remembered for dedupe (as at ingest). */
  dedupeTtlSeconds: number;
  /** @default BATCH_RESERVATION_TTL_SECONDS */
  reservationTtlSeconds?: number;
  newDecisionId?: () => string;
}

/** Options of {@link runBackfill} and {@link planBackfill}. */
export interface BackfillOptions {
  /** Above this many events, one Message Batch; at or below, the webhook. */
  batchOver: number;
}

/** What happened to one event. */
export interface BackfillItem {
  source: string;
  vendorEventId?: string;
  decisionId?: string;
  /**
   * `batched`: answered by the batch and sent on to verify. `per-call`: sent to the infer queue
   * (not on the AI path, or its batch request failed). `refused`: over a cap, in the review queue.
   * `rejected`: validate parked it (DLQ or quarantine). `webhook`: posted to the webhook.
   * `ignored` / `duplicate` / `unusable`: not processed, with the reason. `failed`: a store
   * failed while accepting it; its dedupe claim was given back, so a rerun processes it.
   */
  outcome: 'batched' | 'per-call' | 'refused' | 'rejected' | 'webhook' | 'ignored' | 'duplicate' | 'unusable' | 'failed';
  reason?: string;
  /** Batch price actually charged, and what the same usage costs per call. */
  costUsd?: number;
  perCallUsd?: number;
  /** Worst case reserved (batch price). */
  reservedUsd?: number;
  /** Webhook answer. */
  status?: number;
}

/** The result of a backfill. */
export interface BackfillReport {
  integration: string;
  /** Events read; `processable` of them would be processed (not ignored, not unusable). */
  events: number;
  processable: number;
  mode: 'webhook' | 'batch';
  batchOver: number;
  dryRun: boolean;
  batch?: BatchStatus;
  items: BackfillItem[];
  /** Sums over the batched decisions: batch price, per-call price of the same usage, saving. */
  cost: { batchUsd: number; perCallUsd: number; savingUsd: number; savingPercent: number; reservedUsd: number; model: string; batchDiscount: number };
  /** A batch was submitted but its results could not be collected (the decisions wait at validated). */
  unfinished?: { batchId: string; reason: string };
}

/** Micro-dollars as a readable dollar amount. */
const usd = (micro: number): string => String(Number((micro / 1e6).toFixed(6)));

/** What the door decides about an event before any decision exists: its id, type and tenant. */
function screen(def: IntegrationDefinition, e: BackfillEvent, deps: Pick<BackfillDeps, 'defaultTenant'>): BackfillItem | { eventId: string; tenant: string } {
  const headers = e.headers ?? {};
  if (e.body === null || typeof e.body !== 'object' || Array.isArray(e.body)) {
    return { source: e.source, outcome: 'unusable', reason: `expected one ${def.source.vendor} event as a JSON object` };
  }
  if (def.source.eventType) {
    const type = def.source.eventType(e.body, headers);
    if (type === undefined || !(def.source.events ?? []).includes(type)) {
      return { source: e.source, outcome: 'ignored', reason: `${def.name} processes ${(def.source.events ?? []).join(', ')}; this event is ${type ?? 'of no recognisable type'}` };
    }
  }
  const eventId = def.source.eventId(e.body, headers);
  if (!eventId) return { source: e.source, outcome: 'unusable', reason: `the ${def.source.vendor} event carries no event id, so duplicates could not be detected` };
  return { eventId, tenant: def.source.tenant(e.body, headers) ?? deps.defaultTenant };
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping order. */
async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

const emptyCost = (model: string) => ({ batchUsd: 0, perCallUsd: 0, savingUsd: 0, savingPercent: 0, reservedUsd: 0, model, batchDiscount: priceFor(model).batchDiscount });

/** Sums the cost figures of batched items. */
function costOf(def: IntegrationDefinition, items: BackfillItem[]): BackfillReport['cost'] {
  const c = emptyCost(def.model.id);
  for (const i of items) {
    c.batchUsd += i.costUsd ?? 0;
    c.perCallUsd += i.perCallUsd ?? 0;
    c.reservedUsd += i.reservedUsd ?? 0;
  }
  c.savingUsd = c.perCallUsd - c.batchUsd;
  c.savingPercent = c.perCallUsd > 0 ? (c.savingUsd / c.perCallUsd) * 100 : 0;
  return c;
}

/**
 * What a backfill would do, without writing, reserving or sending anything: which events would
 * be processed, webhook or batch, and the worst case at the batch and per-call prices (every
 * processable event assumed on the AI path; flags decide at run time).
 */
export async function planBackfill(events: BackfillEvent[], def: IntegrationDefinition, opts: BackfillOptions & { defaultTenant: string; now: () => Date; vault: TokenVault }): Promise<BackfillReport> {
  const items: BackfillItem[] = [];
  const valid: Array<{ item: BackfillItem; prompt: BuiltPrompt }> = [];
  for (const e of events) {
    const s = screen(def, e, opts);
    if ('outcome' in s) {
      items.push(s);
      continue;
    }
    const item: BackfillItem = { source: e.source, vendorEventId: s.eventId, outcome: 'webhook' };
    items.push(item);
    const envelope: Envelope = {
      v: 1, decisionId: `dry_${items.length}`, integration: def.name, tenant: s.tenant, vendorEventId: s.eventId, receivedAt: opts.now().toISOString(), stage: 'validate',
      auditHead: { seq: -1, hash: GENESIS_HASH }, raw: { body: JSON.stringify(e.body), headers: e.headers ?? {} },
    };
    try {
      const out = await validateStage(envelope, { integration: () => def, vault: opts.vault, now: opts.now, vaultTtlSeconds: 60 });
      if (out.kind !== 'forward') {
        item.outcome = 'rejected';
        item.reason = out.kind === 'quarantine' ? out.reason : `validate would ${out.kind} it`;
        continue;
      }
      valid.push({ item, prompt: buildPrompt(def, out.envelope.documents ?? []) });
    } catch (err) {
      item.outcome = 'rejected';
      item.reason = (err as Error).message;
    }
  }
  const processable = items.filter((i) => i.outcome === 'webhook' || i.outcome === 'rejected').length;
  const mode = processable > opts.batchOver ? 'batch' : 'webhook';
  const cost = emptyCost(def.model.id);
  if (mode === 'batch') {
    for (const v of valid) {
      v.item.outcome = 'batched';
      const tokens = estimateTokens(JSON.stringify(v.prompt.request));
      v.item.reservedUsd = worstCaseCostUsd(def.model.id, tokens, def.model.maxTokens, { promptCaching: true, batch: true });
      v.item.perCallUsd = worstCaseCostUsd(def.model.id, tokens, def.model.maxTokens, { promptCaching: true });
      cost.reservedUsd += v.item.reservedUsd;
      cost.perCallUsd += v.item.perCallUsd;
    }
  }
  return { integration: def.name, events: events.length, processable, mode, batchOver: opts.batchOver, dryRun: true, items, cost };
}

/** A validated decision waiting for the model, with what infer would have worked out. */
interface Pending {
  item: BackfillItem;
  envelope: Envelope;
  routed: Envelope;
  routeData: Record<string, unknown>;
  baselineDecision: Record<string, unknown>;
  prompt: BuiltPrompt;
  preflight: Record<string, unknown>;
  worstUsd: number;
  scopes: LabelledScope[];
  tenantCaps?: TenantCaps;
  reservation?: Reservation;
}

/**
 * Runs a backfill (see the module doc). Every decision gets the audit chain a delivered one would
 * get — `accepted` (via backfill, the raw body sealed), `validated`, then `inferred` (usage, the
 * batch id, price basis `batch`) or `cost_refused` — and nothing is lost on the way: an event the
 * batch could not answer goes to the infer queue (per-call path), one over a cap to review.
 */
export async function runBackfill(events: BackfillEvent[], deps: BackfillDeps, opts: BackfillOptions): Promise<BackfillReport> {
  const def = deps.integration;
  const screened = events.map((e) => ({ e, s: screen(def, e, deps) }));
  const items: BackfillItem[] = screened.map(({ e, s }) => ('outcome' in s ? s : { source: e.source, vendorEventId: s.eventId, outcome: 'webhook' as const }));
  const candidates = screened.flatMap(({ e, s }, i) => ('outcome' in s ? [] : [{ e, s, item: items[i] }]));
  const mode = candidates.length > opts.batchOver ? 'batch' : 'webhook';
  const report: BackfillReport = { integration: def.name, events: events.length, processable: candidates.length, mode, batchOver: opts.batchOver, dryRun: false, items, cost: emptyCost(def.model.id) };

  if (mode === 'webhook') {
    for (const [n, c] of candidates.entries()) {
      const body = JSON.stringify(c.e.body);
      const res = await deps.deliver(body, c.e.headers ?? {});
      c.item.status = res.status;
      c.item.decisionId = typeof res.body.decisionId === 'string' ? res.body.decisionId : undefined;
      if (res.body.status === 'duplicate') c.item.outcome = 'duplicate';
      if (res.status >= 400) c.item.reason = String(res.body.reason ?? res.body.code ?? `HTTP ${res.status}`);
      deps.log(`[${n + 1}/${candidates.length}] ${res.status} ${c.item.decisionId ?? ''} ${c.item.outcome === 'duplicate' ? '(duplicate)' : c.item.reason ?? ''}`.trimEnd());
    }
    return report;
  }

  const ports = { audit: deps.audit, metrics: deps.metrics, now: deps.now };
  const delivery = { attempt: 1, maxReceiveCount: 1 };

  // 1. Accept and validate each event in process, with the validate stage's own code and records.
  const validated = await mapPool(candidates, 8, async ({ e, s, item }) => {
    const decisionId = (deps.newDecisionId ?? newDecisionId)();
    const key = `${def.name}#${s.eventId}`;
    const claim = await deps.dedupe.claim(key, decisionId, { ttlSeconds: deps.dedupeTtlSeconds, leaseSeconds: DEDUPE_LEASE_SECONDS, now: deps.now() });
    if (!claim.claimed) {
      item.outcome = 'duplicate';
      item.decisionId = claim.decisionId;
      item.reason = `event ${s.eventId} is already decision ${claim.decisionId}${claim.state === 'pending' ? ' (being accepted right now)' : ''}`;
      return undefined;
    }
    item.decisionId = decisionId;
    try {
      const text = JSON.stringify(e.body);
      const now = deps.now();
      const { sealed, key: bodyKey } = sealBody(Buffer.from(text, 'utf8'));
      await deps.vault.putBodyKey(decisionId, bodyKey, deps.vaultTtlSeconds, now);
      const accepted = sealRecord({
        decisionId, integration: def.name, stage: 'backfill', attempt: 1, kind: 'accepted', at: now.toISOString(),
        data: { via: 'backfill', source: e.source, vendor: def.source.vendor, vendorEventId: s.eventId, tenant: s.tenant, bytes: Buffer.byteLength(text), body: sealed, headers: e.headers ?? {}, method: null, url: null },
      }, null);
      await deps.audit.append(accepted);
      const start: Envelope = {
        v: 1, decisionId, integration: def.name, tenant: s.tenant, vendorEventId: s.eventId, receivedAt: now.toISOString(), stage: 'validate',
        auditHead: headOf(accepted), raw: { body: text, headers: e.headers ?? {} },
      };
      // What validate hands on to infer is kept here (the batch is infer); a rejection or a
      // quarantine goes where it always goes.
      let next: Envelope | undefined;
      const queues: QueueSender = { send: async (queue, body, o) => (queue === 'infer' ? void (next = body as Envelope) : deps.queues.send(queue, body, o)) };
      const res = await runStage('validate', start, delivery, (x) => validateStage(x, { integration: () => def, vault: deps.vault, drift: deps.drift, now: deps.now, vaultTtlSeconds: deps.vaultTtlSeconds }), { ...ports, queues });
      await deps.dedupe.confirm(key, decisionId);
      if (!next) {
        item.outcome = 'rejected';
        item.reason = `validate parked it (${res.status === 'done' ? res.outcome : 'retry'}); see \`seamwork dlq show ${decisionId}\``;
        return undefined;
      }
      return { item, envelope: next };
    } catch (err) {
      await deps.dedupe.release(key, decisionId).catch((releaseErr: unknown) => deps.log(`dedupe claim of ${s.eventId} not released: ${(releaseErr as Error).message}`));
      item.outcome = 'failed';
      item.reason = `not accepted: ${(err as Error).message}; run the backfill again for it`;
      deps.log(`failed   ${e.source} (event ${s.eventId}): ${item.reason}`);
      return undefined;
    }
  });

  // 2. Route as infer would; what is not on the AI path takes the per-call path (infer decides).
  const flag = await deps.flags.get(def.name);
  const breaker = deps.breaker ? await breakerState(deps.breaker.store, def.name, deps.breaker.policy, deps.now()).catch(() => undefined) : undefined;
  const pending: Pending[] = [];
  for (const v of validated) {
    if (!v) continue;
    const { item, envelope } = v;
    const route = choosePath(flag, def.name, def.stickyKey(envelope.input));
    if (route.path !== 'ai' || breaker?.state === 'open') {
      await deps.queues.send('infer', envelope);
      item.outcome = 'per-call';
      item.reason = breaker?.state === 'open' ? `circuit breaker open: ${breaker.reason}` : `${route.path} path: ${route.reason}`;
      continue;
    }
    // Step 9 as at infer: only documents from trusted origins; a delivery with none takes the per-call path (infer sends it to review).
    const { documents, lineage } = admitSources(envelope.documents ?? [], def.grounding.trustedOrigins);
    if (documents.length === 0 && lineage.refused.length > 0) {
      await deps.queues.send('infer', envelope);
      item.outcome = 'per-call';
      item.reason = 'no document from a trusted origin';
      continue;
    }
    const baselineDecision = def.baseline(envelope.input, documents) as Record<string, unknown>;
    const prompt = buildPrompt(def, documents);
    const counted = deps.countTokens ? await deps.countTokens(prompt).catch(() => undefined) : undefined;
    const inputTokens = counted ?? estimateTokens(JSON.stringify(prompt.request));
    const worstUsd = worstCaseCostUsd(def.model.id, inputTokens, def.model.maxTokens, { promptCaching: true, batch: true });
    const worstPerCallUsd = worstCaseCostUsd(def.model.id, inputTokens, def.model.maxTokens, { promptCaching: true });
    const tenantCaps = deps.tenantCaps ? await deps.tenantCaps(envelope.tenant) : undefined;
    pending.push({
      item, envelope, baselineDecision, prompt, worstUsd,
      routed: { ...envelope, stage: 'verify', path: route.path, baselineDecision, documents, ...(lineage.refused.length ? { grounding: { lineage } } : {}) },
      routeData: { path: route.path, bucket: route.bucket, reason: route.reason, flag, ...(breaker ? { breaker: breaker.state } : {}), ...(lineage.refused.length ? { lineage } : {}) },
      preflight: { inputTokens, inputTokensCounted: counted !== undefined, estimatedInputTokens: inputTokens, maxTokens: def.model.maxTokens, worstCaseUsd: worstUsd, worstCasePerCallUsd: worstPerCallUsd, perInferenceCapUsd: def.model.perInferenceCapUsd, priceBasis: 'batch' },
      scopes: capScopes(capsFor(deps.caps, tenantCaps), envelope.tenant, def.name, deps.now()),
      tenantCaps,
    });
  }

  // 3. Reserve each worst case at the batch price; an event over a cap waits in review, as at infer.
  const promptData = (p: Pending) => ({ hash: p.prompt.hash, version: p.prompt.promptVersion, request: p.prompt.request });
  const refuse = async (p: Pending, reason: string, extra: Record<string, unknown>) => {
    p.item.outcome = 'refused';
    p.item.reason = reason;
    deps.log(`refused  ${p.envelope.decisionId} (event ${p.envelope.vendorEventId}): ${reason}`);
    await runStage('infer', p.envelope, delivery, async (): Promise<StageOutcome> => ({
      kind: 'review', envelope: p.routed, code: 'COST_CAP_EXCEEDED', reason,
      audit: { kind: 'cost_refused', data: { route: p.routeData, prompt: promptData(p), preflight: p.preflight, ...extra } },
    }), { ...ports, queues: deps.queues });
  };
  const reserved: Pending[] = [];
  for (const p of pending) {
    if (p.worstUsd > def.model.perInferenceCapUsd) {
      await refuse(p, `Worst-case cost $${p.worstUsd.toFixed(6)} at the batch price exceeds the per-inference cap $${def.model.perInferenceCapUsd}.`, {});
      continue;
    }
    const res = await deps.ledger.reserve(p.scopes, toMicroUsd(p.worstUsd), {
      id: `${p.envelope.decisionId}#batch#${randomUUID().slice(0, 8)}`, decisionId: p.envelope.decisionId, integration: def.name, tenant: p.envelope.tenant,
      ttlSeconds: deps.reservationTtlSeconds ?? BATCH_RESERVATION_TTL_SECONDS, now: deps.now(),
    });
    if (!res.ok) {
      const kind = p.scopes.find((s) => s.key === res.refusedBy.key)?.kind ?? '';
      await refuse(p, `Reserving the worst case $${p.worstUsd.toFixed(6)} at the batch price would exceed the ${kind} cap ${res.refusedBy.key} ($${usd(res.refusedBy.capMicroUsd)}, spent $${usd(res.spentMicroUsd)}).`, { refusedBy: res.refusedBy, caps: p.scopes, ...(p.tenantCaps ? { tenantCaps: p.tenantCaps } : {}) });
      continue;
    }
    p.reservation = res.reservation;
    p.item.reservedUsd = p.worstUsd;
    reserved.push(p);
  }

  // The per-call path for whatever the batch cannot answer: the reservation is given back and
  // infer takes the event from its queue (its own caps, retries and breaker apply there).
  const toPerCall = async (p: Pending, kind: string, reason: string, extra: Record<string, unknown>) => {
    if (p.reservation) await deps.ledger.reconcile(p.reservation, 0);
    p.item.outcome = 'per-call';
    p.item.reason = reason;
    p.item.reservedUsd = undefined;
    await runStage('infer', p.envelope, delivery, async (): Promise<StageOutcome> => ({
      kind: 'forward', to: 'infer', envelope: p.envelope, audit: { kind, data: { route: p.routeData, prompt: { hash: p.prompt.hash }, reason, ...extra } },
    }), { ...ports, queues: deps.queues });
  };

  if (reserved.length === 0) {
    report.cost = costOf(def, items);
    return report;
  }

  // 4. One batch, polled to its end.
  let batch: BatchStatus;
  try {
    batch = await deps.batchModel.submit(reserved.map((p) => ({ customId: p.envelope.decisionId, prompt: p.prompt })));
  } catch (err) {
    const reason = `the Message Batch could not be created (${(err as Error).message}); sent to the per-call path`;
    deps.log(`batch not created: ${(err as Error).message}; ${reserved.length} events go through the per-call path instead`);
    for (const p of reserved) await toPerCall(p, 'batch_failed', reason, { error: (err as Error).message });
    report.cost = costOf(def, items);
    return report;
  }
  deps.log(`batch ${batch.id} created: ${batch.total} requests at the batch price (${Math.round(priceFor(def.model.id).batchDiscount * 100)}% off)`);
  try {
    batch = await deps.batchModel.wait(batch.id, (s) => deps.log(`batch ${s.id} ${s.status}: ${s.done}/${s.total} done`));
  } catch (err) {
    // The batch may still finish and bill: the reservations stay until they expire, and the
    // decisions wait at validated (their audit chains say so) rather than being sent twice.
    report.batch = batch;
    report.unfinished = { batchId: batch.id, reason: (err as Error).message };
    report.cost = costOf(def, items);
    return report;
  }
  report.batch = batch;

  // 5. Reconcile each at the batch price and send it on to verify with its `inferred` record.
  const outcomes = await deps.batchModel.results(batch.id, reserved.map((p) => p.envelope.decisionId));
  for (const [i, p] of reserved.entries()) {
    const outcome = outcomes[i];
    if (!outcome.ok) {
      const reason = `batch ${batch.id} request ${outcome.kind}${outcome.errorType ? ` (${outcome.errorType})` : ''}: ${outcome.message}; sent to the per-call path`;
      deps.log(`per-call ${p.envelope.decisionId}: ${reason}`);
      await toPerCall(p, 'batch_item_failed', reason, { batch: { id: batch.id, customId: outcome.customId }, error: { kind: outcome.kind, type: outcome.errorType ?? null, message: outcome.message } });
      continue;
    }
    const result = outcome.result;
    const costUsd = actualCostUsd(def.model.id, result.usage, { batch: true });
    const perCallUsd = actualCostUsd(def.model.id, result.usage);
    await deps.ledger.reconcile(p.reservation!, toMicroUsd(costUsd));
    const usage: UsageRecord = usageRecord(result, def.model.id, costUsd, p.worstUsd, priceFor(def.model.id).batchDiscount);

    const aiDecision = (result.toolInput ?? { __unparsed: result.text ?? null }) as Record<string, unknown>;
    const g = deps.model
      ? await groundingStep({ ledger: deps.ledger, model: deps.model, now: deps.now }, def, p.routed.documents ?? [], aiDecision, result, p.routed.grounding, usage, p.scopes, p.envelope, 0)
      : { envelope: {}, audit: {} };
    const run = await runStage('infer', p.envelope, delivery, async (): Promise<StageOutcome> => ({
      kind: 'forward', to: 'verify', envelope: { ...p.routed, aiDecision, usage, ...g.envelope },
      audit: {
        kind: 'inferred',
        data: {
          route: p.routeData, prompt: promptData(p), preflight: p.preflight,
          caps: { scopes: p.scopes, reservedMicroUsd: p.reservation!.reservedMicroUsd, reservation: p.reservation!.id ?? null, override: null, tenantCaps: p.tenantCaps ?? null },
          model: deps.batchModel.id, response: result, usage, baselineDecision: p.baselineDecision, ...g.audit,
          batch: { id: batch.id, customId: outcome.customId },
          price: { basis: 'batch', batchDiscount: priceFor(def.model.id).batchDiscount, perCallUsd },
        },
      },
    }), { ...ports, queues: deps.queues });
    p.item.outcome = 'batched';
    p.item.costUsd = costUsd;
    p.item.perCallUsd = perCallUsd;
    if (run.status === 'done' && run.outcome === 'dlq') p.item.reason = 'answered, but recording it failed: parked in the infer DLQ';
    deps.log(`[${i + 1}/${reserved.length}] ${p.envelope.decisionId} event ${p.envelope.vendorEventId} → ${p.item.reason ? 'infer-dlq' : 'verify'}: $${costUsd.toFixed(6)} at the batch price ($${perCallUsd.toFixed(6)} per call)`);
  }
  report.cost = costOf(def, items);
  return report;
}
