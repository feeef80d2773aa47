import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, Context, SQSEvent } from 'aws-lambda';
import type { Checkpoint } from '../../lambdas/core/audit/checkpoint.js';
import { ENV, QUEUE_STAGES, type QueueStage } from '../../lambdas/core/config-keys.js';
import { INGEST, STAGE_SPECS, QUEUES, type QueueName } from '../topology.js';
import { encodeMessageBody } from '../../lambdas/aws/sqs-queues.js';
import { startConnectorTargets, type ConnectorTargets } from './connector-targets.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators, type Emulators } from './emulators.js';
import { startFlagsAgent, type FlagsAgent } from './flags-agent.js';
import { startHttpApi, type HttpApi } from './http-api.js';
import { startModelServer, type ModelServer } from './model-server/server.js';
import { startSqsPoller, type SqsPoller } from './sqs-poller.js';

/** Options of the local stack. */
export interface LocalStackOptions {
  /** Flags file served by the local AppConfig agent. @default config/flags.local.json */
  flagsFile?: string;
  /** Secrets document (webhook signing secrets, connector credentials). @default config/secrets.local.json */
  secretsFile?: string;
  /** Port of the webhook API. @default 0 (free port) */
  apiPort?: number;
  /** Folder for run state (metrics file, local.json). @default .seamwork */
  stateDir?: string;
  /** Override every queue's visibility timeout (fast redelivery in tests). */
  visibilityTimeoutSeconds?: number;
  /** Use the real Anthropic API instead of the local reference model (needs ANTHROPIC_API_KEY). @default false */
  realModel?: boolean;
  /** Extra environment for the handlers (caps, tolerances). */
  env?: Record<string, string>;
  /**
   * Pollers per stage queue, like concurrent Lambda instances: races between deliveries
   * (idempotency, cost reservations) happen locally as they do in AWS. @default 2
   */
  concurrency?: number;
  /**
   * Every function's timeout, overriding the topology's (chaos tests: a crashed invocation's
   * leases lapse in seconds, as they do in AWS long before SQS redelivers). @default the topology's
   */
  functionTimeoutSeconds?: number;
  /** Inject duplicate SQS deliveries at every stage (chaos tests). @default none */
  duplicateDeliveries?: { rate: number };
  /** Told when the flags file turns invalid (the last valid version keeps being served). @default console.warn */
  onFlagsProblem?: (problem: string | undefined) => void;
}

/** A running local stack: the same handlers as in AWS, on emulators. */
export interface LocalStack {
  apiUrl: string;
  webhookUrl(integration: string): string;
  emulators: Emulators;
  model?: ModelServer;
  connectors: ConnectorTargets;
  flags: FlagsAgent;
  /** Every variable the handlers see (also written to `<stateDir>/local.json` for the CLI). */
  env: Record<string, string>;
  /** Resolves when every stage queue is empty and every poller idle (or throws after the timeout). */
  drain(timeoutMs?: number): Promise<void>;
  /** Runs the reservation sweeper once (it also runs every 30 s), as the schedule does in AWS. */
  sweep(): Promise<{ released: number }>;
  /** Writes an audit checkpoint now (one is also written every 30 s when the log changed), signed with `<stateDir>/keys/checkpointer.key`. */
  checkpoint(): Promise<Checkpoint | undefined>;
  /** Poller counters per stage since start: invocations, messages left for redelivery, handler errors. */
  pollerStats(): Record<QueueStage, { invocations: number; failed: number; handlerErrors: number; crashes: number; duplicatesInjected: number; firstDeliveries: number }>;
  /** Messages waiting in a queue or its DLQ. */
  depth(queue: QueueName | `${QueueName}-dlq`): Promise<number>;
  /** Puts a message straight on a queue, as a redelivery or a duplicate would arrive. */
  enqueue(queue: QueueName, body: unknown): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the whole pipeline locally: SQS/S3/DynamoDB emulators, the reference model server,
 * the AppConfig agent over a flags file, stand-ins for Zendesk, Slack, GitHub and Shopify, the webhook API and
 * one poller per queue stage driving the very handlers that deploy to Lambda.
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const root = process.cwd();
  const stateDir = opts.stateDir ?? join(root, '.seamwork');
  mkdirSync(stateDir, { recursive: true });
  const emulators = await startEmulators({ visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds });
  const model = opts.realModel ? undefined : await startModelServer();
  const connectors = await startConnectorTargets();
  const flags = await startFlagsAgent({
    file: opts.flagsFile ?? join(root, 'config/flags.local.json'),
    onProblem: opts.onFlagsProblem ?? ((p) => console.warn(p ? `flags: ${p} — still serving the last valid version` : 'flags: the flags file is valid again')),
  });

  const env: Record<string, string> = {
    ...emulators.env,
    [ENV.FLAGS_URL]: flags.url,
    [ENV.SECRETS_FILE]: opts.secretsFile ?? join(root, 'config/secrets.local.json'),
    // Each stage seals its audit records with its own key file (one secret per stage in AWS).
    [ENV.AUDIT_KEYS_DIR]: join(stateDir, 'keys'),
    [ENV.ZENDESK_BASE_URL]: connectors.zendeskUrl,
    [ENV.SLACK_BASE_URL]: connectors.slackUrl,
    [ENV.GITHUB_API_URL]: connectors.githubUrl,
    [ENV.SHOPIFY_SHOP_URL]: connectors.shopifyUrl,
    [ENV.METRICS_FILE]: join(stateDir, 'metrics.ndjson'),
    [ENV.MAX_BODY_BYTES]: String(INGEST.maxBodyBytes),
    POWERTOOLS_METRICS_NAMESPACE: 'Seamwork',
    POWERTOOLS_SERVICE_NAME: 'seamwork',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
    ...(model ? { [ENV.ANTHROPIC_BASE_URL]: model.url, [ENV.ANTHROPIC_API_KEY]: 'local-reference-model' } : {}),
    ...Object.fromEntries(QUEUE_STAGES.map((s) => [ENV.maxReceiveCount(s), String(STAGE_SPECS[s].maxReceiveCount)])),
    ...opts.env,
  };
  // The handlers read process.env at cold start, exactly as in Lambda; set it before importing them.
  Object.assign(process.env, env);
  const { resetConfig } = await import('../../lambdas/aws/runtime-config.js');
  const { resetClients } = await import('../../lambdas/aws/clients.js');
  resetConfig();
  resetClients();

  const ingest = (await import('../../lambdas/handlers/ingest.js')).handler;
  const sweep = (await import('../../lambdas/handlers/sweep.js')).handler;
  // The schedule's stand-in; a failed sweep is retried at the next tick, as in AWS.
  const sweeper = setInterval(() => void sweep().catch((err: unknown) => console.error('[seamwork-sweep] failed:', err)), 30_000);
  sweeper.unref();
  const { writeCheckpoint } = await import('../../lambdas/core/audit/checkpoint.js');
  const { S3AuditStore } = await import('../../lambdas/aws/s3-audit-store.js');
  const { FileKeyRing } = await import('../../lambdas/aws/audit-keys.js');
  // One checkpoint at a time: on a large log one run can outlast the interval, and two would race
  // for the same sequence number (the write-once store refuses the second, as it should).
  let checkpointing: Promise<Awaited<ReturnType<typeof writeCheckpoint>>> | undefined;
  const checkpoint = async () => {
    // An explicit checkpoint waits for a running one, then covers everything written until now.
    while (checkpointing) await checkpointing.catch(() => undefined);
    checkpointing = writeCheckpoint({ archive: new S3AuditStore(env[ENV.AUDIT_BUCKET]), keys: new FileKeyRing(join(stateDir, 'keys'), { create: true }) })
      .finally(() => { checkpointing = undefined; });
    return checkpointing;
  };
  const checkpointer = setInterval(() => {
    if (!checkpointing) void checkpoint().catch((err: unknown) => console.error('[seamwork-checkpoint] failed:', err));
  }, 30_000);
  checkpointer.unref();
  const handlers: Record<QueueStage, (e: SQSEvent, c: Context) => Promise<unknown>> = {
    validate: (await import('../../lambdas/handlers/validate.js')).handler,
    infer: (await import('../../lambdas/handlers/infer.js')).handler,
    verify: (await import('../../lambdas/handlers/verify.js')).handler,
    act: (await import('../../lambdas/handlers/act.js')).handler,
  };

  const api: HttpApi = await startHttpApi({
    port: opts.apiPort ?? 0,
    routes: [{ method: 'POST', path: INGEST.route, handler: (e: APIGatewayProxyEventV2, c: Context) => ingest(e, c), functionName: 'seamwork-ingest', timeoutSeconds: opts.functionTimeoutSeconds ?? INGEST.timeoutSeconds }],
  });

  const sqs = new SQSClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: emulators.endpoints.sqs, useQueueUrlAsEndpoint: false });
  const pollers: SqsPoller[] = QUEUE_STAGES.flatMap((stage) => Array.from({ length: opts.concurrency ?? 2 }, () => stage)).map((stage) =>
    startSqsPoller({
      queueUrl: emulators.queueUrls[stage].url,
      handler: handlers[stage] as never,
      batchSize: STAGE_SPECS[stage].batchSize,
      timeoutSeconds: opts.functionTimeoutSeconds ?? STAGE_SPECS[stage].timeoutSeconds,
      ...(opts.duplicateDeliveries ? { duplicates: opts.duplicateDeliveries } : {}),
      sqs,
      functionName: `seamwork-${stage}`,
    }),
  );

  const depth = async (queue: QueueName | `${QueueName}-dlq`): Promise<number> => {
    const base = queue.replace(/-dlq$/, '') as QueueName;
    const url = queue.endsWith('-dlq') ? emulators.queueUrls[base].dlqUrl : emulators.queueUrls[base].url;
    const res = await sqs.send(new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }));
    const a = res.Attributes ?? {};
    return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
  };

  const drain = async (timeoutMs = 60_000): Promise<void> => {
    const until = Date.now() + timeoutMs;
    let quietRounds = 0;
    while (Date.now() < until) {
      const depths = await Promise.all(QUEUE_STAGES.map((s) => depth(s)));
      const busy = depths.some((d) => d > 0) || pollers.some((p) => !p.idle());
      quietRounds = busy ? 0 : quietRounds + 1;
      if (quietRounds >= 3) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    const depths = await Promise.all(QUEUE_STAGES.map(async (s) => `${s}=${await depth(s)}`));
    throw new Error(`The local pipeline did not drain within ${timeoutMs} ms (${depths.join(', ')}).`);
  };

  writeFileSync(join(stateDir, 'local.json'), JSON.stringify({ apiUrl: api.url, env, startedAt: new Date().toISOString(), pid: process.pid }, null, 2));

  return {
    apiUrl: api.url,
    webhookUrl: (integration) => `${api.url}/webhooks/${integration}`,
    emulators, model, connectors, flags, env, drain, depth, sweep, checkpoint,
    pollerStats: () => {
      const out = Object.fromEntries(QUEUE_STAGES.map((s) => [s, { invocations: 0, failed: 0, handlerErrors: 0, crashes: 0, duplicatesInjected: 0, firstDeliveries: 0 }])) as ReturnType<LocalStack['pollerStats']>;
      pollers.forEach((p, i) => {
        const stage = QUEUE_STAGES[Math.floor(i / (opts.concurrency ?? 2))];
        const st = p.stats();
        out[stage].invocations += st.invocations;
        out[stage].failed += st.failed;
        out[stage].handlerErrors += st.handlerErrors;
        out[stage].crashes += st.crashes;
        out[stage].duplicatesInjected += st.duplicatesInjected;
        out[stage].firstDeliveries += st.firstDeliveries;
      });
      return out;
    },
    enqueue: async (queue, body) => {
      await sqs.send(new SendMessageCommand({ QueueUrl: emulators.queueUrls[queue].url, MessageBody: encodeMessageBody(body) }));
    },
    stop: async () => {
      clearInterval(sweeper);
      clearInterval(checkpointer);
      await api.stop();
      await Promise.all(pollers.map((p) => p.stop()));
      sqs.destroy();
      await Promise.all([flags.stop(), connectors.stop(), model?.stop(), emulators.stop()]);
      resetClients();
      resetConfig();
    },
  };
}

/** All queue names with their DLQs, for summaries. */
export const ALL_QUEUES: Array<QueueName | `${QueueName}-dlq`> = QUEUES.flatMap((q) => [q, `${q}-dlq` as const]);
