import { randomUUID } from 'node:crypto';
import { actualCostUsd, toMicroUsd, usageRecord, worstCaseCostUsd } from '../cost.js';
import { ModelRateLimited, toSeamworkError } from '../errors.js';
import type { Envelope, GroundingEvidence, UsageRecord } from '../envelope.js';
import { fromCitations } from '../grounding/citations.js';
import { claimsOf } from '../grounding/claim-pairing.js';
import { wants } from '../grounding/divergence.js';
import { evaluatorPrompt } from '../grounding/fresh-evaluator.js';
import { admitSources, type Lineage } from '../grounding/source-whitelist.js';
import type { IntegrationDefinition, SourceDocument } from '../integration.js';
import { breakerState, recordSignal, type BreakerPolicy, type BreakerSignal, type BreakerStore } from '../breaker.js';
import { capScopes, capsFor, type CapsConfig, type LabelledScope, type TenantCaps } from '../caps.js';
import { RESERVATION_TTL_SECONDS } from '../time-budgets.js';
import type { CostLedger, FlagSource, MetricsSink, ModelPort, ModelResult, TokenPacer } from '../ports.js';
import { buildPrompt, type BuiltPrompt } from '../prompt.js';
import { choosePath } from '../routing.js';
import { estimateTokens } from '../tokens.js';
import type { StepMemo } from '../stage-runner.js';
import type { IntegrationLookup, StageOutcome } from './types.js';
import { memoModel } from './model-memo.js';

/** Dependencies of the infer stage. */
export interface InferDeps {
  integration: IntegrationLookup;
  flags: FlagSource;
  ledger: CostLedger;
  model: ModelPort;
  now: () => Date;
  /** Spend caps: tenant day and month, integration day, global day. */
  caps: CapsConfig;
  /** A tenant's own caps, set at run time (`seamwork caps set`); absent → the deployment's. */
  tenantCaps?: (tenant: string) => Promise<TenantCaps | undefined>;
  /** How many times a rate-limited call is requeued with a delay before it goes to the DLQ. */
  maxRateLimitRequeues: number;
  /**
   * How long a reservation may stay unreconciled before the sweeper releases it (a crashed
   * invocation): longer than the stage's timeout. @default RESERVATION_TTL_SECONDS
   */
  reservationTtlSeconds?: number;
  /** Tokens-per-minute budgets, for integrations that declare `model.tokensPerMinute`. */
  pacer?: TokenPacer;
  /**
   * Steps done once per (decision, stage): each model call's result is kept, so a redelivery after
   * a crash reuses the billed answer instead of calling (and paying) again. @default none
   */
  memo?: StepMemo;
  /** The integration's circuit breaker; absent → always closed. */
  breaker?: { store: BreakerStore; policy: BreakerPolicy; metrics?: MetricsSink };
}

/** Micro-dollars as a readable dollar amount: `0.012`, `0.000123`. */
const usd = (micro: number): string => String(Number((micro / 1e6).toFixed(6)));

/**
 * Layers 2 and 3: choose the path from flags, build the prompt deterministically, pre-flight
 * the worst-case cost, reserve it atomically, call the model, reconcile the actual cost.
 */
export async function inferStage(envelope: Envelope, inDeps: InferDeps): Promise<StageOutcome> {
  const deps = inDeps.memo ? { ...inDeps, model: memoModel(inDeps.model, inDeps.memo) } : inDeps;
  const def = deps.integration(envelope.integration);
  // Step 9: only documents from trusted origins go on — into the prompt, the baseline and verify.
  const { documents, lineage } = admitSources(envelope.documents ?? [], def.grounding.trustedOrigins);
  const refusedSources = lineage.refused.length > 0;
  const baselineDecision = def.baseline(envelope.input, documents) as Record<string, unknown>;
  const flag = await deps.flags.get(def.name);
  let route = choosePath(flag, def.name, def.stickyKey(envelope.input));
  // An open breaker sends what would have taken the AI path (or shadowed it) to the baseline.
  // A breaker store that cannot be read counts as closed: the caps still bound the spend.
  const breaker = route.path !== 'baseline' && deps.breaker ? await breakerState(deps.breaker.store, def.name, deps.breaker.policy, deps.now()).catch(() => undefined) : undefined;
  if (breaker?.state === 'open') {
    route = { ...route, path: 'baseline', reason: `circuit breaker open until ${breaker.until}: ${breaker.reason}` };
  }
  // A cap override is for this inference only: it never travels past infer, on any path.
  // Neither is grounding evidence from an earlier pass (a re-inference after a cap approval): it belongs to the old answer.
  const { capOverride: _override, grounding: _earlier, ...rest } = envelope;
  const routed: Envelope = { ...rest, stage: 'verify', path: route.path, baselineDecision, documents, ...(refusedSources ? { grounding: { lineage } } : {}) };
  const routeData = { path: route.path, bucket: route.bucket, reason: route.reason, flag, ...(breaker ? { breaker: breaker.state } : {}), ...(refusedSources ? { lineage } : {}) };

  if (route.path === 'baseline') {
    return { kind: 'forward', to: 'verify', envelope: routed, audit: { kind: 'inferred', data: { route: routeData, baselineDecision } } };
  }
  if (refusedSources && documents.length === 0 && route.path === 'ai') {
    return { kind: 'review', envelope: routed, code: 'SOURCE_NOT_TRUSTED', reason: `No document comes from a trusted origin: ${lineage.refused.map((r) => r.reason).join('; ')}.`, audit: { kind: 'inferred', data: { route: routeData, baselineDecision } } };
  }

  // Shadow never blocks the baseline: whatever goes wrong on the AI side — a cap, a failed or
  // rate-limited call, a store error — is recorded and the baseline goes on to act.
  if (route.path === 'shadow') {
    try {
      return await aiPath(envelope, deps, def, documents, routed, routeData, baselineDecision, true, lineage);
    } catch (caught) {
      const err = toSeamworkError(caught);
      return { kind: 'forward', to: 'verify', envelope: routed, audit: { kind: 'inferred', data: { route: routeData, shadowRefused: { code: err.code, reason: err.message } } } };
    }
  }
  return aiPath(envelope, deps, def, documents, routed, routeData, baselineDecision, false, lineage);
}

/** The AI side of infer: prompt, pre-flight, reservation, model call, reconciliation. */
async function aiPath(
  envelope: Envelope, deps: InferDeps, def: IntegrationDefinition, documents: SourceDocument[], routed: Envelope,
  routeData: Record<string, unknown>, baselineDecision: Record<string, unknown>, shadow: boolean, lineage: Lineage,
): Promise<StageOutcome> {
  const prompt = buildPrompt(def, documents);
  // Counted by the API when the model port can (free, exact); estimated (UTF-8 bytes / 3, an
  // overestimate for JSON and prose) when it cannot or the count fails.
  const counted = deps.model.countTokens ? await deps.model.countTokens(prompt).catch(() => undefined) : undefined;
  const inputTokens = counted ?? estimateTokens(JSON.stringify(prompt.request));
  // The prompt marks its static prefix for caching: on a cold cache that input is billed at the
  // cache-write price, so the worst case prices all input that way.
  const worstUsd = worstCaseCostUsd(def.model.id, inputTokens, def.model.maxTokens, { promptCaching: true });
  const preflight = { inputTokens, inputTokensCounted: counted !== undefined, estimatedInputTokens: inputTokens, maxTokens: def.model.maxTokens, worstCaseUsd: worstUsd, perInferenceCapUsd: def.model.perInferenceCapUsd };
  const promptData = { hash: prompt.hash, version: prompt.promptVersion, request: prompt.request };

  const refuse = (code: string, reason: string, extra: Record<string, unknown>): StageOutcome =>
    shadow
      ? { kind: 'forward', to: 'verify', envelope: routed, audit: { kind: 'inferred', data: { route: routeData, prompt: promptData, preflight, shadowRefused: { code, reason }, ...extra } } }
      : { kind: 'review', envelope: routed, code, reason, audit: { kind: 'cost_refused', data: { route: routeData, prompt: promptData, preflight, ...extra } } };

  // A person's one-off override (from the review queue) raises every cap by its amount, once.
  const override = envelope.capOverride;
  const extraMicro = override ? toMicroUsd(override.extraUsd) : 0;
  const perInferenceCapUsd = def.model.perInferenceCapUsd + (override?.extraUsd ?? 0);
  if (worstUsd > perInferenceCapUsd) {
    return refuse('COST_CAP_EXCEEDED', `Worst-case cost $${worstUsd.toFixed(6)} exceeds the per-inference cap $${perInferenceCapUsd}${override ? ` (with ${override.approvedBy}'s override of $${override.extraUsd})` : ''}.`, override ? { capOverride: override } : {});
  }
  // Pacing before spending: over the minute's token budget, the event waits on its queue.
  if (def.model.tokensPerMinute && deps.pacer && !shadow) {
    const paced = await deps.pacer.take(`integration#${def.name}`, inputTokens + def.model.maxTokens, def.model.tokensPerMinute, deps.now());
    if (!paced.ok) {
      const requeues = envelope.requeues ?? 0;
      if (requeues >= deps.maxRateLimitRequeues) {
        throw new ModelRateLimited(`The ${def.name} tokens-per-minute budget (${def.model.tokensPerMinute}) stayed spent through ${requeues} waits.`, paced.retryAfterSeconds);
      }
      return {
        kind: 'requeue', envelope: { ...envelope, requeues: requeues + 1 }, delaySeconds: paced.retryAfterSeconds,
        audit: { kind: 'rate_limited', data: { route: routeData, prompt: { hash: prompt.hash }, requeue: requeues + 1, delaySeconds: paced.retryAfterSeconds, pacing: { tokensPerMinute: def.model.tokensPerMinute, usedThisMinute: paced.usedThisMinute, asked: inputTokens + def.model.maxTokens } } },
      };
    }
  }
  const tenantCaps = deps.tenantCaps ? await deps.tenantCaps(envelope.tenant) : undefined;
  const scopes = capScopes(capsFor(deps.caps, tenantCaps), envelope.tenant, def.name, deps.now()).map((s) => ({ ...s, capMicroUsd: s.capMicroUsd + extraMicro }));
  const reserved = await deps.ledger.reserve(scopes, toMicroUsd(worstUsd), {
    id: `${envelope.decisionId}#${envelope.requeues ?? 0}#${randomUUID().slice(0, 8)}`, decisionId: envelope.decisionId, integration: def.name, tenant: envelope.tenant,
    ttlSeconds: deps.reservationTtlSeconds ?? RESERVATION_TTL_SECONDS, now: deps.now(),
  });
  if (!reserved.ok) {
    return refuse(
      'COST_CAP_EXCEEDED',
      capRefusedReason(scopes, reserved, worstUsd),
      { refusedBy: reserved.refusedBy, caps: scopes, ...(tenantCaps ? { tenantCaps } : {}), ...(override ? { capOverride: override } : {}) },
    );
  }

  // From here the model may bill: should this invocation die before reconciling, the sweeper
  // keeps the worst case as spend instead of giving it back. (A failed mark only loses that.)
  await deps.ledger.markInvoked?.(reserved.reservation).catch(() => undefined);
  let result: ModelResult;
  try {
    result = await deps.model.invoke(prompt);
  } catch (err) {
    // Nothing was billed for a failed call: release the whole reservation.
    await deps.ledger.reconcile(reserved.reservation, 0);
    // A failure after the retry budget counts against the breaker; a rate limit is pacing, not failure.
    if (deps.breaker && !(err instanceof ModelRateLimited)) {
      await signal(deps, def.name, 'call');
      await signal(deps, def.name, 'model_error');
    }
    const requeues = envelope.requeues ?? 0;
    if (err instanceof ModelRateLimited && !shadow && requeues < deps.maxRateLimitRequeues) {
      const delaySeconds = Math.min(900, Math.max(err.retryAfterSeconds, 2 ** requeues * 5));
      return {
        kind: 'requeue',
        envelope: { ...envelope, requeues: requeues + 1 },
        delaySeconds,
        audit: { kind: 'rate_limited', data: { route: routeData, prompt: { hash: prompt.hash }, requeue: requeues + 1, delaySeconds } },
      };
    }
    throw err;
  }

  if (deps.breaker) await signal(deps, def.name, 'call');
  const costUsd = actualCostUsd(def.model.id, result.usage);
  // The call is made and billed: never let a failed reconcile send the message round for a
  // second call. The reservation stays marked invoked, so the sweeper keeps its worst case.
  // A replayed answer was billed and reconciled by the attempt that made the call: nothing new is spent.
  const reconcileProblem = await deps.ledger.reconcile(reserved.reservation, result.replayed ? 0 : toMicroUsd(costUsd)).then(() => undefined, (err: unknown) => (err as Error).message);
  const usage: UsageRecord = usageRecord(result, def.model.id, costUsd, worstUsd);

  const aiDecision = (result.toolInput ?? { __unparsed: result.text ?? null }) as Record<string, unknown>;
  // Grounding steps 5, 6 and 8: the citations the API returned, and the calls the policy asks for.
  const g = await groundingStep(deps, def, documents, aiDecision, result, routed.grounding, usage, scopes, envelope, extraMicro);
  return {
    kind: 'forward',
    to: 'verify',
    envelope: { ...routed, aiDecision, usage, ...g.envelope },
    audit: {
      kind: 'inferred',
      // The cap decision: which caps were checked and what was reserved against them.
      data: {
        route: routeData, prompt: promptData, preflight,
        caps: { scopes, reservedMicroUsd: reserved.reservation.reservedMicroUsd, reservation: reserved.reservation.id ?? null, override: override ?? null, tenantCaps: tenantCaps ?? null, tenantCapUsedPercent: tenantCapUsedPercent(scopes, reserved.reservation), ...(reconcileProblem ? { reconcilePending: `not reconciled (${reconcileProblem}); the sweeper keeps the worst case` } : {}) },
        model: deps.model.id, response: result, usage, baselineDecision, ...g.audit,
      },
    },
  };
}

/**
 * After the generation call: gathers what verify's grounding checks need (the API's citations,
 * the canary's second sample, the evaluator's verdicts), adds the extra calls' cost to `usage`
 * (summed as the ledger holds it, in whole micro-dollars per call), and returns what goes on the
 * envelope and into the `inferred` audit record. Used by infer and by backfill's batched decisions.
 */
export async function groundingStep(
  deps: GroundingCallDeps, def: IntegrationDefinition, documents: SourceDocument[], aiDecision: Record<string, unknown>, result: ModelResult,
  carried: GroundingEvidence | undefined, usage: UsageRecord, scopes: LabelledScope[], envelope: Envelope, extraMicro: number,
): Promise<{ envelope: { grounding?: GroundingEvidence }; audit: { groundingCalls?: unknown[] } }> {
  const grounding: GroundingEvidence = { ...carried, ...(result.textBlocks ? { citations: result.textBlocks } : {}) };
  const extra = await groundingCalls(deps, def, documents, aiDecision, grounding, scopes, envelope, extraMicro);
  Object.assign(grounding, extra.evidence);
  if (extra.calls.length) {
    usage.groundingCalls = extra.calls.map((c) => c.usage);
    usage.reservedUsd += extra.calls.reduce((a, c) => a + (c.reservation ? (c.worstCaseUsd ?? 0) : 0), 0);
    usage.costUsd = (toMicroUsd(usage.costUsd) + extra.calls.reduce((a, c) => a + toMicroUsd(c.usage.costUsd), 0)) / 1e6;
  }
  return {
    envelope: Object.keys(grounding).length > 0 ? { grounding } : {},
    audit: extra.calls.length ? { groundingCalls: extra.calls.map(({ prompt: p, ...call }) => ({ ...call, prompt: { hash: p.hash, version: p.promptVersion, request: p.request } })) } : {},
  };
}

/** What the grounding calls need: a model, the ledger to reserve in, a clock. */
export type GroundingCallDeps = Pick<InferDeps, 'ledger' | 'model' | 'now' | 'reservationTtlSeconds'>;

/** One grounding call as the audit records it: made, failed, or refused by a cap. */
interface GroundingCall {
  purpose: 'canary' | 'evaluator';
  prompt: BuiltPrompt;
  response: ModelResult | { error: string };
  usage: NonNullable<UsageRecord['groundingCalls']>[number];
  worstCaseUsd?: number;
  /** The ledger reservation it was made under. */
  reservation?: string | null;
  /** The cap that refused it (a scope key, or `per-inference`). */
  refused?: string;
  reconcilePending?: string;
}

/**
 * The model calls grounding adds — the divergence canary's second sample (step 8) and the
 * fresh-context evaluator (step 6) — only when the policy asks and the decision qualifies (schema
 * valid, not an abstention, high stakes unless the policy says always). Each is reserved against
 * the same caps before it is made and reconciled after, like the generation. A call that cannot be
 * made (cap, model failure) is recorded as failed, and verify sends the decision to review.
 */
async function groundingCalls(
  deps: GroundingCallDeps, def: IntegrationDefinition, documents: SourceDocument[], aiDecision: Record<string, unknown>, grounding: GroundingEvidence,
  scopes: LabelledScope[], envelope: Envelope, extraMicro: number,
): Promise<{ evidence: GroundingEvidence; calls: GroundingCall[] }> {
  const policy = def.grounding;
  const evidence: GroundingEvidence = {};
  const calls: GroundingCall[] = [];
  if (!policy.canary && !policy.evaluator) return { evidence, calls };
  const parsed = def.output.schema.safeParse(aiDecision);
  if (!parsed.success || (parsed.data as Record<string, unknown>).outcome === def.output.abstainOutcome) return { evidence, calls };
  const decision = parsed.data as Record<string, unknown>;

  /** A refusal by a cap, told apart from a failed call: approving it with --extra-usd makes sense. */
  const capRefusal = (reason: string) => ({ capRefused: reason });
  /**
   * One grounding call under the caps. Whatever goes wrong — a price missing, the ledger down, a
   * cap, the model — is recorded and returned, never thrown: the generation is already billed,
   * and a thrown error would make the queue redeliver and bill it again.
   */
  const paid = async (purpose: GroundingCall['purpose'], prompt: BuiltPrompt): Promise<ModelResult | string | { capRefused: string }> => {
    const modelId = prompt.request.model;
    const record = (entry: Omit<GroundingCall, 'purpose' | 'prompt' | 'usage'> & { usage?: GroundingCall['usage'] }) =>
      calls.push({ purpose, prompt, usage: { purpose, model: modelId, inputTokens: 0, outputTokens: 0, costUsd: 0 }, ...entry });
    let worstUsd: number;
    let reserved: Awaited<ReturnType<CostLedger['reserve']>>;
    try {
      worstUsd = worstCaseCostUsd(modelId, estimateTokens(JSON.stringify(prompt.request)), prompt.request.max_tokens, { promptCaching: true });
      if (worstUsd > def.model.perInferenceCapUsd + extraMicro / 1e6) {
        const reason = `its worst case $${worstUsd.toFixed(6)} exceeds the per-inference cap $${def.model.perInferenceCapUsd}`;
        record({ response: { error: reason }, worstCaseUsd: worstUsd, refused: 'per-inference' });
        return capRefusal(reason);
      }
      reserved = await deps.ledger.reserve(scopes, toMicroUsd(worstUsd), {
        id: `${envelope.decisionId}#${purpose}#${randomUUID().slice(0, 8)}`, decisionId: envelope.decisionId, integration: def.name, tenant: envelope.tenant,
        ttlSeconds: deps.reservationTtlSeconds ?? RESERVATION_TTL_SECONDS, now: deps.now(),
      });
    } catch (err) {
      const message = `not made: ${toSeamworkError(err).message}`;
      record({ response: { error: message } });
      return message;
    }
    if (!reserved.ok) {
      const reason = capRefusedReason(scopes, reserved, worstUsd);
      record({ response: { error: reason }, worstCaseUsd: worstUsd, refused: reserved.refusedBy.key });
      return capRefusal(reason);
    }
    await deps.ledger.markInvoked?.(reserved.reservation).catch(() => undefined);
    const reservation = reserved.reservation.id ?? null;
    let result: ModelResult;
    try {
      result = await deps.model.invoke(prompt);
    } catch (err) {
      const message = toSeamworkError(err).message;
      const problem = await deps.ledger.reconcile(reserved.reservation, 0).then(() => undefined, (e: unknown) => (e as Error).message);
      record({ response: { error: message }, worstCaseUsd: worstUsd, reservation, ...(problem ? { reconcilePending: problem } : {}) });
      return message;
    }
    let costUsd = 0;
    let problem: string | undefined;
    try {
      costUsd = actualCostUsd(modelId, result.usage);
      await deps.ledger.reconcile(reserved.reservation, result.replayed ? 0 : toMicroUsd(costUsd));
    } catch (err) {
      // Billed but not reconciled: the reservation stays marked invoked, so the sweeper keeps its worst case.
      problem = (err as Error).message;
    }
    record({
      response: result, worstCaseUsd: worstUsd, reservation, ...(problem ? { reconcilePending: `not reconciled (${problem}); the sweeper keeps the worst case` } : {}),
      usage: { purpose, model: modelId, inputTokens: result.usage.input_tokens + (result.usage.cache_creation_input_tokens ?? 0) + (result.usage.cache_read_input_tokens ?? 0), outputTokens: result.usage.output_tokens, costUsd },
    });
    return result;
  };

  if (policy.canary) {
    const want = wants(policy.canary, policy, decision);
    if (!want.run) evidence.canary = { ran: false, why: want.why };
    else {
      const r = await paid('canary', buildPrompt(def, documents, { temperature: policy.canary.temperature }));
      evidence.canary = typeof r === 'string' ? { ran: false, why: want.why, failed: r } : 'capRefused' in r ? { ran: false, why: want.why, failed: r.capRefused, capRefused: true } : { ran: true, why: want.why, decision: (r.toolInput ?? {}) as Record<string, unknown> };
    }
  }
  if (policy.evaluator) {
    const want = wants(policy.evaluator, policy, decision);
    const claims = policy.mode === 'citations' ? fromCitations(grounding.citations ?? [], documents, policy.claimFields).claims : claimsOf(decision);
    if (!want.run) evidence.evaluator = { ran: false, why: want.why };
    else if (claims.length === 0) evidence.evaluator = { ran: false, why: 'the decision states no claims' };
    else {
      const prompt = evaluatorPrompt(def, documents, claims);
      const r = await paid('evaluator', prompt);
      evidence.evaluator = typeof r === 'string' ? { ran: false, why: want.why, failed: r } : 'capRefused' in r ? { ran: false, why: want.why, failed: r.capRefused, capRefused: true } : { ran: true, why: want.why, model: prompt.request.model, claims, answer: r.toolInput ?? null };
    }
  }
  return { evidence, calls };
}

/** Why a reservation was refused, naming the scope, its cap and what is spent. */
function capRefusedReason(scopes: Array<{ kind: string; key: string }>, refused: { refusedBy: { key: string; capMicroUsd: number }; spentMicroUsd: number }, worstUsd: number): string {
  return `Reserving the worst case $${worstUsd.toFixed(6)} would exceed the ${scopes.find((s) => s.key === refused.refusedBy.key)?.kind ?? ''} cap ${refused.refusedBy.key} ($${usd(refused.refusedBy.capMicroUsd)}, spent $${usd(refused.spentMicroUsd)}).`;
}

/** Records a breaker signal; the breaker must never be the reason a decision fails. */
async function signal(deps: InferDeps, integration: string, kind: BreakerSignal): Promise<void> {
  const b = deps.breaker!;
  await recordSignal(b.store, integration, kind, b.policy, deps.now(), b.metrics).catch(() => undefined);
}

/** How much of the tenant's daily or monthly cap (whichever is fuller) is used after this reservation. */
function tenantCapUsedPercent(scopes: Array<{ kind: string; key: string; capMicroUsd: number }>, reservation: { spentAfterMicroUsd?: Record<string, number> }): number | null {
  if (!reservation.spentAfterMicroUsd) return null;
  const pcts = scopes
    .filter((s) => s.kind === 'tenant-day' || s.kind === 'tenant-month')
    .map((s) => (100 * (reservation.spentAfterMicroUsd![s.key] ?? 0)) / s.capMicroUsd);
  return pcts.length ? Math.round(Math.max(...pcts) * 10) / 10 : null;
}
