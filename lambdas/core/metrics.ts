/**
 * Layer 7 metric vocabulary: every metric Seamwork emits, named once.
 *
 * Alarms, the dashboard and the handlers all refer to these names, so a metric cannot be
 * renamed in one place and silently stop feeding an alarm in another. Names only — the
 * handlers emit through Powertools Metrics (EMF); this module stays free of that import so the
 * CDK stack can read the vocabulary too. Every metric is emitted with the dimensions in
 * {@link METRIC_DIMENSIONS}.
 */
export const METRICS = {
  /** A webhook passed signature, size and shape checks and was queued (Count). */
  WebhookAccepted: 'WebhookAccepted',
  /** A webhook was refused at ingest: bad signature, too large, no event id (Count). */
  WebhookRejected: 'WebhookRejected',
  /** A signed delivery of an event type the integration does not process; answered 200 `ignored` (Count). */
  WebhookIgnored: 'WebhookIgnored',
  /** A vendor redelivered an event already accepted; answered 200 `duplicate` (Count). */
  DuplicateDelivery: 'DuplicateDelivery',
  /** A dedupe claim could not be confirmed or released; it lapses with its lease (Count). */
  DedupeStoreFailure: 'DedupeStoreFailure',
  /** An input failed its integration's contract at validate (Count). */
  ContractViolation: 'ContractViolation',
  /** A payload differs from its contract (unknown or missing field, new enum value, null, type change), one per finding (Count). */
  ContractDrift: 'ContractDrift',
  /** An event was held in the quarantine queue by its integration's drift policy (Count). */
  ContractQuarantined: 'ContractQuarantined',
  /** A payload relied on a migration window that has expired: update the contract or the vendor config (Count). */
  MigrationWindowExpired: 'MigrationWindowExpired',
  /** PII values replaced by tokens before the model could see them (Count, one per token). */
  PiiRedacted: 'PiiRedacted',
  /** A source document was cut or dropped to fit the token window (Count). */
  WindowTruncated: 'WindowTruncated',
  /** A model call was made, successful or not (Count). */
  ModelCall: 'ModelCall',
  /** A model call failed (429, 529, timeout, 5xx) (Count). */
  ModelError: 'ModelError',
  /** A model call was retried within the bounded retry budget (Count). */
  ModelRetry: 'ModelRetry',
  /** Wall time of one model call (Milliseconds). */
  ModelLatency: 'ModelLatency',
  /** Input tokens billed, including cache writes and reads (Count). */
  TokensIn: 'TokensIn',
  /** Output tokens billed (Count). */
  TokensOut: 'TokensOut',
  /** Actual cost of model calls in integer micro-dollars (Count). */
  CostMicroUsd: 'CostMicroUsd',
  /** An integration's circuit breaker opened: its events take the baseline path for a while (Count). */
  BreakerOpened: 'BreakerOpened',
  /** An event took the baseline path because its integration's breaker is open (Count). */
  BreakerDiverted: 'BreakerDiverted',
  /** How full the tenant's daily or monthly cap is after a reservation, whichever is fuller (Percent). */
  TenantCapUsedPercent: 'TenantCapUsedPercent',
  /** A crashed invocation's cost reservation expired and was given back by the sweeper (Count). */
  ReservationReleased: 'ReservationReleased',
  /** A call was refused before it was made because its worst case would pass a cap (Count). */
  CostCapRejected: 'CostCapRejected',
  /** The model's output did not match the output schema (Count). */
  SchemaFailure: 'SchemaFailure',
  /** An evidence quote was not found in its cited source and was retracted (Count). */
  QuoteRetracted: 'QuoteRetracted',
  /** The model answered "insufficient information" (Count). With `DecisionJudged`, the abstain rate, alarmed both ways. */
  Abstained: 'Abstained',
  /** An AI decision was judged by the grounding checks: the denominator of the abstain and hallucination rates (Count). */
  DecisionJudged: 'DecisionJudged',
  /** An AI decision failed or had something retracted by at least one grounding check (Count, at most 1 per decision). */
  HallucinationFlagged: 'HallucinationFlagged',
  /** A claim lost its supporting quote and was retracted (Count). */
  ClaimRetracted: 'ClaimRetracted',
  /** A number, date, amount or named entity in a claim appears in no source (closed book) (Count). */
  UngroundedClaim: 'UngroundedClaim',
  /** A citation named a source that is not a provided document from a whitelisted origin, or a document was kept out of the prompt (Count). */
  SourceRejected: 'SourceRejected',
  /** The second sample of a high-stakes decision disagreed with the first (Count). */
  DivergenceDetected: 'DivergenceDetected',
  /** The fresh-context evaluator found a claim unsupported, or could not judge (Count). */
  EvaluatorUnsupported: 'EvaluatorUnsupported',
  /** The reasoning field was missing or came after the claims (Count). */
  ReasoningOutOfOrder: 'ReasoningOutOfOrder',
  /** The model's confidence was below the integration's floor (Count). */
  LowConfidence: 'LowConfidence',
  /** A decision was sent to the human review queue (Count). */
  ReviewRouted: 'ReviewRouted',
  /** An action was executed on a downstream system (Count). */
  ActionExecuted: 'ActionExecuted',
  /** An action was skipped because its idempotency key had already run (Count). */
  ActionDuplicateSuppressed: 'ActionDuplicateSuppressed',
  /** An action failed at the connector (Count). */
  ActionFailed: 'ActionFailed',
  /** The AI decision was recorded but not acted on (shadow mode) (Count). */
  ShadowRecorded: 'ShadowRecorded',
  /** In shadow mode, the AI decision differed from the baseline that acted (Count). */
  ShadowDisagreement: 'ShadowDisagreement',
  /** A message was parked in a stage's dead-letter queue (Count). */
  DlqRouted: 'DlqRouted',
  /** A delivery found its stage already committed and did no work again (Count). */
  StageRedelivered: 'StageRedelivered',
  /** A stage attempt reused a step an earlier attempt completed (a billed model call) (Count). */
  StepReplayed: 'StepReplayed',
  /** The stage ledger could not keep a completed step or give a lease back (a store error, recorded, not raised) (Count). */
  StepMemoFailed: 'StepMemoFailed',
  /** An action whose earlier outcome was unknown was found committed at the vendor, and not sent again (Count). */
  ActionReconciled: 'ActionReconciled',
  /** An event took the AI path (Count). */
  PathAi: 'PathAi',
  /** An event took the baseline path, by flag or rollout (Count). */
  PathBaseline: 'PathBaseline',
  /** An event took the shadow path (Count). */
  PathShadow: 'PathShadow',
  /** Share of golden examples the daily eval got right (Percent). */
  EvalScore: 'EvalScore',
} as const;

/** A metric name from the vocabulary. */
export type MetricName = (typeof METRICS)[keyof typeof METRICS];

/** CloudWatch units used by the vocabulary; the strings equal Powertools' `MetricUnit` values. */
export type MetricUnitName = 'Count' | 'Milliseconds' | 'Percent';

/** The unit each metric is emitted with. */
export const METRIC_UNITS: Record<MetricName, MetricUnitName> = {
  WebhookAccepted: 'Count',
  WebhookRejected: 'Count',
  WebhookIgnored: 'Count',
  DuplicateDelivery: 'Count',
  DedupeStoreFailure: 'Count',
  ContractViolation: 'Count',
  ContractDrift: 'Count',
  ContractQuarantined: 'Count',
  MigrationWindowExpired: 'Count',
  PiiRedacted: 'Count',
  WindowTruncated: 'Count',
  ModelCall: 'Count',
  ModelError: 'Count',
  ModelRetry: 'Count',
  ModelLatency: 'Milliseconds',
  TokensIn: 'Count',
  TokensOut: 'Count',
  CostMicroUsd: 'Count',
  CostCapRejected: 'Count',
  ReservationReleased: 'Count',
  TenantCapUsedPercent: 'Percent',
  BreakerOpened: 'Count',
  BreakerDiverted: 'Count',
  SchemaFailure: 'Count',
  QuoteRetracted: 'Count',
  Abstained: 'Count',
  DecisionJudged: 'Count',
  HallucinationFlagged: 'Count',
  ClaimRetracted: 'Count',
  UngroundedClaim: 'Count',
  SourceRejected: 'Count',
  DivergenceDetected: 'Count',
  EvaluatorUnsupported: 'Count',
  ReasoningOutOfOrder: 'Count',
  LowConfidence: 'Count',
  ReviewRouted: 'Count',
  ActionExecuted: 'Count',
  ActionDuplicateSuppressed: 'Count',
  ActionFailed: 'Count',
  ShadowRecorded: 'Count',
  ShadowDisagreement: 'Count',
  DlqRouted: 'Count',
  StageRedelivered: 'Count',
  StepReplayed: 'Count',
  StepMemoFailed: 'Count',
  ActionReconciled: 'Count',
  PathAi: 'Count',
  PathBaseline: 'Count',
  PathShadow: 'Count',
  EvalScore: 'Percent',
};

/** Dimension names every metric carries, so alarms can be set per integration and per stage. */
export const METRIC_DIMENSIONS = {
  /** The integration's name, e.g. `support-triage`. */
  Integration: 'integration',
  /** The pipeline stage that emitted the metric, e.g. `infer`. */
  Stage: 'stage',
} as const;

/** CloudWatch namespace of every Seamwork metric. */
export const METRICS_NAMESPACE = 'Seamwork';
