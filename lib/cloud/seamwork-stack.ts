import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV, PARKING_QUEUES, QUEUE_STAGES, REVIEW_QUEUE, type ParkingQueue, type StageName } from '../../lambdas/core/config-keys.js';
import { BUCKETS, CHECKPOINTER, FLAGS, INGEST, REVIEW_SPEC, QUEUES, STAGE_SPECS, SWEEPER, TABLES, isParkingQueue, type QueueName, type TableName } from '../topology.js';
import { Alarms } from './alarms.js';
import { AuditBucket } from './audit-bucket.js';
import { AuditKeys } from './audit-keys.js';
import { FLAGS_URL, Flags, appConfigExtensionLayer } from './flags.js';
import { acknowledgeSeamworkFindings, type NagAcknowledgement } from './nag.js';
import { SeamworkFunction } from './seamwork-function.js';
import { SeamworkQueue } from './seamwork-queue.js';
import { StageFunction } from './stage-function.js';

/** How a stage uses a table. Read = look up; write = put/update/delete. */
export type TableAccess = 'read' | 'write' | 'readWrite';

/**
 * The access each stage needs on each of its topology tables. Topology says which tables a
 * stage touches; this says how, so no role gets write where it only reads. A stage/table pair
 * not listed here gets `readWrite` (and the CDK test lists every pair, so that stays visible).
 */
export const TABLE_ACCESS: Partial<Record<StageName, Partial<Record<TableName, TableAccess>>>> = {
  // The dedupe claim is a conditional put; on a duplicate it reads the first claim's decision id,
  // and it deletes its claim when the enqueue fails.
  ingest: { dedupe: 'readWrite', vault: 'write' }, // vault: the key of the sealed raw body
  validate: { vault: 'write' },
  infer: { ledger: 'readWrite' },
  verify: { ledger: 'readWrite' }, // the circuit breaker's quality counts only: see TABLE_KEY_PREFIX
  act: { idempotency: 'readWrite', vault: 'read' },
};

/** Items a stage may touch in a table it shares, by partition-key prefix (IAM dynamodb:LeadingKeys). */
export const TABLE_KEY_PREFIX: Partial<Record<StageName, Partial<Record<TableName, string[]>>>> = {
  // The stage ledger (exactly once per decision and stage): each stage its own items, by name, so
  // no stage can plant another's memo or commit; act also keeps its actions' progress.
  ingest: { idempotency: ['seamwork/v1/stage#ingest#'] },
  validate: { idempotency: ['seamwork/v1/stage#validate#'] },
  infer: { idempotency: ['seamwork/v1/stage#infer#'] },
  verify: { ledger: ['breaker#'], idempotency: ['seamwork/v1/stage#verify#'] },
  act: { idempotency: ['seamwork/v1/stage#act#', 'seamwork/v1/action#'] },
};

const TABLE_ACTIONS: Record<TableAccess, string[]> = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'],
  write: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:DescribeTable'],
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:DescribeTable',
  ],
};


/** Props of {@link SeamworkStack}. */
export interface SeamworkStackProps extends StackProps {
  /**
   * Days each audit record is locked (Object Lock COMPLIANCE): it cannot be deleted sooner.
   * @default 365
   */
  readonly auditRetentionDays?: number;
  /**
   * Days oversized payloads (passed by reference between stages) are kept.
   * @default 14
   */
  readonly payloadExpirationDays?: number;
  /**
   * Steady-state webhook requests per second across all routes.
   * @default 50
   */
  readonly webhookRateLimit?: number;
  /**
   * Webhook burst capacity.
   * @default 100
   */
  readonly webhookBurstLimit?: number;
  /**
   * Base URL of the Zendesk connector's target (e.g. `https://acme.zendesk.com`), set on the
   * stages that call connectors.
   * @default - unset; the Zendesk connector reports itself unconfigured
   */
  readonly zendeskBaseUrl?: string;
  /**
   * Base URL of the Slack connector's target, set on the stages that call connectors.
   * @default - unset; the Slack connector reports itself unconfigured
   */
  readonly slackBaseUrl?: string;
  /**
   * GitHub REST API base for the GitHub connector (`https://api.github.com`, or
   * `https://<host>/api/v3` for GitHub Enterprise Server), set on the stages that call connectors.
   * @default - unset; the GitHub connector reports itself unconfigured
   */
  readonly githubApiUrl?: string;
  /**
   * The Shopify shop's admin origin (`https://<shop>.myshopify.com`) for the Shopify connector,
   * set on the stages that call connectors.
   * @default - unset; the Shopify connector reports itself unconfigured
   */
  readonly shopifyShopUrl?: string;
  /**
   * Per-tenant daily model spend cap in USD, set on the stages that call the model.
   * @default - the runtime's default
   */
  readonly tenantDailyCapUsd?: number;
  /**
   * Per-tenant monthly, per-integration daily and global daily model spend caps in USD, set on
   * the stages that call the model.
   * @default - the runtime's defaults (lambdas/core/caps.ts DEFAULT_CAPS)
   */
  readonly tenantMonthlyCapUsd?: number;
  /** @default - the runtime's default */
  readonly integrationDailyCapUsd?: number;
  /** @default - the runtime's default */
  readonly globalDailyCapUsd?: number;
  /**
   * Retention of function and access logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Seamwork on AWS, built from `lib/topology.ts`: webhook API → ingest → one queue, DLQ and
 * function per stage → review queue; DynamoDB tables; the write-once audit bucket; secrets;
 * AppConfig flags with automatic rollback; alarms and a dashboard. Environment-agnostic.
 */
export class SeamworkStack extends Stack {
  /** The webhook API. */
  public readonly api: apigwv2.HttpApi;
  /** Its `$default` stage (throttled, access-logged). */
  public readonly apiStage: apigwv2.HttpStage;
  /** The API's access log group. */
  public readonly accessLogs: logs.LogGroup;
  /** The ingest function. */
  public readonly ingest: SeamworkFunction;
  /** The scheduled sweeper that releases expired cost reservations. */
  public readonly sweeper: SeamworkFunction;
  /** One construct per queue stage. */
  public readonly stages: Record<(typeof QUEUE_STAGES)[number], StageFunction>;
  /** Every topology queue with its DLQ, by queue name (the stage queues and the review queue). */
  public readonly queues: Record<QueueName, { queue: sqs.Queue; dlq: sqs.Queue }>;
  /** Every topology table, by logical name. */
  public readonly tables: Record<TableName, dynamodb.Table>;
  /** The write-once audit log. */
  public readonly audit: AuditBucket;
  /** One audit MAC key per writer (each stage, the operator, the checkpointer). */
  public readonly auditKeys: AuditKeys;
  /** The scheduled audit checkpointer. */
  public readonly checkpointer: SeamworkFunction;
  /** Oversized payloads, by reference. */
  public readonly payloadBucket: s3.Bucket;
  /** Webhook signing secrets: read by ingest only. */
  public readonly signingSecret: secretsmanager.Secret;
  /** Connector credentials (Zendesk, Slack): read by act only, so no stage can both verify and forge. */
  public readonly connectorSecret: secretsmanager.Secret;
  /** The model provider's API key. */
  public readonly modelSecret: secretsmanager.Secret;
  /** AppConfig flags. */
  public readonly flags: Flags;
  /** Alarms and dashboard. */
  public readonly alarms: Alarms;
  /** The cdk-nag findings this stack accepts, each with its reason. */
  public readonly nagAcknowledgements: NagAcknowledgement[];

  constructor(scope: Construct, id: string, props: SeamworkStackProps = {}) {
    super(scope, id, props);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    // ── Storage ───────────────────────────────────────────────────────────────────────────
    this.tables = {} as Record<TableName, dynamodb.Table>;
    for (const name of Object.keys(TABLES) as TableName[]) {
      this.tables[name] = new dynamodb.Table(this, `Table-${name}`, {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        ...(TABLES[name].sortKey ? { sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING } } : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        timeToLiveAttribute: 'expiresAt',
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }

    this.audit = new AuditBucket(this, 'Audit', { retentionDays: props.auditRetentionDays });
    this.auditKeys = new AuditKeys(this, 'AuditKeys', { prefix: `seamwork/${this.stackName}/audit-key/` });
    this.payloadBucket = new s3.Bucket(this, 'PayloadBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [
        { expiration: Duration.days(props.payloadExpirationDays ?? 14), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      serverAccessLogsBucket: this.audit.accessLogsBucket,
      serverAccessLogsPrefix: 'payload/',
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.signingSecret = new secretsmanager.Secret(this, 'SigningSecret', {
      description: 'Seamwork: webhook signing secrets, {"webhooks":{"<secretName>":["current","previous"]}}',
    });
    this.connectorSecret = new secretsmanager.Secret(this, 'ConnectorSecret', {
      description: 'Seamwork: connector credentials, {"zendesk":{"email","apiToken"},"slack":{"botToken","defaultChannel"},"github":{"token"},"shopify":{"accessToken"}}',
    });
    this.modelSecret = new secretsmanager.Secret(this, 'ModelSecret', {
      description: 'Seamwork: the model provider API key',
    });

    // ── Queues and functions ─────────────────────────────────────────────────────────────
    const flagsLayer = appConfigExtensionLayer(this, 'AppConfigExtensionLayer');
    const bucketEnv = Object.fromEntries(
      (Object.keys(BUCKETS) as Array<keyof typeof BUCKETS>).map((b) => [
        BUCKETS[b].envKey,
        b === 'audit' ? this.audit.bucket.bucketName : this.payloadBucket.bucketName,
      ]),
    );

    this.stages = {} as Record<(typeof QUEUE_STAGES)[number], StageFunction>;
    for (const stage of QUEUE_STAGES) {
      const spec = STAGE_SPECS[stage];
      const optional: Record<string, string | number | undefined> = {
        ...(spec.callsConnectors
          ? {
            [ENV.ZENDESK_BASE_URL]: props.zendeskBaseUrl, [ENV.SLACK_BASE_URL]: props.slackBaseUrl,
            [ENV.GITHUB_API_URL]: props.githubApiUrl, [ENV.SHOPIFY_SHOP_URL]: props.shopifyShopUrl,
          }
          : {}),
        ...(spec.callsModel
          ? {
            [ENV.TENANT_DAILY_CAP_USD]: props.tenantDailyCapUsd, [ENV.TENANT_MONTHLY_CAP_USD]: props.tenantMonthlyCapUsd,
            [ENV.INTEGRATION_DAILY_CAP_USD]: props.integrationDailyCapUsd, [ENV.GLOBAL_DAILY_CAP_USD]: props.globalDailyCapUsd,
          }
          : {}),
      };
      this.stages[stage] = new StageFunction(this, `Stage-${stage}`, {
        spec,
        logRetention,
        layers: spec.readsFlags ? [flagsLayer] : undefined,
        environment: {
          ...bucketEnv,
          ...(spec.readsFlags ? { [ENV.FLAGS_URL]: FLAGS_URL } : {}),
          ...Object.fromEntries(
            Object.entries(optional).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])),
          ),
        },
      });
    }

    // The parking queues: review (decisions a person must look at) and quarantine (events held by a drift policy).
    const parking = Object.fromEntries(
      PARKING_QUEUES.map((name) => [name, new SeamworkQueue(this, name === REVIEW_QUEUE ? 'Review' : 'Quarantine', {
        visibilityTimeoutSeconds: REVIEW_SPEC.visibilityTimeoutSeconds,
        maxReceiveCount: REVIEW_SPEC.maxReceiveCount,
        retention: Duration.days(REVIEW_SPEC.retentionDays),
      })]),
    ) as Record<ParkingQueue, SeamworkQueue>;
    this.queues = {} as Record<QueueName, { queue: sqs.Queue; dlq: sqs.Queue }>;
    for (const name of QUEUES) {
      const q = isParkingQueue(name) ? parking[name] : this.stages[name];
      this.queues[name] = { queue: q.queue, dlq: q.dlq };
    }

    this.ingest = new SeamworkFunction(this, 'Ingest', {
      stage: 'ingest',
      entry: INGEST.entry,
      timeoutSeconds: INGEST.timeoutSeconds,
      memoryMb: INGEST.memoryMb,
      logRetention,
      environment: {
        ...bucketEnv,
        [ENV.MAX_BODY_BYTES]: String(INGEST.maxBodyBytes),
      },
    });

    // The sweeper: every few minutes, gives back cost reservations of invocations that died
    // before reconciling. It reaches the ledger table and nothing else.
    this.sweeper = new SeamworkFunction(this, 'Sweeper', {
      stage: 'sweep',
      entry: SWEEPER.entry,
      timeoutSeconds: SWEEPER.timeoutSeconds,
      memoryMb: SWEEPER.memoryMb,
      logRetention,
      environment: { ...bucketEnv, [TABLES.ledger.envKey]: this.tables.ledger.tableName },
    });
    this.sweeper.role.addToPolicy(new iam.PolicyStatement({
      sid: 'ReleaseExpiredReservations',
      actions: ['dynamodb:Scan', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem'],
      resources: [this.tables.ledger.tableArn],
    }));
    new events.Rule(this, 'SweeperSchedule', {
      description: 'Seamwork: release cost reservations of crashed invocations',
      schedule: events.Schedule.rate(Duration.minutes(SWEEPER.scheduleMinutes)),
      targets: [new eventsTargets.LambdaFunction(this.sweeper.fn, { retryAttempts: 0 })],
    });

    // The checkpointer: every few minutes, a signed checkpoint chained to the last one, over the
    // decisions that changed. It reads the log, appends under checkpoints/, and reads its own key.
    this.checkpointer = new SeamworkFunction(this, 'Checkpointer', {
      stage: 'checkpoint',
      entry: CHECKPOINTER.entry,
      timeoutSeconds: CHECKPOINTER.timeoutSeconds,
      memoryMb: CHECKPOINTER.memoryMb,
      logRetention,
      environment: { ...bucketEnv, [ENV.AUDIT_KEY_SECRET]: this.auditKeys.secrets.checkpointer.secretArn },
    });
    this.audit.grantCheckpointer(this.checkpointer.role);
    this.auditKeys.grantWriter('checkpointer', this.checkpointer.role);
    new events.Rule(this, 'CheckpointerSchedule', {
      description: 'Seamwork: sign and chain an audit checkpoint',
      schedule: events.Schedule.rate(Duration.minutes(CHECKPOINTER.scheduleMinutes)),
      targets: [new eventsTargets.LambdaFunction(this.checkpointer.fn, { retryAttempts: 2 })],
    });

    // ── Wiring: what each function may reach, straight from the topology ────────────────
    const wiring: Array<{
      stage: StageName;
      fn: lambda.Function;
      role: iam.Role;
      sendsTo: readonly QueueName[];
      tables: readonly TableName[];
      secret?: secretsmanager.Secret;
    }> = [
      {
        stage: 'ingest',
        fn: this.ingest.fn,
        role: this.ingest.role,
        sendsTo: INGEST.sendsTo,
        tables: INGEST.tables,
        secret: this.signingSecret,
      },
      ...QUEUE_STAGES.map((stage) => {
        const spec = STAGE_SPECS[stage];
        if (spec.callsModel && spec.callsConnectors) {
          throw new Error(`${stage}: one ${ENV.SECRETS_ARN} cannot name both the model and the connector secret`);
        }
        const secret = spec.callsModel ? this.modelSecret : spec.callsConnectors ? this.connectorSecret : undefined;
        return { stage, fn: this.stages[stage].fn, role: this.stages[stage].role, sendsTo: spec.sendsTo, tables: spec.tables, secret };
      }),
    ];

    for (const w of wiring) {
      if (w.sendsTo.length > 0) {
        w.role.addToPolicy(
          new iam.PolicyStatement({
            sid: 'SendToNextQueues',
            actions: ['sqs:SendMessage'],
            resources: w.sendsTo.map((q) => this.queues[q].queue.queueArn),
          }),
        );
      }
      for (const q of w.sendsTo) w.fn.addEnvironment(ENV.queueUrl(q), this.queues[q].queue.queueUrl);

      for (const t of w.tables) {
        const access = TABLE_ACCESS[w.stage]?.[t] ?? 'readWrite';
        const prefix = TABLE_KEY_PREFIX[w.stage]?.[t];
        w.role.addToPolicy(
          new iam.PolicyStatement({
            sid: `Table${t[0].toUpperCase()}${t.slice(1)}${access[0].toUpperCase()}${access.slice(1)}`,
            actions: TABLE_ACTIONS[access],
            resources: [this.tables[t].tableArn],
            ...(prefix ? { conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefix.map((p) => `${p}*`) } } } : {}),
          }),
        );
        w.fn.addEnvironment(TABLES[t].envKey, this.tables[t].tableName);
      }

      this.audit.grantAppend(w.role);
      // Its own audit MAC key, and read-back of its own records (an identical re-append succeeds).
      this.auditKeys.grantWriter(w.stage, w.role);
      w.fn.addEnvironment(ENV.AUDIT_KEY_SECRET, this.auditKeys.secrets[w.stage].secretArn);
      this.audit.grantReadOwnRecords(w.role, w.stage);
      w.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'PayloadsByReference',
          actions: ['s3:GetObject', 's3:PutObject'],
          resources: [this.payloadBucket.arnForObjects('*')],
        }),
      );

      if (w.secret) {
        w.role.addToPolicy(
          new iam.PolicyStatement({
            sid: 'ReadSecret',
            actions: ['secretsmanager:GetSecretValue'],
            resources: [w.secret.secretArn],
          }),
        );
        w.fn.addEnvironment(ENV.SECRETS_ARN, w.secret.secretArn);
      }
    }

    // ── Webhook API ──────────────────────────────────────────────────────────────────────
    this.accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api = new apigwv2.HttpApi(this, 'WebhookApi', {
      description: 'Seamwork vendor webhooks',
      createDefaultStage: false,
    });
    this.apiStage = new apigwv2.HttpStage(this, 'WebhookApiStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: {
        rateLimit: props.webhookRateLimit ?? 50,
        burstLimit: props.webhookBurstLimit ?? 100,
      },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            responseLength: '$context.responseLength',
            integrationStatus: '$context.integration.status',
            integrationLatency: '$context.integration.latency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    this.api.addRoutes({
      path: INGEST.route,
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('IngestIntegration', this.ingest.fn),
    });

    // ── Signals and flags ────────────────────────────────────────────────────────────────
    this.alarms = new Alarms(this, 'Alarms', {
      queues: this.queues,
      functions: Object.fromEntries(wiring.map((w) => [w.stage, w.fn])),
      api: this.api,
      reviewAgeHours: REVIEW_SPEC.oldestAgeAlarmHours,
      globalDailyCapUsd: props.globalDailyCapUsd,
    });
    this.flags = new Flags(this, 'Flags', { rollbackAlarm: this.alarms.rollbackAlarm });
    for (const stage of QUEUE_STAGES) {
      if (STAGE_SPECS[stage].readsFlags) this.flags.grantRead(this.stages[stage].role, stage);
    }

    // ── Outputs ──────────────────────────────────────────────────────────────────────────
    new CfnOutput(this, 'WebhookUrl', {
      description: 'POST vendor webhooks here; replace {integration} with the integration name',
      value: `${this.apiStage.url}${INGEST.route.replace(/^\//, '')}`,
    });
    for (const name of QUEUES) {
      new CfnOutput(this, `QueueUrl-${name}`, { value: this.queues[name].queue.queueUrl });
      new CfnOutput(this, `DlqUrl-${name}`, { value: this.queues[name].dlq.queueUrl });
    }
    new CfnOutput(this, 'AuditBucketName', { value: this.audit.bucket.bucketName });
    new CfnOutput(this, 'AuditKeyPrefix', { description: 'seamwork audit verify --key-prefix (one secret per writer)', value: `seamwork/${this.stackName}/audit-key/` });
    new CfnOutput(this, 'CheckpointerFunctionName', { value: this.checkpointer.fn.functionName });
    new CfnOutput(this, 'SigningSecretArn', { description: 'Put webhook signing secrets here (JSON; see the README)', value: this.signingSecret.secretArn });
    new CfnOutput(this, 'ConnectorSecretArn', { description: 'Put connector credentials here (JSON; see the README)', value: this.connectorSecret.secretArn });
    new CfnOutput(this, 'ModelSecretArn', { description: 'Put {"anthropicApiKey":"..."} here', value: this.modelSecret.secretArn });
    new CfnOutput(this, 'KillSwitchStrategyId', {
      description: 'AppConfig deployment strategy for turning an integration off: all at once, never rolled back',
      value: this.flags.killSwitchStrategy.deploymentStrategyId,
    });
    new CfnOutput(this, 'FlagsProfile', {
      description: 'AppConfig application/environment/profile of the integration flags',
      value: `${FLAGS.application}/${FLAGS.environment}/${FLAGS.profile}`,
    });

    this.nagAcknowledgements = acknowledgeSeamworkFindings(this);
  }
}
