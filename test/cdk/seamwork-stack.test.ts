import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV, QUEUE_STAGES, REVIEW_QUEUE, STAGES } from '../../lambdas/core/config-keys.js';
import { FLAG_OFF, FlagsDocumentSchema } from '../../lambdas/core/flags.js';

import { FLAGS_URL, INITIAL_INTEGRATIONS } from '../../lib/cloud/flags.js';
import { BUCKETS, FLAGS, INGEST, QUEUES, REVIEW_SPEC, STAGE_SPECS, SWEEPER, TABLES, queueSettings, type QueueName } from '../../lib/topology.js';
import { logicalId, synthSeamwork } from './synth.js';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown };

let built: ReturnType<typeof synthSeamwork>;
let resources: Resources;

beforeAll(() => {
  built = synthSeamwork();
  resources = built.template.toJSON().Resources as Resources;
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** Every statement granted to a role, from all the IAM policies attached to it. */
function statementsOfRole(roleLogicalId: string): Statement[] {
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleLogicalId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** Every function, by stage name, with its role's logical id. */
function functions() {
  const { stack } = built;
  return [
    { stage: 'ingest', fn: stack.ingest.fn, role: stack.ingest.role },
    ...QUEUE_STAGES.map((stage) => ({ stage, fn: stack.stages[stage].fn, role: stack.stages[stage].role })),
  ].map((f) => ({ ...f, fnId: logicalId(stack, f.fn), roleId: logicalId(stack, f.role) }));
}

describe('SeamworkStack queues', () => {
  it('declares one queue and one DLQ per topology queue', () => {
    expect(ofType('AWS::SQS::Queue')).toHaveLength(QUEUES.length * 2);
  });

  it.each(QUEUES.map((q) => [q]))('redrives %s to its DLQ after the topology maxReceiveCount', (name: QueueName) => {
    const { stack } = built;
    const { queue, dlq } = stack.queues[name];
    const expected = queueSettings(name).maxReceiveCount;
    const props = resources[logicalId(stack, queue)].Properties;

    expect(props.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack, dlq), 'Arn'] },
      maxReceiveCount: expected,
    });
    expect(props.SqsManagedSseEnabled ?? props.KmsMasterKeyId).toBeTruthy();
    expect(props.VisibilityTimeout).toBe(queueSettings(name).visibilityTimeoutSeconds);
  });

  it('denies non-TLS access to every queue', () => {
    for (const [, policy] of ofType('AWS::SQS::QueuePolicy')) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      );
    }
    expect(ofType('AWS::SQS::QueuePolicy')).toHaveLength(QUEUES.length * 2);
  });
});

describe('SeamworkStack functions', () => {
  it('runs every stage on Node 22+ and arm64', () => {
    const fns = functions();
    expect(fns).toHaveLength(1 + QUEUE_STAGES.length);
    for (const { fnId } of fns) {
      const props = resources[fnId].Properties;
      expect(props.Runtime).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Handler).toBe('index.handler');
    }
  });

  it.each(QUEUE_STAGES.map((s) => [s]))('feeds %s from its queue with partial batch responses', (stage) => {
    const { stack } = built;
    built.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(stack, stack.stages[stage].fn) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, stack.stages[stage].queue), 'Arn'] },
      BatchSize: STAGE_SPECS[stage].batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const props = resources[logicalId(stack, stack.stages[stage].fn)].Properties;
    expect(props.Timeout).toBe(STAGE_SPECS[stage].timeoutSeconds);
    expect(props.MemorySize).toBe(STAGE_SPECS[stage].memoryMb);
  });

  it('routes POST /webhooks/{integration} to the ingest function', () => {
    built.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: `POST ${INGEST.route}` });
    built.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
  });

  it('sets exactly the env vars the topology implies, all named from ENV', () => {
    const known = new Set<string>([
      ...Object.values(ENV as Record<string, unknown>).filter((v): v is string => typeof v === 'string'),
      ...QUEUES.flatMap((q) => [ENV.queueUrl(q), ENV.dlqUrl(q), ENV.maxReceiveCount(q)]),
    ]);
    for (const { stage, fnId } of functions()) {
      const names = Object.keys(resources[fnId].Properties.Environment.Variables).filter((n) => n !== 'NODE_OPTIONS');
      const spec = stage === 'ingest' ? undefined : STAGE_SPECS[stage as (typeof QUEUE_STAGES)[number]];
      const sendsTo: readonly string[] = spec ? spec.sendsTo : INGEST.sendsTo;
      const tables: readonly (keyof typeof TABLES)[] = spec ? spec.tables : INGEST.tables;
      const expected = [
        ENV.POWERTOOLS_SERVICE_NAME,
        ENV.POWERTOOLS_METRICS_NAMESPACE,
        ...Object.values(BUCKETS).map((b) => b.envKey),
        ...sendsTo.map((q) => ENV.queueUrl(q)),
        ...tables.map((t) => TABLES[t].envKey),
        ...(spec ? [ENV.dlqUrl(stage), ENV.maxReceiveCount(stage)] : [ENV.MAX_BODY_BYTES]),
        ...(spec?.readsFlags ? [ENV.FLAGS_URL] : []),
        ...(!spec || spec.callsModel || spec.callsConnectors ? [ENV.SECRETS_ARN] : []),
        ENV.AUDIT_KEY_SECRET,
      ];

      for (const name of names) expect(known, `${stage}: ${name} is not an ENV name`).toContain(name);
      expect(names.sort(), stage).toEqual([...new Set(expected)].sort());
    }
    expect(STAGES).toContain('ingest');
  });

  it('sets connector base URLs and the spend cap only where the topology says they are used', () => {
    const custom = synthSeamwork({ zendeskBaseUrl: 'https://acme.zendesk.com', githubApiUrl: 'https://api.github.com', shopifyShopUrl: 'https://acme.myshopify.com', tenantDailyCapUsd: 7, tenantMonthlyCapUsd: 70, integrationDailyCapUsd: 40, globalDailyCapUsd: 90 });
    const res = custom.template.toJSON().Resources as Resources;
    for (const stage of QUEUE_STAGES) {
      const vars = res[logicalId(custom.stack, custom.stack.stages[stage].fn)].Properties.Environment.Variables;
      expect(vars[ENV.ZENDESK_BASE_URL], stage).toBe(STAGE_SPECS[stage].callsConnectors ? 'https://acme.zendesk.com' : undefined);
      expect(vars[ENV.GITHUB_API_URL], stage).toBe(STAGE_SPECS[stage].callsConnectors ? 'https://api.github.com' : undefined);
      expect(vars[ENV.SHOPIFY_SHOP_URL], stage).toBe(STAGE_SPECS[stage].callsConnectors ? 'https://acme.myshopify.com' : undefined);
      expect(vars[ENV.TENANT_DAILY_CAP_USD], stage).toBe(STAGE_SPECS[stage].callsModel ? '7' : undefined);
      expect([vars[ENV.TENANT_MONTHLY_CAP_USD], vars[ENV.INTEGRATION_DAILY_CAP_USD], vars[ENV.GLOBAL_DAILY_CAP_USD]], stage).toEqual(STAGE_SPECS[stage].callsModel ? ['70', '40', '90'] : [undefined, undefined, undefined]);
      expect(vars[ENV.SLACK_BASE_URL], stage).toBeUndefined();
    }
  });

  it('points flag readers at the AppConfig agent and gives them the extension layer', () => {
    const { stack } = built;
    for (const stage of QUEUE_STAGES) {
      const props = resources[logicalId(stack, stack.stages[stage].fn)].Properties;
      if (STAGE_SPECS[stage].readsFlags) {
        expect(props.Environment.Variables[ENV.FLAGS_URL]).toBe(FLAGS_URL);
        expect(props.Layers).toEqual([{ 'Fn::FindInMap': ['AppConfigExtensionArm64', { Ref: 'AWS::Region' }, 'layerArn'] }]);
      } else {
        expect(props.Layers).toBeUndefined();
      }
    }
    expect(FLAGS_URL).toBe(
      `http://localhost:2772/applications/${FLAGS.application}/environments/${FLAGS.environment}/configurations/${FLAGS.profile}`,
    );
  });

  it('maps the arm64 AppConfig extension layer for the main regions', () => {
    const mapping = built.template.toJSON().Mappings.AppConfigExtensionArm64 as Record<string, { layerArn: string }>;
    for (const region of ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1']) {
      expect(mapping[region].layerArn).toMatch(
        new RegExp(`^arn:aws:lambda:${region}:\\d{12}:layer:AWS-AppConfig-Extension-Arm64:\\d+$`),
      );
    }
  });
});

describe('SeamworkStack least privilege', () => {
  it('grants no wildcard action in any IAM policy', () => {
    const policies = ofType('AWS::IAM::Policy');
    expect(policies.length).toBeGreaterThan(0);
    for (const [id, p] of policies) {
      for (const s of p.Properties.PolicyDocument.Statement as Statement[]) {
        for (const action of actionsOf(s)) expect(action, `${id} ${s.Sid ?? ''}`).not.toContain('*');
      }
    }
    for (const [, role] of ofType('AWS::IAM::Role')) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.Policies).toBeUndefined();
    }
  });

  it('lets each function send only to the queues the topology names and its own DLQ', () => {
    const { stack } = built;
    const arnOf = (q: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [logicalId(stack, q), 'Arn'] });
    for (const { stage, roleId } of functions()) {
      const sendTargets = statementsOfRole(roleId)
        .filter((s) => actionsOf(s).includes('sqs:SendMessage'))
        .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
      const spec = stage === 'ingest' ? undefined : STAGE_SPECS[stage as (typeof QUEUE_STAGES)[number]];
      const expected = [
        ...(spec ? spec.sendsTo : INGEST.sendsTo).map((q) => arnOf(stack.queues[q].queue)),
        ...(spec ? [arnOf(stack.stages[spec.stage].dlq)] : []),
      ];
      expect(sendTargets, stage).toHaveLength(expected.length);
      expect(sendTargets, stage).toEqual(expect.arrayContaining(expected));
    }
  });

  it('does not let infer write to the act queue', () => {
    const { stack } = built;
    const infer = functions().find((f) => f.stage === 'infer')!;
    const actQueueArn = { 'Fn::GetAtt': [logicalId(stack, stack.queues.act.queue), 'Arn'] };
    const reaching = statementsOfRole(infer.roleId).filter((s) =>
      JSON.stringify(s.Resource).includes(JSON.stringify(actQueueArn)),
    );
    expect(reaching).toEqual([]);
  });

  it('gives write access to a table only where the stage writes it', () => {
    const { stack } = built;
    const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
    const tableArn = (t: keyof typeof TABLES) => ({ 'Fn::GetAtt': [logicalId(stack, stack.tables[t]), 'Arn'] });
    const act = functions().find((f) => f.stage === 'act')!;
    const actVault = statementsOfRole(act.roleId).filter(
      (s) => JSON.stringify(s.Resource) === JSON.stringify([tableArn('vault')]) || JSON.stringify(s.Resource) === JSON.stringify(tableArn('vault')),
    );
    expect(actVault.length).toBeGreaterThan(0);
    for (const s of actVault) for (const w of writes) expect(actionsOf(s)).not.toContain(w);

    // verify reaches the ledger table for the circuit breaker's counts, and the idempotency table
    // for its own stage ledger items, and only those items.
    const verify = functions().find((f) => f.stage === 'verify')!;
    const verifyDynamo = statementsOfRole(verify.roleId).filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')));
    expect(verifyDynamo.map((st) => [JSON.stringify(st.Resource), (st as { Condition?: unknown }).Condition]).sort()).toEqual([
      [JSON.stringify(tableArn('idempotency')), { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['seamwork/v1/stage#verify#*'] } }],
      [JSON.stringify(tableArn('ledger')), { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['breaker#*'] } }],
    ].sort());
  });

  it('keeps each stage to its own stage-ledger items, and the progress of actions to act', () => {
    const { stack } = built;
    const idem = JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, stack.tables.idempotency), 'Arn'] });
    for (const { stage, roleId } of functions()) {
      const onIdem = statementsOfRole(roleId).filter((st) => JSON.stringify(st.Resource) === idem);
      expect(onIdem.length, stage).toBeGreaterThan(0);
      const prefixes = onIdem.map((st) => (st as { Condition?: Record<string, Record<string, string[]>> }).Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']);
      expect(prefixes, stage).toEqual(onIdem.map(() => (stage === 'act' ? ['seamwork/v1/stage#act#*', 'seamwork/v1/action#*'] : [`seamwork/v1/stage#${stage}#*`])));
    }
  });

  it('lets each secret be read by one stage only: signing by ingest, connectors by act, the model key by infer', () => {
    const { stack } = built;
    const readers = (secretId: string) =>
      functions().filter(({ roleId }) => statementsOfRole(roleId).some((st) => actionsOf(st).includes('secretsmanager:GetSecretValue') && JSON.stringify(st.Resource).includes(secretId))).map((f) => f.stage);
    expect(readers(logicalId(stack, stack.signingSecret))).toEqual(['ingest']);
    expect(readers(logicalId(stack, stack.connectorSecret))).toEqual(['act']);
    expect(readers(logicalId(stack, stack.modelSecret))).toEqual(['infer']);
  });

  it('lets functions append audit records and read back only their own, never list, delete or write a checkpoint', () => {
    const { stack } = built;
    const auditId = logicalId(stack, stack.audit.bucket);
    const keyId = logicalId(stack, stack.audit.key);
    for (const { stage, roleId } of functions()) {
      const statements = statementsOfRole(roleId);
      const onAudit = statements.filter((s) => JSON.stringify(s.Resource).includes(auditId));
      expect(onAudit.flatMap(actionsOf).sort(), stage).toEqual(['s3:GetObject', 's3:PutObject']);
      const put = onAudit.find((s) => actionsOf(s).includes('s3:PutObject'))!;
      expect(JSON.stringify(put.Resource), stage).toContain('/decisions/*');
      const get = onAudit.find((s) => actionsOf(s).includes('s3:GetObject'))!;
      expect(JSON.stringify(get.Resource), stage).toContain(`/decisions/*-${stage}-*`);
      const onKey = statements.filter((s) => JSON.stringify(s.Resource).includes(keyId));
      expect(onKey.flatMap(actionsOf).sort(), stage).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    }
  });

  it('lets each stage read its own audit MAC key and no other writer\'s', () => {
    const { stack } = built;
    for (const { stage, roleId } of functions()) {
      const readable = Object.entries(stack.auditKeys.secrets)
        .filter(([, secret]) => statementsOfRole(roleId).some((st) => actionsOf(st).includes('secretsmanager:GetSecretValue') && JSON.stringify(st.Resource).includes(logicalId(stack, secret))))
        .map(([writer]) => writer);
      expect(readable, stage).toEqual([stage]);
    }
  });

  it('runs the checkpointer on a schedule, appending only under checkpoints/ with its own key', () => {
    const { stack, template } = built;
    const fnId = logicalId(stack, stack.checkpointer.fn);
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((r) => JSON.stringify(r).includes(fnId));
    expect(rules).toHaveLength(1);
    const roleId = logicalId(stack, stack.checkpointer.role);
    const puts = statementsOfRole(roleId).filter((st) => actionsOf(st).includes('s3:PutObject'));
    expect(puts.map((st) => JSON.stringify(st.Resource))).toEqual([expect.stringContaining('/checkpoints/*')]);
    expect(statementsOfRole(roleId).some((st) => actionsOf(st).some((a) => a.startsWith('s3:Delete')))).toBe(false);
  });

  it('reads the flags profile only from the functions that read flags', () => {
    const readers = functions().filter(({ roleId }) =>
      statementsOfRole(roleId).some((s) => actionsOf(s).includes('appconfig:GetLatestConfiguration')),
    );
    expect(readers.map((r) => r.stage).sort()).toEqual(QUEUE_STAGES.filter((s) => STAGE_SPECS[s].readsFlags).sort());
  });
});

describe('SeamworkStack storage', () => {
  it('locks audit records in COMPLIANCE mode, versioned, KMS-encrypted with a rotating key', () => {
    const { stack } = built;
    const props = resources[logicalId(stack, stack.audit.bucket)].Properties;
    expect(props.ObjectLockEnabled).toBe(true);
    expect(props.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } },
    });
    expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(props.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: { 'Fn::GetAtt': [logicalId(stack, stack.audit.key), 'Arn'] },
    });
    expect(props.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(props.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: logicalId(stack, stack.audit.accessLogsBucket) });
    expect(resources[logicalId(stack, stack.audit.key)].Properties.EnableKeyRotation).toBe(true);
  });

  it('takes the audit retention from the stack props', () => {
    const custom = synthSeamwork({ auditRetentionDays: 30 });
    custom.template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } } },
    });
  });

  it('expires payloads and never locks them', () => {
    const { stack } = built;
    const props = resources[logicalId(stack, stack.payloadBucket)].Properties;
    expect(props.ObjectLockEnabled).toBeUndefined();
    expect(props.LifecycleConfiguration.Rules[0]).toMatchObject({ ExpirationInDays: 14, Status: 'Enabled' });
  });

  it('creates every topology table with pk, on-demand billing, TTL expiresAt and PITR', () => {
    const tables = ofType('AWS::DynamoDB::Table');
    expect(tables).toHaveLength(Object.keys(TABLES).length);
    expect(tables.filter(([, t]) => t.Properties.KeySchema.length === 2)).toHaveLength(Object.values(TABLES).filter((t) => t.sortKey).length);
    for (const [, t] of tables) {
      const withSort = t.Properties.KeySchema.length === 2;
      expect(t.Properties).toMatchObject({
        KeySchema: withSort ? [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }] : [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
    }
  });
});

describe('SeamworkStack flags and alarms', () => {
  it('hosts a feature-flags profile with every integration off', () => {
    built.template.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', {
      Name: FLAGS.profile,
      Type: 'AWS.AppConfig.FeatureFlags',
      LocationUri: 'hosted',
    });
    const [[, version]] = ofType('AWS::AppConfig::HostedConfigurationVersion');
    const doc = JSON.parse(version.Properties.Content as string);
    expect(doc.version).toBe('1');
    expect(INITIAL_INTEGRATIONS).toContain('support-triage');
    expect(FlagsDocumentSchema.parse(doc.values)).toEqual(Object.fromEntries(INITIAL_INTEGRATIONS.map((name) => [name, FLAG_OFF])));
    for (const name of INITIAL_INTEGRATIONS) expect(doc.flags[name].attributes.mode.constraints.enum, name).toEqual(['live', 'shadow']);
  });

  it('monitors the flags environment with the rollback alarm and a role AppConfig can assume', () => {
    const { stack } = built;
    const rollbackId = logicalId(stack, stack.alarms.rollbackAlarm);
    const roleId = logicalId(stack, stack.flags.monitorRole);
    built.template.hasResourceProperties('AWS::AppConfig::Environment', {
      Name: FLAGS.environment,
      Monitors: [{ AlarmArn: { 'Fn::GetAtt': [rollbackId, 'Arn'] }, AlarmRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } }],
    });
    expect(resources[roleId].Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({
      Service: 'appconfig.amazonaws.com',
    });
    built.template.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
      GrowthType: 'LINEAR',
      GrowthFactor: 20,
      FinalBakeTimeInMinutes: Match.anyValue(),
    });
  });

  it.each(QUEUES.map((q) => [q]))('alarms on any message in the %s DLQ', (name: QueueName) => {
    const { stack } = built;
    built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, stack.queues[name].dlq), 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('alarms on each function error and folds errors and DLQ arrival rates (not DLQ depth) into the rollback alarm', () => {
    const { stack } = built;
    for (const { fnId } of functions()) {
      built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
      });
    }
    const rule = JSON.stringify(resources[logicalId(stack, stack.alarms.rollbackAlarm)].Properties.AlarmRule);
    for (const [, alarm] of Object.entries({ ...stack.alarms.dlqArrivalAlarms, ...stack.alarms.errorAlarms })) {
      expect(rule).toContain(logicalId(stack, alarm));
    }
    expect(Object.keys(stack.alarms.dlqArrivalAlarms).sort()).toEqual(['act', 'infer', 'verify']);
    // A DLQ waiting to be drained must not keep rolling every later flag change back.
    for (const alarm of Object.values(stack.alarms.dlqAlarms)) expect(rule).not.toContain(logicalId(stack, alarm));
    expect(ofType('AWS::CloudWatch::Dashboard')).toHaveLength(1);
  });

  it('alarms on events held in quarantine and on expired migration windows, neither of which rolls a flag change back', () => {
    const { stack } = built;
    built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, stack.queues.quarantine.queue), 'QueueName'] } }],
      Threshold: 1,
    });
    // The metric as the validate handler emits it: Seamwork namespace, its default dimensions.
    built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'MigrationWindowExpired',
      Namespace: 'Seamwork',
      Dimensions: Match.arrayWith([{ Name: 'service', Value: 'seamwork' }, { Name: 'stage', Value: 'validate' }]),
      Threshold: 1,
    });
    const rule = JSON.stringify(resources[logicalId(stack, stack.alarms.rollbackAlarm)].Properties.AlarmRule);
    expect(rule).not.toContain(logicalId(stack, stack.alarms.quarantineAlarm!));
    expect(rule).not.toContain(logicalId(stack, stack.alarms.migrationExpiredAlarm));
  });

  it('alarms on an opened circuit breaker and on a cost burn rate that would exhaust the global cap', () => {
    const { stack } = built;
    const breaker = resources[logicalId(stack, stack.alarms.breakerAlarm)].Properties;
    expect(JSON.stringify(breaker.Metrics)).toContain('BreakerOpened');
    built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CostMicroUsd', Namespace: 'Seamwork', Period: 3600, Threshold: 25_000_000, // 3 × $200/24h, in micro-dollars
    });
    built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'TenantCapUsedPercent', Namespace: 'Seamwork', Statistic: 'Maximum', Threshold: 80,
    });
    const rule = JSON.stringify(resources[logicalId(stack, stack.alarms.rollbackAlarm)].Properties.AlarmRule);
    expect(rule).not.toContain(logicalId(stack, stack.alarms.burnRateAlarm));
    expect(rule).not.toContain(logicalId(stack, stack.alarms.tenantCapAlarm));
  });

  it('runs the reservation sweeper on a schedule, with access to the ledger table only', () => {
    const { stack } = built;
    built.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `rate(${SWEEPER.scheduleMinutes} minutes)`,
      Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(stack, stack.sweeper.fn), 'Arn'] } })]),
    });
    const policies = ofType('AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(logicalId(stack, stack.sweeper.role)));
    const statements = policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);
    const actions = statements.flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:Scan', 'dynamodb:UpdateItem']);
    expect(actions.some((a) => a.startsWith('sqs:') || a.startsWith('s3:') || a.startsWith('secretsmanager:'))).toBe(false);
    for (const st of statements.filter((x) => JSON.stringify(x.Action).includes('dynamodb:'))) {
      expect(JSON.stringify(st.Resource)).toContain(logicalId(stack, stack.tables.ledger));
    }
  });

  it('denies any put to the audit bucket that is not a conditional If-None-Match write', () => {
    const policies = ofType('AWS::S3::BucketPolicy').map(([, p]) => JSON.stringify(p.Properties.PolicyDocument));
    expect(policies.some((p) => p.includes('DenyUnconditionalPuts') && p.includes('"s3:if-none-match":"true"'))).toBe(true);
  });

  it('has a kill-switch deployment strategy that deploys at once with no bake, so nothing can roll it back', () => {
    built.template.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', { DeploymentDurationInMinutes: 0, FinalBakeTimeInMinutes: 0, GrowthFactor: 100 });
  });

  it('outputs the webhook URL, every queue URL and the audit bucket name', () => {
    const outputs = Object.keys(built.template.toJSON().Outputs);
    expect(outputs).toContain('WebhookUrl');
    expect(outputs).toContain('AuditBucketName');
    for (const q of QUEUES) expect(outputs).toContain(`QueueUrl${q}`);
  });
});
