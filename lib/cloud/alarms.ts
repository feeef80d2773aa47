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
}

/**
 * Layer 7 signals on the AWS metrics (Seamwork's own EMF metrics get their alarms once their
 * vocabulary is fixed): a message in any DLQ, errors in any function, one composite alarm over
 * all of them that AppConfig watches to roll a flag change back, and a dashboard.
 */
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
  /** Fires when an arrival or error alarm does; the AppConfig rollback monitor. */
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

    this.rollbackAlarm = new cloudwatch.CompositeAlarm(this, 'Rollback', {
      alarmDescription: 'Seamwork: decisions are being rejected or a function is failing, now. AppConfig rolls a flag rollout back while this fires (the kill-switch strategy has no bake, so it is never rolled back).',
      alarmRule: cloudwatch.AlarmRule.anyOf(
        ...Object.values(this.dlqArrivalAlarms),
        ...Object.values(this.errorAlarms),
      ),
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        width: 24,
        alarms: [this.rollbackAlarm, ...Object.values(this.dlqAlarms), ...Object.values(this.errorAlarms), ...(this.quarantineAlarm ? [this.quarantineAlarm] : []), this.migrationExpiredAlarm, this.breakerAlarm, this.burnRateAlarm, this.tenantCapAlarm],
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
