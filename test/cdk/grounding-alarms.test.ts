import { App, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ABSTAIN_RATE_HIGH_MIN_JUDGED,
  ABSTAIN_RATE_HIGH_PERCENT,
  ABSTAIN_RATE_LOW_MIN_JUDGED,
  ABSTAIN_RATE_LOW_PERCENT,
  Alarms,
  type AlarmsProps,
  DIVERGENCE_PER_HOUR,
  HALLUCINATION_RATE_MIN_JUDGED,
  HALLUCINATION_RATE_PERCENT,
} from '../../lib/cloud/alarms.js';
import { logicalId, synthSeamwork } from './synth.js';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;
type MetricDataQuery = {
  Id: string;
  Expression?: string;
  ReturnData?: boolean;
  MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: unknown }> }; Period: number; Stat: string };
};

let built: ReturnType<typeof synthSeamwork>;
let resources: Resources;

beforeAll(() => {
  built = synthSeamwork();
  resources = built.template.toJSON().Resources as Resources;
});

const propsOf = (construct: { node: { defaultChild?: unknown } }) => resources[logicalId(built.stack, construct)].Properties;
const rollbackRule = () => JSON.stringify(propsOf(built.stack.alarms.rollbackAlarm).AlarmRule);

/** The alarm's one returned expression, and every metric it reads by id. */
function mathOf(props: Record<string, any>): { expression: string; metrics: Record<string, MetricDataQuery['MetricStat']> } {
  const queries = props.Metrics as MetricDataQuery[];
  expect(queries, 'a metric-math alarm').toBeDefined();
  const returned = queries.filter((q) => q.ReturnData !== false);
  expect(returned).toHaveLength(1);
  expect(returned[0].Expression).toBeDefined();
  const metrics = Object.fromEntries(queries.filter((q) => q.MetricStat).map((q) => [q.Id, q.MetricStat]));
  return { expression: returned[0].Expression!, metrics };
}

/** The verify stage's EMF metric as the handlers emit it (lambdas/aws/metrics.ts). */
const verifyMetric = (metricName: string, period: number) => ({
  Metric: {
    Namespace: 'Seamwork',
    MetricName: metricName,
    Dimensions: [{ Name: 'service', Value: 'seamwork' }, { Name: 'stage', Value: 'verify' }],
  },
  Period: period,
  Stat: 'Sum',
});

/**
 * Evaluates a grounding-rate alarm on one period's sums the way CloudWatch would: the guarded
 * expression `IF(judged >= N, 100 * FILL(x, 0) / judged, neutral)`, then the comparison. `judged`
 * undefined means no data (treated as not breaching); `num` undefined means the numerator metric
 * was not emitted at all (the handlers emit only counts above 0).
 */
function breaches(props: Record<string, any>, judged: number | undefined, num: number | undefined): boolean {
  const { expression } = mathOf(props);
  const m = /^IF\(judged >= (\d+), 100 \* FILL\((\w+), 0\) \/ judged, (\d+)\)$/.exec(expression);
  expect(m, expression).not.toBeNull();
  if (judged === undefined) {
    expect(props.TreatMissingData).toBe('notBreaching');
    return false;
  }
  const value = judged >= Number(m![1]) ? (100 * (num ?? 0)) / judged : Number(m![3]);
  const t = props.Threshold as number;
  switch (props.ComparisonOperator) {
    case 'GreaterThanThreshold': return value > t;
    case 'GreaterThanOrEqualToThreshold': return value >= t;
    case 'LessThanThreshold': return value < t;
    case 'LessThanOrEqualToThreshold': return value <= t;
    default: throw new Error(`unexpected operator ${props.ComparisonOperator}`);
  }
}

describe('Layer 4 alarms: abstain rate, both ways', () => {
  it('defaults to the thresholds the playbook asks for', () => {
    expect([ABSTAIN_RATE_HIGH_PERCENT, ABSTAIN_RATE_HIGH_MIN_JUDGED]).toEqual([30, 20]);
    expect([ABSTAIN_RATE_LOW_PERCENT, ABSTAIN_RATE_LOW_MIN_JUDGED]).toEqual([1, 200]);
    expect([HALLUCINATION_RATE_PERCENT, HALLUCINATION_RATE_MIN_JUDGED]).toEqual([5, 20]);
    expect(DIVERGENCE_PER_HOUR).toBe(3);
  });

  it('AbstainRateHigh: Abstained / DecisionJudged over 30% in an hour, with at least 20 judged', () => {
    const props = propsOf(built.stack.alarms.abstainRateHighAlarm);
    expect(props).toMatchObject({ Threshold: 30, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
    const { expression, metrics } = mathOf(props);
    expect(expression).toBe('IF(judged >= 20, 100 * FILL(abstained, 0) / judged, 0)');
    expect(metrics).toEqual({ judged: verifyMetric('DecisionJudged', 3600), abstained: verifyMetric('Abstained', 3600) });
  });

  it('AbstainRateLow: under 1% over 24 hours, with at least 200 judged', () => {
    const props = propsOf(built.stack.alarms.abstainRateLowAlarm);
    expect(props).toMatchObject({ Threshold: 1, ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
    const { expression, metrics } = mathOf(props);
    expect(expression).toBe('IF(judged >= 200, 100 * FILL(abstained, 0) / judged, 100)');
    expect(metrics).toEqual({ judged: verifyMetric('DecisionJudged', 86_400), abstained: verifyMetric('Abstained', 86_400) });
  });

  it('fires high only past 30% of enough decisions, and low only under 1% of enough — a day without any abstention included', () => {
    const high = propsOf(built.stack.alarms.abstainRateHighAlarm);
    expect(breaches(high, undefined, undefined)).toBe(false); // no AI traffic
    expect(breaches(high, 19, 19)).toBe(false); // every decision abstained, but too few to judge
    expect(breaches(high, 20, 6)).toBe(false); // exactly 30% is not over it
    expect(breaches(high, 20, 7)).toBe(true);
    expect(breaches(high, 1000, 301)).toBe(true);
    expect(breaches(high, 1000, undefined)).toBe(false);

    const low = propsOf(built.stack.alarms.abstainRateLowAlarm);
    expect(breaches(low, undefined, undefined)).toBe(false);
    expect(breaches(low, 199, undefined)).toBe(false); // too few decisions: the neutral value
    expect(breaches(low, 200, undefined)).toBe(true); // Abstained never emitted all day: 0%, the model guesses
    expect(breaches(low, 200, 1)).toBe(true); // 0.5%
    expect(breaches(low, 200, 2)).toBe(false); // exactly 1% is not under it
    expect(breaches(low, 5000, 400)).toBe(false);
  });
});

describe('Layer 4 alarms: hallucination rate and divergence', () => {
  it('HallucinationRate: HallucinationFlagged / DecisionJudged at 5% or more in an hour, with at least 20 judged', () => {
    const props = propsOf(built.stack.alarms.hallucinationRateAlarm);
    expect(props).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
    const { expression, metrics } = mathOf(props);
    expect(expression).toBe('IF(judged >= 20, 100 * FILL(flagged, 0) / judged, 0)');
    expect(metrics).toEqual({ judged: verifyMetric('DecisionJudged', 3600), flagged: verifyMetric('HallucinationFlagged', 3600) });

    expect(breaches(props, 19, 19)).toBe(false);
    expect(breaches(props, 20, 1)).toBe(true); // exactly 5%
    expect(breaches(props, 100, 4)).toBe(false);
    expect(breaches(props, 100, undefined)).toBe(false);
  });

  it('DivergenceDetected: 3 or more in an hour, from the verify stage', () => {
    const props = propsOf(built.stack.alarms.divergenceAlarm);
    expect(props).toMatchObject({
      Namespace: 'Seamwork',
      MetricName: 'DivergenceDetected',
      Dimensions: [{ Name: 'service', Value: 'seamwork' }, { Name: 'stage', Value: 'verify' }],
      Period: 3600,
      Statistic: 'Sum',
      Threshold: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('rolls a flag rollout back on the hallucination rate and abstain-high, not on abstain-low or divergence', () => {
    const { alarms } = built.stack;
    const rule = rollbackRule();
    expect(rule).toContain(logicalId(built.stack, alarms.hallucinationRateAlarm));
    expect(rule).toContain(logicalId(built.stack, alarms.abstainRateHighAlarm));
    expect(rule).not.toContain(logicalId(built.stack, alarms.abstainRateLowAlarm));
    expect(rule).not.toContain(logicalId(built.stack, alarms.divergenceAlarm));
    // Still the earlier members too.
    for (const alarm of Object.values(alarms.errorAlarms)) expect(rule).toContain(logicalId(built.stack, alarm));
  });

  it('graphs the abstain and hallucination rates on the dashboard and shows the four alarms', () => {
    const body = JSON.stringify(propsOf(built.stack.alarms.dashboard).DashboardBody);
    expect(body).toContain('Grounding rates');
    expect(body).toContain('100 * FILL(abstained, 0) / judged');
    expect(body).toContain('100 * FILL(flagged, 0) / judged');
    const { alarms } = built.stack;
    for (const alarm of [alarms.abstainRateHighAlarm, alarms.abstainRateLowAlarm, alarms.hallucinationRateAlarm, alarms.divergenceAlarm]) {
      expect(body).toContain(logicalId(built.stack, alarm));
    }
  });
});

describe('Layer 4 alarm thresholds can be overridden', () => {
  function alarmsWith(grounding: AlarmsProps['grounding']) {
    const stack = new Stack(new App(), 'Bare');
    const alarms = new Alarms(stack, 'Alarms', { queues: {}, functions: {}, api: new apigwv2.HttpApi(stack, 'Api'), grounding });
    const res = Template.fromStack(stack).toJSON().Resources as Resources;
    const of = (c: { node: { defaultChild?: unknown } }) => res[stack.resolve(stack.getLogicalId(c.node.defaultChild as never)) as string].Properties;
    return { alarms, of };
  }

  it('takes the props it is given and the defaults for the rest', () => {
    const { alarms, of } = alarmsWith({ abstainHighPercent: 40, abstainLowMinJudged: 500, divergencePerHour: 5 });
    expect(of(alarms.abstainRateHighAlarm).Threshold).toBe(40);
    expect(mathOf(of(alarms.abstainRateHighAlarm)).expression).toBe('IF(judged >= 20, 100 * FILL(abstained, 0) / judged, 0)');
    expect(of(alarms.abstainRateLowAlarm).Threshold).toBe(1);
    expect(mathOf(of(alarms.abstainRateLowAlarm)).expression).toBe('IF(judged >= 500, 100 * FILL(abstained, 0) / judged, 100)');
    expect(of(alarms.hallucinationRateAlarm).Threshold).toBe(5);
    expect(of(alarms.divergenceAlarm).Threshold).toBe(5);
  });

  it('refuses a percentage the neutral values could breach', () => {
    expect(() => alarmsWith({ abstainLowPercent: 100 })).toThrow(/abstainLowPercent/);
    expect(() => alarmsWith({ hallucinationPercent: 0 })).toThrow(/hallucinationPercent/);
  });
});
