/**
 * Environment variable names shared by the CDK stack, the local stack and the handlers.
 * One module so a rename cannot leave a stage reading a variable nobody sets.
 */
export const ENV = {
  /** Queue URL a stage reads from / writes to, by stage name: SEAMWORK_QUEUE_URL_<STAGE>. */
  queueUrl: (stage: string) => `SEAMWORK_QUEUE_URL_${stage.toUpperCase()}`,
  /** DLQ URL of a stage: SEAMWORK_DLQ_URL_<STAGE>. */
  dlqUrl: (stage: string) => `SEAMWORK_DLQ_URL_${stage.toUpperCase()}`,
  TABLE_DEDUPE: 'SEAMWORK_TABLE_DEDUPE',
  TABLE_LEDGER: 'SEAMWORK_TABLE_LEDGER',
  TABLE_IDEMPOTENCY: 'SEAMWORK_TABLE_IDEMPOTENCY',
  TABLE_VAULT: 'SEAMWORK_TABLE_VAULT',
  TABLE_DRIFT: 'SEAMWORK_TABLE_DRIFT',
  AUDIT_BUCKET: 'SEAMWORK_AUDIT_BUCKET',
  /** The Secrets Manager secret (ARN or name) holding this function's audit MAC key (docs/audit.md). */
  AUDIT_KEY_SECRET: 'SEAMWORK_AUDIT_KEY_SECRET',
  /** For the CLI against a deployed stack: the audit key secrets' name prefix (the stack's `AuditKeyPrefix` output). */
  AUDIT_KEY_PREFIX: 'SEAMWORK_AUDIT_KEY_PREFIX',
  /** Locally: the folder of the audit writers' key files (`<writer>.key`, made on first use). */
  AUDIT_KEYS_DIR: 'SEAMWORK_AUDIT_KEYS_DIR',
  /**
   * Fault injection for chaos tests only (never set by the CDK stack): JSON
   * `{ "seed": n, "crash": { "<crash point>": rate } }` — the handler dies at that point for that
   * share of decisions, once each (lambdas/core/faults.ts).
   */
  CHAOS: 'SEAMWORK_CHAOS',
  PAYLOAD_BUCKET: 'SEAMWORK_PAYLOAD_BUCKET',
  /** Full URL of the AppConfig agent's configuration endpoint for the flags profile. */
  FLAGS_URL: 'SEAMWORK_FLAGS_URL',
  /** Where webhook signing secrets and connector credentials come from: a Secrets Manager ARN or a local file path. */
  SECRETS_ARN: 'SEAMWORK_SECRETS_ARN',
  SECRETS_FILE: 'SEAMWORK_SECRETS_FILE',
  /** Base URLs of the connectors' targets (Zendesk subdomain URL, Slack webhook base). */
  ZENDESK_BASE_URL: 'SEAMWORK_ZENDESK_BASE_URL',
  SLACK_BASE_URL: 'SEAMWORK_SLACK_BASE_URL',
  /** GitHub's REST API base: `https://api.github.com`, or `https://<host>/api/v3` for GitHub Enterprise Server. */
  GITHUB_API_URL: 'SEAMWORK_GITHUB_API_URL',
  /** The Shopify shop's admin origin, `https://<shop>.myshopify.com`. */
  SHOPIFY_SHOP_URL: 'SEAMWORK_SHOPIFY_SHOP_URL',
  /** How long a connector call may take before it counts as unanswered (its outcome then reconciled). @default CONNECTOR_TIMEOUT_MS */
  CONNECTOR_TIMEOUT_MS: 'SEAMWORK_CONNECTOR_TIMEOUT_MS',
  /** Max accepted webhook body in bytes. */
  MAX_BODY_BYTES: 'SEAMWORK_MAX_BODY_BYTES',
  /** Replay window for signed timestamps, in seconds. */
  SIGNATURE_TOLERANCE_SECONDS: 'SEAMWORK_SIGNATURE_TOLERANCE_SECONDS',
  /** Tenant id assigned to events that do not carry one. */
  DEFAULT_TENANT: 'SEAMWORK_DEFAULT_TENANT',
  /** Per-tenant daily cap in USD (micro-dollars are used internally). */
  TENANT_DAILY_CAP_USD: 'SEAMWORK_TENANT_DAILY_CAP_USD',
  /** Per-tenant monthly, per-integration daily and global daily caps in USD. */
  TENANT_MONTHLY_CAP_USD: 'SEAMWORK_TENANT_MONTHLY_CAP_USD',
  INTEGRATION_DAILY_CAP_USD: 'SEAMWORK_INTEGRATION_DAILY_CAP_USD',
  GLOBAL_DAILY_CAP_USD: 'SEAMWORK_GLOBAL_DAILY_CAP_USD',
  /** Deliveries before SQS redrives to the DLQ; on the last one a stage parks the message itself, with a reason. */
  maxReceiveCount: (stage: string) => `SEAMWORK_MAX_RECEIVE_COUNT_${stage.toUpperCase()}`,
  /** Local only: append EMF metric documents to this file instead of stdout. */
  METRICS_FILE: 'SEAMWORK_METRICS_FILE',
  /** Anthropic SDK settings (standard names, read by the SDK too). */
  ANTHROPIC_BASE_URL: 'ANTHROPIC_BASE_URL',
  ANTHROPIC_API_KEY: 'ANTHROPIC_API_KEY',
  /** Powertools. */
  POWERTOOLS_SERVICE_NAME: 'POWERTOOLS_SERVICE_NAME',
  POWERTOOLS_METRICS_NAMESPACE: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

/** The stages that run behind queues, in pipeline order. */
export const QUEUE_STAGES = ['validate', 'infer', 'verify', 'act'] as const;
export type QueueStage = (typeof QUEUE_STAGES)[number];

/** Every stage, including the HTTP ingest stage. */
export const STAGES = ['ingest', ...QUEUE_STAGES] as const;
export type StageName = (typeof STAGES)[number];

/** Queue names: one per queue stage plus the review queue. DLQs are `<name>-dlq`. */
export const REVIEW_QUEUE = 'review' as const;

/**
 * The quarantine queue: events an integration's drift policy holds for an engineer (the contract
 * changed under us). Redriven with `seamwork dlq redrive` once the contract is updated.
 */
export const QUARANTINE_QUEUE = 'quarantine' as const;

/** Queues read by people and their tools rather than by a stage. */
export const PARKING_QUEUES = [REVIEW_QUEUE, QUARANTINE_QUEUE] as const;
export type ParkingQueue = (typeof PARKING_QUEUES)[number];
