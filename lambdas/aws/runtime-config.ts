import { z } from 'zod';
import { ENV, PARKING_QUEUES, QUEUE_STAGES } from '../core/config-keys.js';
import { DEFAULT_CAPS, type CapsConfig } from '../core/caps.js';
import { ConfigurationError } from '../core/errors.js';
import { parseChaos, type ChaosConfig } from '../core/faults.js';

const optionalUrl = z.string().url().optional();

/** Every variable a handler may read, parsed once at cold start. */
export interface RuntimeConfig {
  queueUrls: Record<string, string>;
  tables: { dedupe?: string; ledger?: string; idempotency?: string; vault?: string; drift?: string };
  auditBucket: string;
  /** This function's audit MAC key, in AWS (one secret per writer). */
  auditKeySecret?: string;
  /** Locally: the folder of every writer's key file. */
  auditKeysDir?: string;
  payloadBucket?: string;
  flagsUrl?: string;
  secretsArn?: string;
  secretsFile?: string;
  zendeskBaseUrl?: string;
  slackBaseUrl?: string;
  githubApiUrl?: string;
  shopifyShopUrl?: string;
  /** Connector call timeout in ms. @default CONNECTOR_TIMEOUT_MS */
  connectorTimeoutMs?: number;
  maxBodyBytes: number;
  toleranceSeconds: number;
  defaultTenant: string;
  tenantDailyCapUsd: number;
  /** Every spend cap (tenant day and month, integration day, global day). */
  caps: CapsConfig;
  /** Deliveries before redrive, per queue stage (default 3). */
  maxReceiveCount: Record<string, number>;
  metricsFile?: string;
  /** Fault injection (chaos tests only). */
  chaos?: ChaosConfig;
}

let cached: RuntimeConfig | undefined;

/** Parses process.env into a typed config; fails fast naming the variable that is wrong. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  if (cached && env === process.env) return cached;
  const queueUrls: Record<string, string> = {};
  for (const q of [...QUEUE_STAGES, ...PARKING_QUEUES]) {
    for (const [name, key] of [[q, ENV.queueUrl(q)], [`${q}-dlq`, ENV.dlqUrl(q)]] as const) {
      if (env[key]) queueUrls[name] = env[key]!;
    }
  }
  const schema = z.object({
    [ENV.AUDIT_BUCKET]: z.string().min(1),
    [ENV.PAYLOAD_BUCKET]: z.string().min(1).optional(),
    [ENV.AUDIT_KEY_SECRET]: z.string().min(1).optional(),
    [ENV.AUDIT_KEYS_DIR]: z.string().min(1).optional(),
    [ENV.TABLE_DEDUPE]: z.string().min(1).optional(),
    [ENV.TABLE_LEDGER]: z.string().min(1).optional(),
    [ENV.TABLE_IDEMPOTENCY]: z.string().min(1).optional(),
    [ENV.TABLE_VAULT]: z.string().min(1).optional(),
    [ENV.TABLE_DRIFT]: z.string().min(1).optional(),
    [ENV.FLAGS_URL]: optionalUrl,
    [ENV.SECRETS_ARN]: z.string().min(1).optional(),
    [ENV.SECRETS_FILE]: z.string().min(1).optional(),
    [ENV.ZENDESK_BASE_URL]: optionalUrl,
    [ENV.SLACK_BASE_URL]: optionalUrl,
    [ENV.GITHUB_API_URL]: optionalUrl,
    [ENV.SHOPIFY_SHOP_URL]: optionalUrl,
    [ENV.CONNECTOR_TIMEOUT_MS]: z.coerce.number().int().positive().optional(),
    [ENV.MAX_BODY_BYTES]: z.coerce.number().int().positive().default(256 * 1024),
    [ENV.SIGNATURE_TOLERANCE_SECONDS]: z.coerce.number().int().positive().default(300),
    [ENV.DEFAULT_TENANT]: z.string().min(1).default('default'),
    [ENV.TENANT_DAILY_CAP_USD]: z.coerce.number().positive().default(DEFAULT_CAPS.tenantDailyUsd),
    [ENV.TENANT_MONTHLY_CAP_USD]: z.coerce.number().positive().default(DEFAULT_CAPS.tenantMonthlyUsd),
    [ENV.INTEGRATION_DAILY_CAP_USD]: z.coerce.number().positive().default(DEFAULT_CAPS.integrationDailyUsd),
    [ENV.GLOBAL_DAILY_CAP_USD]: z.coerce.number().positive().default(DEFAULT_CAPS.globalDailyUsd),
    [ENV.METRICS_FILE]: z.string().min(1).optional(),
  });
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ');
    throw new ConfigurationError(`Invalid Seamwork environment: ${problems}`);
  }
  const e = parsed.data as Record<string, any>;
  const config: RuntimeConfig = {
    queueUrls,
    tables: { dedupe: e[ENV.TABLE_DEDUPE], ledger: e[ENV.TABLE_LEDGER], idempotency: e[ENV.TABLE_IDEMPOTENCY], vault: e[ENV.TABLE_VAULT], drift: e[ENV.TABLE_DRIFT] },
    auditBucket: e[ENV.AUDIT_BUCKET],
    auditKeySecret: e[ENV.AUDIT_KEY_SECRET],
    auditKeysDir: e[ENV.AUDIT_KEYS_DIR],
    payloadBucket: e[ENV.PAYLOAD_BUCKET],
    flagsUrl: e[ENV.FLAGS_URL],
    secretsArn: e[ENV.SECRETS_ARN],
    secretsFile: e[ENV.SECRETS_FILE],
    zendeskBaseUrl: e[ENV.ZENDESK_BASE_URL],
    slackBaseUrl: e[ENV.SLACK_BASE_URL],
    githubApiUrl: e[ENV.GITHUB_API_URL],
    shopifyShopUrl: e[ENV.SHOPIFY_SHOP_URL],
    connectorTimeoutMs: e[ENV.CONNECTOR_TIMEOUT_MS],
    maxBodyBytes: e[ENV.MAX_BODY_BYTES],
    toleranceSeconds: e[ENV.SIGNATURE_TOLERANCE_SECONDS],
    defaultTenant: e[ENV.DEFAULT_TENANT],
    tenantDailyCapUsd: e[ENV.TENANT_DAILY_CAP_USD],
    caps: {
      tenantDailyUsd: e[ENV.TENANT_DAILY_CAP_USD], tenantMonthlyUsd: e[ENV.TENANT_MONTHLY_CAP_USD],
      integrationDailyUsd: e[ENV.INTEGRATION_DAILY_CAP_USD], globalDailyUsd: e[ENV.GLOBAL_DAILY_CAP_USD],
    },
    maxReceiveCount: Object.fromEntries(
      QUEUE_STAGES.map((s) => {
        const raw = env[ENV.maxReceiveCount(s)];
        const n = raw === undefined ? 3 : Number(raw);
        if (!Number.isInteger(n) || n < 1) throw new ConfigurationError(`${ENV.maxReceiveCount(s)} must be a positive integer, got "${raw}".`);
        return [s, n];
      }),
    ),
    metricsFile: e[ENV.METRICS_FILE],
    ...(env[ENV.CHAOS] ? { chaos: parseChaos(env[ENV.CHAOS]!) } : {}),
  };
  if (env === process.env) cached = config;
  return config;
}

/** Names a required setting that this handler cannot run without. */
export function required<T>(value: T | undefined, variable: string): T {
  if (value === undefined || value === '') throw new ConfigurationError(`${variable} is not set; this handler needs it.`);
  return value;
}

/** Forgets the parsed config (tests and the local stack change the environment). */
export function resetConfig(): void {
  cached = undefined;
}
