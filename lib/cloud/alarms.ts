import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_CAPS, burnRateThresholdMicroUsd } from '../../lambdas/core/caps.js';
import { METRICS, METRICS_NAMESPACE } from '../../lambdas/core/metrics.js';

/** Props of {@link Alarms}. */
export interface AlarmsProps {
  /** Each topology queue by name, with its DLQ. */
  readonly queues: Readonly<Record<string, { readonly queue: sqs.IQueue; readonly dlq: sqs.IQueue }>>;
  /** Each stage's function by stage name (ingest included). */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** The webhook API, for the dashboard. */
  readonly api: apigwv2.IHttpApi;
  /**
   * Errors per 5 minutes at which a function's error alarm fires.
   * @default 1
   */
  readonly errorThreshold?: number;
  /**
   * Rejections per 5 minutes into the infer, verify or act DLQ that roll a flag rollout back.
   * @default 3
   */
  readonly dlqArrivalThreshold?: number;
  /**
   * Hours a review item may wait before an alarm fires.
   * @default 24
   */
  readonly reviewAgeHours?: number;
  /**
   * The global daily model spend cap in USD: the burn-rate alarm fires when an hour's spend would
   * exhaust it in under eight hours (three times the even pace).
   * @default 200
   */
  readonly globalDailyCapUsd?: number;
  /**
   * Layer 4 (grounding) alarm thresholds; any left out take the exported defaults
   * ({@link GROUNDING_ALARM_DEFAULTS}).
   */
  readonly grounding?: Partial<GroundingAlarmThresholds>;
}

/**
 * Abstain rate (Abstained / DecisionJudged, percent) over one hour above which the model is giving
 * up: 30%. Step 1 of the playbook gives the model permission to abstain, and it should use it on
 * the tickets that really lack information — but when nearly a third of an hour's decisions come
 * back "insufficient information", the prompt, the windowing or a flag change has starved it of
 * context, and the review queue fills with work the AI path was meant to do.
 */
export const ABSTAIN_RATE_HIGH_PERCENT = 30;
/** Decisions judged in the hour below which {@link ABSTAIN_RATE_HIGH_PERCENT} is not evaluated: 6 abstentions in 20 is a signal, 1 in 2 is not. */
export const ABSTAIN_RATE_HIGH_MIN_JUDGED = 20;
/**
 * Abstain rate over 24 hours below which the model is guessing: 1%. Real inboxes always hold some
 * tickets that cannot be decided from what was sent; a model that never says so over a day of
 * traffic is answering them anyway (the permission to abstain is not being used). Slow by nature,
 * hence the day-long window.
 */
export const ABSTAIN_RATE_LOW_PERCENT = 1;
/** Decisions judged in the day below which {@link ABSTAIN_RATE_LOW_PERCENT} is not evaluated: at 200, a 1% floor means 2 abstentions expected, so 0 is meaningful. */
export const ABSTAIN_RATE_LOW_MIN_JUDGED = 200;
/**
 * Hallucination rate (HallucinationFlagged / DecisionJudged, percent; at most one flag per
 * decision) over one hour at which the alarm fires: 5%. Flagged decisions are caught — quotes
 * retracted, claims dropped, the decision sent to review — so a few are the checks doing their
 * job; one in twenty means the model (or a prompt or flag change) is inventing evidence faster
 * than the checks should be trusted to catch it.
 */
export const HALLUCINATION_RATE_PERCENT = 5;
/** Decisions judged in the hour below which {@link HALLUCINATION_RATE_PERCENT} is not evaluated. */
export const HALLUCINATION_RATE_MIN_JUDGED = 20;
/**
 * Divergences (the second sample of a high-stakes decision disagreeing with the first) in one
 * hour at which the alarm fires: 3. One is the canary working — that decision went to review; a
 * canary that diverges repeatedly means the model is unstable on exactly the decisions that
 * matter most.
 */
export const DIVERGENCE_PER_HOUR = 3;

/** Layer 4 alarm thresholds; see the exported constants for why each default is what it is. */
export interface GroundingAlarmThresholds {
  /** @default {@link ABSTAIN_RATE_HIGH_PERCENT} */
  readonly abstainHighPercent: number;
  /** @default {@link ABSTAIN_RATE_HIGH_MIN_JUDGED} */
  readonly abstainHighMinJudged: number;
  /** @default {@link ABSTAIN_RATE_LOW_PERCENT} */
  readonly abstainLowPercent: number;
  /** @default {@link ABSTAIN_RATE_LOW_MIN_JUDGED} */
  readonly abstainLowMinJudged: number;
  /** @default {@link HALLUCINATION_RATE_PERCENT} */
  readonly hallucinationPercent: number;
  /** @default {@link HALLUCINATION_RATE_MIN_JUDGED} */
  readonly hallucinationMinJudged: number;
  /** @default {@link DIVERGENCE_PER_HOUR} */
  readonly divergencePerHour: number;
}

/** The Layer 4 thresholds the stack uses unless {@link AlarmsProps.grounding} overrides them. */
export const GROUNDING_ALARM_DEFAULTS: GroundingAlarmThresholds = {
  abstainHighPercent: ABSTAIN_RATE_HIGH_PERCENT,
  abstainHighMinJudged: ABSTAIN_RATE_HIGH_MIN_JUDGED,
  abstainLowPercent: ABSTAIN_RATE_LOW_PERCENT,
  abstainLowMinJudged: ABSTAIN_RATE_LOW_MIN_JUDGED,
  hallucinationPercent: HALLUCINATION_RATE_PERCENT,
  hallucinationMinJudged: HALLUCINATION_RATE_MIN_JUDGED,
  divergencePerHour: DIVERGENCE_PER_HOUR,
};

/** The handlers' EMF metric: Seamwork's namespace, their default dimensions (lambdas/aws/metrics.ts). */
function emf(metricName: string, stage: string, period: Duration, statistic: string = cloudwatch.Stats.SUM): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, period, statistic, dimensionsMap: { service: 'seamwork', stage } });
}

/** An alarm that fires in the first period the metric reaches `threshold`; no data is fine. */
function atLeast(scope: Construct, id: string, alarmDescription: string, metric: cloudwatch.IMetric, threshold: number): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription, metric, threshold, evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/** Expression ids of the grounding-rate numerators (ids must be unique within a graph). */
const RATE_IDS = { [METRICS.Abstained]: 'abstained', [METRICS.HallucinationFlagged]: 'flagged' } as const;

/**
 * A percentage of the verify stage's `DecisionJudged` over `period`, as a math expression. Guarded
 * (`minJudged` given): `IF(judged >= minJudged, 100 * FILL(abstained, 0) / judged, neutral)` — with
 * fewer decisions than `minJudged` it yields `neutral` (chosen on the quiet side of the alarm's
 * threshold), and with no decision at all it yields no data (not breaching). The numerator is
 * FILLed with 0 because the handlers emit a count only when it is above 0
 * (lambdas/core/record-metrics.ts): an hour or a day with no abstention at all must read 0%, not
 * "no data" — that is the very case the abstain-low alarm exists for.
 */
function verifyRate(numerator: keyof typeof RATE_IDS, period: Duration, label: string, guard?: { minJudged: number; neutral: number }): cloudwatch.MathExpression {
  const id = RATE_IDS[numerator];
  const rate = `100 * FILL(${id}, 0) / judged`;
  return new cloudwatch.MathExpression({
    expression: guard ? `IF(judged >= ${guard.minJudged}, ${rate}, ${guard.neutral})` : rate,
    usingMetrics: { judged: emf(METRICS.DecisionJudged, 'verify', period), [id]: emf(numerator, 'verify', period) },
    period,
    label,
  });
}

/**
 * Layer 7 signals: a message in any DLQ, errors in any function, Seamwork's own EMF metrics
 * (contracts, breaker, spend, and the Layer 4 grounding rates), one composite alarm that AppConfig
 * watches to roll a flag change back, and a dashboard.
 */
export class Alarms extends Construct {
  /** One alarm per DLQ, by queue name: any visible message fires it. */
  public readonly dlqAlarms: Record<string, cloudwatch.Alarm> = {};
  /** One alarm per function, by stage name. */
  public readonly errorAlarms: Record<string, cloudwatch.Alarm> = {};
  /**
   * Rejections arriving in the DLQs of the stages a flag change can affect (infer, verify, act),
   * as a rate: the DLQ depth alarms stay red until someone drains them, which must not keep
   * rolling every later flag deployment back.
   */
  public readonly dlqArrivalAlarms: Record<string, cloudwatch.Alarm> = {};
  /** Review items waiting longer than a person should take. */
  public readonly reviewAgeAlarm?: cloudwatch.Alarm;
  /** An event is held in quarantine: a vendor changed a contract under an integration whose policy holds drift. */
  public readonly quarantineAlarm?: cloudwatch.Alarm;
  /** A payload relied on a contract migration window that has expired. */
  public readonly migrationExpiredAlarm: cloudwatch.Alarm;
  /** An integration's circuit breaker opened (its events take the baseline path for a while). */
  public readonly breakerAlarm: cloudwatch.Alarm;
  /** Model spend is burning through the global daily cap faster than it can last the day. */
  public readonly burnRateAlarm: cloudwatch.Alarm;
  /** A tenant has used most of its daily or monthly cap: its next events will wait in review. */
  public readonly tenantCapAlarm: cloudwatch.Alarm;
  /** Layer 4: over an hour, the model abstains on too many of the AI decisions judged (it gives up). */
  public readonly abstainRateHighAlarm: cloudwatch.Alarm;
  /** Layer 4: over a day, the model abstains on almost none of the AI decisions judged (it guesses). */
  public readonly abstainRateLowAlarm: cloudwatch.Alarm;
  /** Layer 4: over an hour, too many AI decisions had something flagged by the grounding checks. */
  public readonly hallucinationRateAlarm: cloudwatch.Alarm;
  /** Layer 4: the divergence canary disagreed with the first sample repeatedly within an hour. */
  public readonly divergenceAlarm: cloudwatch.Alarm;
  /** Fires when an arrival, error, hallucination-rate or abstain-high alarm does; the AppConfig rollback monitor. */
  public readonly rollbackAlarm: cloudwatch.CompositeAlarm;
  /** The operations dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const period = Duration.minutes(1);

    for (const [name, { dlq }] of Object.entries(props.queues)) {
      this.dlqAlarms[name] = new cloudwatch.Alarm(this, `Dlq-${name}`, {
        alarmDescription: `Seamwork: messages are waiting in the ${name} DLQ; each carries its rejection reason.`,
        metric: dlq.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    for (const [stage, fn] of Object.entries(props.functions)) {
      this.errorAlarms[stage] = new cloudwatch.Alarm(this, `Errors-${stage}`, {
        alarmDescription: `Seamwork: the ${stage} function is failing invocations.`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: props.errorThreshold ?? 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    const review = props.queues.review?.queue;
    if (review) {
      this.reviewAgeAlarm = new cloudwatch.Alarm(this, 'ReviewWaiting', {
        alarmDescription: `Seamwork: a decision has waited in the review queue for over ${props.reviewAgeHours ?? 24} hours; a person must look.`,
        metric: review.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(15), statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: (props.reviewAgeHours ?? 24) * 3600,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    const quarantine = props.queues.quarantine?.queue;
    if (quarantine) {
      this.quarantineAlarm = atLeast(this, 'Quarantined',
        'Seamwork: events are held in quarantine because a vendor payload drifted from its contract; `seamwork dlq list` names the field, `seamwork dlq redrive --queue quarantine` replays them after the contract is updated.',
        quarantine.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }), 1);
    }
    this.migrationExpiredAlarm = atLeast(this, 'MigrationWindowExpired',
      'Seamwork: payloads rely on a contract migration window that has expired; `seamwork contracts` lists it. Update the contract (or ask the vendor) — the widened shape is drift again.',
      emf(METRICS.MigrationWindowExpired, 'validate', Duration.hours(1)), 1);

    this.breakerAlarm = atLeast(this, 'BreakerOpened',
      'Seamwork: an integration\'s circuit breaker opened on model errors or failed verification; its events take the baseline path until it half-opens. The inferred records say why.',
      new cloudwatch.MathExpression({
        expression: 'infer + verify',
        usingMetrics: { infer: emf(METRICS.BreakerOpened, 'infer', Duration.minutes(5)), verify: emf(METRICS.BreakerOpened, 'verify', Duration.minutes(5)) },
        period: Duration.minutes(5),
      }), 1);
    this.burnRateAlarm = atLeast(this, 'CostBurnRate',
      'Seamwork: model spend in the last hour would exhaust the global daily cap in under 8 hours (3× the even pace). `seamwork cost` shows which tenant and integration.',
      emf(METRICS.CostMicroUsd, 'infer', Duration.hours(1)), burnRateThresholdMicroUsd(props.globalDailyCapUsd ?? DEFAULT_CAPS.globalDailyUsd));

    this.tenantCapAlarm = atLeast(this, 'TenantCapNearlySpent',
      'Seamwork: a tenant has used 80% or more of its daily or monthly model spend cap; the rest of its events will wait in review. `seamwork cost` names it; `seamwork caps set` raises it without a deploy.',
      emf(METRICS.TenantCapUsedPercent, 'infer', Duration.minutes(5), cloudwatch.Stats.MAXIMUM), 80);

    for (const name of ['infer', 'verify', 'act']) {
      const dlq = props.queues[name]?.dlq;
      if (!dlq) continue;
      this.dlqArrivalAlarms[name] = new cloudwatch.Alarm(this, `DlqArrivals-${name}`, {
        alarmDescription: `Seamwork: ${name} is rejecting decisions into its DLQ (rate); a flag rollout in progress is rolled back.`,
        // The stages send rejection records themselves, so NumberOfMessagesSent counts them.
        metric: dlq.metricNumberOfMessagesSent({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: props.dlqArrivalThreshold ?? 3,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // ── Layer 4: grounding rates of the AI decisions the verify stage judged ─────────────────
    const g: GroundingAlarmThresholds = { ...GROUNDING_ALARM_DEFAULTS, ...props.grounding };
    for (const key of ['abstainHighPercent', 'abstainLowPercent', 'hallucinationPercent'] as const) {
      // The neutral values below (0 and 100) stay quiet only for a threshold strictly between them.
      if (!(g[key] > 0 && g[key] < 100)) throw new Error(`Alarms: grounding.${key} must be a percentage strictly between 0 and 100, got ${g[key]}.`);
    }
    const hour = Duration.hours(1);
    this.abstainRateHighAlarm = new cloudwatch.Alarm(this, 'AbstainRateHigh', {
      alarmDescription: `Seamwork: over the last hour the model answered "insufficient information" on more than ${g.abstainHighPercent}% of the AI decisions judged (at least ${g.abstainHighMinJudged}): it is giving up, and the review queue fills. Look at a recent flag, prompt or windowing change; \`seamwork review list --code INSUFFICIENT_INFORMATION\` shows what it says is missing.`,
      metric: verifyRate(METRICS.Abstained, hour, 'Abstain rate % (1 h)', { minJudged: g.abstainHighMinJudged, neutral: 0 }),
      threshold: g.abstainHighPercent,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.abstainRateLowAlarm = new cloudwatch.Alarm(this, 'AbstainRateLow', {
      alarmDescription: `Seamwork: over the last 24 hours the model abstained on less than ${g.abstainLowPercent}% of the AI decisions judged (at least ${g.abstainLowMinJudged}): it is guessing where it should say what is missing. Check that the prompt still offers the abstention outcome and sample recent decisions with \`seamwork trace <decision-id>\`.`,
      metric: verifyRate(METRICS.Abstained, Duration.hours(24), 'Abstain rate % (24 h)', { minJudged: g.abstainLowMinJudged, neutral: 100 }),
      threshold: g.abstainLowPercent,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.hallucinationRateAlarm = atLeast(this, 'HallucinationRate',
      `Seamwork: over the last hour ${g.hallucinationPercent}% or more of the AI decisions judged (at least ${g.hallucinationMinJudged}) had a quote, claim, source or number flagged by the grounding checks. The flagged parts were retracted or sent to review; \`seamwork trace <decision-id>\` shows which check caught what.`,
      verifyRate(METRICS.HallucinationFlagged, hour, 'Hallucination rate % (1 h)', { minJudged: g.hallucinationMinJudged, neutral: 0 }), g.hallucinationPercent);
    this.divergenceAlarm = atLeast(this, 'DivergenceDetected',
      `Seamwork: the divergence canary disagreed with the first sample ${g.divergencePerHour} or more times in the last hour: the model is unstable on high-stakes decisions (each went to review; \`seamwork review list --code DIVERGENT_SAMPLES\`).`,
      emf(METRICS.DivergenceDetected, 'verify', hour), g.divergencePerHour);

    this.rollbackAlarm = new cloudwatch.CompositeAlarm(this, 'Rollback', {
      alarmDescription: 'Seamwork: decisions are being rejected, a function is failing, or the model is hallucinating or giving up on an unusual share of decisions. AppConfig rolls a flag rollout back while this fires (the kill-switch strategy has no bake, so it is never rolled back).',
      alarmRule: cloudwatch.AlarmRule.anyOf(
        ...Object.values(this.dlqArrivalAlarms),
        ...Object.values(this.errorAlarms),
        // A flag change that makes the model hallucinate or give up must be undone, so both hourly
        // rates join. Both are guarded by a minimum of decisions judged, so a quiet hour cannot
        // trip a rollback. Limits: AppConfig watches only during the rollout and its bake (by
        // default 10 + 10 minutes), so a rate that crosses its threshold later fires for a person
        // but rolls nothing back; and an hour-long window stays red for up to an hour after a
        // rollback, so a rollout started in that hour is rolled back too — let them clear first.
        // Not the abstain-low alarm: its 24-hour window outlives any rollout, so it could neither
        // pin the drop on the flag change nor clear in time, and would roll unrelated deployments
        // back for a day. Not divergence: a few disagreements an hour on high-stakes decisions are
        // a model-stability signal for a person (each already went to review), not evidence that
        // the change is bad.
        this.hallucinationRateAlarm,
        this.abstainRateHighAlarm,
      ),
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        width: 24,
        alarms: [this.rollbackAlarm, ...Object.values(this.dlqAlarms), ...Object.values(this.errorAlarms), ...(this.quarantineAlarm ? [this.quarantineAlarm] : []), this.migrationExpiredAlarm, this.breakerAlarm, this.burnRateAlarm, this.tenantCapAlarm, this.abstainRateHighAlarm, this.abstainRateLowAlarm, this.hallucinationRateAlarm, this.divergenceAlarm],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Grounding rates (AI decisions judged, hourly)',
        width: 12,
        left: [
          verifyRate(METRICS.Abstained, hour, 'Abstain rate %'),
          verifyRate(METRICS.HallucinationFlagged, hour, 'Hallucination rate %'),
        ],
        leftYAxis: { min: 0, max: 100, label: '%', showUnits: false },
        leftAnnotations: [
          { value: g.abstainHighPercent, label: 'abstain high', color: cloudwatch.Color.ORANGE },
          { value: g.abstainLowPercent, label: 'abstain low (24 h)', color: cloudwatch.Color.GREY },
          { value: g.hallucinationPercent, label: 'hallucination', color: cloudwatch.Color.RED },
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Grounding checks (verify, per 5 minutes)',
        width: 12,
        left: [METRICS.DecisionJudged, METRICS.Abstained, METRICS.HallucinationFlagged, METRICS.DivergenceDetected, METRICS.ClaimRetracted, METRICS.QuoteRetracted, METRICS.UngroundedClaim, METRICS.SourceRejected, METRICS.EvaluatorUnsupported, METRICS.ReasoningOutOfOrder]
          .map((name) => emf(name, 'verify', Duration.minutes(5)).with({ label: name })),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Webhooks',
        width: 12,
        left: [props.api.metricCount({ period }), props.api.metricClientError({ period }), props.api.metricServerError({ period })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Webhook latency p99',
        width: 12,
        left: [props.api.metricLatency({ period, statistic: 'p99' })],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queue depth',
        width: 12,
        left: Object.entries(props.queues).map(([name, { queue }]) =>
          queue.metricApproximateNumberOfMessagesVisible({ period, label: name, statistic: cloudwatch.Stats.MAXIMUM }),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: 'DLQ depth',
        width: 12,
        left: Object.entries(props.queues).map(([name, { dlq }]) =>
          dlq.metricApproximateNumberOfMessagesVisible({ period, label: `${name} DLQ`, statistic: cloudwatch.Stats.MAXIMUM }),
        ),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        width: 8,
        left: Object.entries(props.functions).map(([stage, fn]) => fn.metricErrors({ period, label: stage })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Function throttles',
        width: 8,
        left: Object.entries(props.functions).map(([stage, fn]) => fn.metricThrottles({ period, label: stage })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration p99',
        width: 8,
        left: Object.entries(props.functions).map(([stage, fn]) =>
          fn.metricDuration({ period, label: stage, statistic: 'p99' }),
        ),
      }),
    );
  }
}
