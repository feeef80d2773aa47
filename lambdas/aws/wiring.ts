import type { Context } from 'aws-lambda';
import { cachedTenantCaps } from '../core/caps.js';
import { ENV } from '../core/config-keys.js';
import { ConfigurationError, SeamworkError } from '../core/errors.js';
import type { IntegrationDefinition } from '../core/integration.js';
import { getIntegration } from '../integrations/index.js';
import { AnthropicModel } from '../model/anthropic.js';
import { AppConfigFlagSource } from './appconfig-flags.js';
import { DynamoBreakerStore, DynamoCostLedger, DynamoTenantCapsStore, DynamoTokenPacer, DynamoDedupeStore, DynamoDriftStore, DynamoTokenVault } from './dynamo-stores.js';
import { dynamoActionExecutor } from './idempotent-executor.js';
import { DynamoStageLedger } from './dynamo-ledgers.js';
import { seededFaults } from '../core/faults.js';
import type { FaultInjector } from '../core/stage-runner.js';
import { S3AuditStore } from './s3-audit-store.js';
import { readKeyFile, readKeySecret } from './audit-keys.js';
import type { AuditRecord } from '../core/audit-record.js';
import { OPERATOR_WRITER, writerMayWrite } from '../core/audit/record-mac.js';
import type { AuditStore } from '../core/ports.js';
import { loadConfig, required, type RuntimeConfig } from './runtime-config.js';
import { loadSecrets, webhookSecrets } from './secrets.js';
import { SqsQueueSender } from './sqs-queues.js';

/**
 * Builds the AWS implementations of the core ports from the runtime config, once per process
 * (cold start). Each getter names the variable it needs when that variable is missing.
 */
export class Wiring {
  readonly config: RuntimeConfig;
  private cache = new Map<string, unknown>();

  constructor(config: RuntimeConfig = loadConfig()) {
    this.config = config;
  }

  private once<T>(name: string, make: () => T): T {
    if (!this.cache.has(name)) this.cache.set(name, make());
    return this.cache.get(name) as T;
  }

  /**
   * The audit store of one writer — a stage, or `operator` for the CLI's own records — sealing
   * each record with that writer's key: in AWS the function's own secret, locally its key file.
   * Without either, records are written without a MAC (and `audit verify` says so).
   */
  auditFor(writer: string): S3AuditStore {
    return this.once(`audit:${writer}`, () => {
      const { auditKeySecret: secret, auditKeysDir: dir } = this.config;
      const key = dir ? async () => (await readKeyFile(dir, writer, { create: true }))! : secret ? () => readKeySecret(secret) : undefined;
      return new S3AuditStore(this.config.auditBucket, key ? { writer: { stage: writer, key } } : {});
    });
  }

  /**
   * An audit store for code that writes as several stages in one process (backfill runs validate
   * and infer in process): each record is sealed by the writer its stage names.
   */
  get audit(): AuditStore {
    return this.once('audit', () => ({
      append: (record: AuditRecord) => this.auditFor(writerOf(record)).append(record),
      listDecision: (integration: string, decisionId: string) => this.auditFor('operator').listDecision(integration, decisionId),
    }));
  }
  get queues() {
    return this.once('queues', () => new SqsQueueSender(this.config.queueUrls, this.config.payloadBucket));
  }
  get dedupe() {
    return this.once('dedupe', () => new DynamoDedupeStore(required(this.config.tables.dedupe, ENV.TABLE_DEDUPE)));
  }
  get ledger() {
    return this.once('ledger', () => new DynamoCostLedger(required(this.config.tables.ledger, ENV.TABLE_LEDGER)));
  }
  get vault() {
    return this.once('vault', () => new DynamoTokenVault(required(this.config.tables.vault, ENV.TABLE_VAULT)));
  }
  get tenantCaps() {
    return this.once('tenantCaps', () => cachedTenantCaps(new DynamoTenantCapsStore(required(this.config.tables.ledger, ENV.TABLE_LEDGER))));
  }
  get pacer() {
    return this.once('pacer', () => new DynamoTokenPacer(required(this.config.tables.ledger, ENV.TABLE_LEDGER)));
  }
  get breaker() {
    return this.once('breaker', () => new DynamoBreakerStore(required(this.config.tables.ledger, ENV.TABLE_LEDGER)));
  }
  get drift() {
    return this.once('drift', () => new DynamoDriftStore(required(this.config.tables.drift, ENV.TABLE_DRIFT)));
  }
  get flags() {
    return this.once('flags', () => new AppConfigFlagSource(required(this.config.flagsUrl, ENV.FLAGS_URL)));
  }
  get model() {
    // The key comes from the environment locally and from the model secret in AWS; never logged.
    return this.once('model', () => new AnthropicModel({
      apiKey: process.env.ANTHROPIC_API_KEY ?? (async () => {
        const key = (await loadSecrets({ arn: this.config.secretsArn, file: this.config.secretsFile })).anthropicApiKey;
        if (!key) throw new ConfigurationError('The secrets document has no anthropicApiKey, and ANTHROPIC_API_KEY is not set.');
        return key;
      }),
    }));
  }
  private context?: Context;

  /** Called at the start of each invocation with Lambda's context. */
  registerContext(context: Context | undefined): void {
    this.context = context;
  }

  /** What is left of this invocation, when Lambda said (leases never outlive it). */
  remainingMs = (): number | undefined => this.context?.getRemainingTimeInMillis();

  /** Exactly-once per (decision, stage): on the idempotency table. */
  get stageLedger() {
    return this.once('stageLedger', () => new DynamoStageLedger(required(this.config.tables.idempotency, ENV.TABLE_IDEMPOTENCY), { payloadBucket: this.config.payloadBucket }));
  }

  /** Fault injection, only where SEAMWORK_CHAOS is set (chaos tests). */
  get faults(): FaultInjector | undefined {
    return this.once('faults', () => (this.config.chaos ? seededFaults(this.config.chaos) : undefined));
  }

  get executor() {
    return this.once('executor', () =>
      dynamoActionExecutor(required(this.config.tables.idempotency, ENV.TABLE_IDEMPOTENCY), async () => {
        const secrets = await loadSecrets({ arn: this.config.secretsArn, file: this.config.secretsFile });
        return {
          zendeskBaseUrl: this.config.zendeskBaseUrl, slackBaseUrl: this.config.slackBaseUrl,
          githubApiUrl: this.config.githubApiUrl, shopifyShopUrl: this.config.shopifyShopUrl,
          ...(this.config.connectorTimeoutMs ? { connectorTimeoutMs: this.config.connectorTimeoutMs } : {}),
          zendesk: secrets.zendesk, slack: secrets.slack, github: secrets.github, shopify: secrets.shopify,
        };
      }, { remainingMs: this.remainingMs, faults: this.faults }),
    );
  }

  /** Signing secrets of one webhook source. */
  secrets = (name: string) => webhookSecrets({ arn: this.config.secretsArn, file: this.config.secretsFile }, name);

  /** Integration lookup that fails loudly (not retryable) for an unknown name. */
  integration = (name: string): IntegrationDefinition => {
    const def = getIntegration(name);
    if (!def) throw new SeamworkError('UNKNOWN_INTEGRATION', `No integration named "${name}" is deployed.`, false);
    return def;
  };
}

/** Who may seal a record: its own stage, or the operator for the records only people write. */
function writerOf(record: AuditRecord): string {
  return writerMayWrite(record.stage, record) ? record.stage : OPERATOR_WRITER;
}
