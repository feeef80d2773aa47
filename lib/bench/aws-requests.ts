import { dynamoClient, s3Client, sqsClient } from '../../lambdas/aws/clients.js';
import type { AuditRecord } from '../../lambdas/core/audit-record.js';
import { actualCostUsd } from '../../lambdas/core/cost.js';
import { QUEUE_STAGES, type QueueStage } from '../../lambdas/core/config-keys.js';
import { INGEST, STAGE_SPECS } from '../topology.js';
import { AWS_PRICES, costUsd, type AwsPrice } from './aws-prices.js';
import { percentile, runIsolated, type EndToEndResult, type RunHooks } from './e2e.js';
import type { BenchRunner, BenchSection, BenchTarget } from './types.js';

/**
 * AWS requests per event, by service and operation, counted on the SDK clients the handlers use
 * during an end-to-end run on the local stack, and priced with the committed table
 * (aws-prices.ts) into dollars per million events, beside the model's cost per event.
 */

/** Events per counted run. */
const EVENTS = { full: 200, quick: 6 } as const;
/** Few in flight, so audit-record gaps approximate handler time rather than queueing. */
const SEND_CONCURRENCY = 4;
/** The issue's target for the machinery (everything but the model), USD per million events. */
const TARGET_USD_PER_M = 8;
/** Model prices shown beside the machinery. */
const MODELS = ['claude-haiku-4-5', 'claude-sonnet-4-5'] as const;
const SQS_CHUNK_BYTES = 64 * 1024;

/** One counted operation: requests made and what they are billed as. */
interface Counted {
  service: string;
  operation: string;
  requests: number;
  /** SQS: 64 KB chunks; DynamoDB: capacity units consumed; others: requests. */
  units: number;
}

/** What the counting child process hands back. */
export interface RequestSummary {
  counted: Counted[];
  /** 10th-percentile gap from a stage's predecessor record to the stage's first record, ms, per stage. */
  stageGapMs: Partial<Record<QueueStage, number>>;
  /** Mean model usage per `inferred` record, and how many there were. */
  usage: { calls: number; inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number };
  decisions: number;
}

const counts = new Map<string, Counted>();
let counting = false;

/** An initialize-step middleware, typed loosely: the three clients' stacks differ only in their command unions. */
type Middleware = (next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>, ctx: { commandName?: string }) =>
  (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;

/** Bytes of the message bodies (and attributes) in an SQS send, for the 64 KB-chunk rule. */
function sqsChunks(command: string, input: Record<string, unknown>): number {
  const size = (m: { MessageBody?: unknown; MessageAttributes?: unknown }) =>
    Buffer.byteLength(String(m.MessageBody ?? '')) + (m.MessageAttributes ? Buffer.byteLength(JSON.stringify(m.MessageAttributes)) : 0);
  if (command === 'SendMessageCommand') return Math.max(1, Math.ceil(size(input) / SQS_CHUNK_BYTES));
  if (command === 'SendMessageBatchCommand') {
    const entries = (input.Entries as Array<{ MessageBody?: unknown }> | undefined) ?? [];
    return Math.max(1, Math.ceil(entries.reduce((n, e) => n + size(e), 0) / SQS_CHUNK_BYTES));
  }
  return 1;
}

/** Capacity units from a DynamoDB response's ConsumedCapacity (one object, or one per table). */
function capacityUnits(consumed: unknown): number | undefined {
  if (!consumed) return undefined;
  const list = (Array.isArray(consumed) ? consumed : [consumed]) as Array<{ CapacityUnits?: number }>;
  return list.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
}

function record(service: string, operation: string, units: number): void {
  const key = `${service}:${operation}`;
  const c = counts.get(key) ?? { service, operation, requests: 0, units: 0 };
  c.requests++;
  c.units += units;
  counts.set(key, c);
}

/** Counts every request a client sends while counting is on; DynamoDB requests also report the capacity they consumed. */
function counter(service: 'SQS' | 'S3' | 'DynamoDB'): Middleware {
  return (next, ctx) =>
    async (args) => {
      if (!counting) return next(args);
      const operation = (ctx.commandName ?? 'unknown').replace(/Command$/, '');
      if (service !== 'DynamoDB') {
        record(service, operation, service === 'SQS' ? sqsChunks(ctx.commandName ?? '', args.input) : 1);
        return next(args);
      }
      // Ask DynamoDB (the emulator) what each request consumed: item size decides the units.
      args.input.ReturnConsumedCapacity ??= 'TOTAL';
      try {
        const out = await next(args);
        record(service, operation, capacityUnits(out.output.ConsumedCapacity) ?? 1);
        return out;
      } catch (err) {
        // A failed conditional write is still billed (at least one unit); record it as one.
        record(service, `${operation} (failed: ${(err as Error).name})`, 1);
        throw err;
      }
    };
}

/** Stage of a record, for the gap estimate. */
function stageGaps(chains: AuditRecord[][]): Partial<Record<QueueStage, number>> {
  const gaps: Record<string, number[]> = {};
  for (const chain of chains) {
    for (let i = 1; i < chain.length; i++) {
      const stage = chain[i].stage;
      if (stage === chain[i - 1].stage) continue;
      (gaps[stage] ??= []).push(Date.parse(chain[i].at) - Date.parse(chain[i - 1].at));
    }
  }
  // A low percentile: the decisions that found a poller idle, where the gap is handler time plus one receive, not a backlog.
  return Object.fromEntries(QUEUE_STAGES.filter((s) => gaps[s]?.length).map((s) => [s, percentile(gaps[s], 10)]));
}

function meanUsage(chains: AuditRecord[][]): RequestSummary['usage'] {
  const usages = chains.flat().filter((r) => r.kind === 'inferred' && r.data.usage).map((r) => r.data.usage as Record<string, number>);
  const mean = (k: string) => (usages.length ? usages.reduce((n, u) => n + (Number(u[k]) || 0), 0) / usages.length : 0);
  return { calls: usages.length, inputTokens: mean('inputTokens'), outputTokens: mean('outputTokens'), cacheReadTokens: mean('cacheReadTokens'), cacheWriteTokens: mean('cacheWriteTokens') };
}

/** Run hooks for the child process (see e2e.ts runIsolated): count between the stack's start and its drain. */
export const hooks: RunHooks<RequestSummary> = {
  onStarted: () => {
    // The singletons the handlers use; created now (after the stack set the environment), so the handlers get these very instances.
    sqsClient().middlewareStack.add(counter('SQS') as never, { step: 'initialize', name: 'seamworkBenchCounter' });
    s3Client().middlewareStack.add(counter('S3') as never, { step: 'initialize', name: 'seamworkBenchCounter' });
    dynamoClient().middlewareStack.add(counter('DynamoDB') as never, { step: 'initialize', name: 'seamworkBenchCounter' });
    counting = true;
  },
  onDrained: () => {
    counting = false;
  },
  summarise: (result: EndToEndResult) => ({
    counted: [...counts.values()],
    stageGapMs: stageGaps(result.chains),
    usage: meanUsage(result.chains),
    decisions: result.chains.length,
  }),
};

/** How a counted operation is priced; `billed: false` rows are shown but left out of the total. */
function priceOf(c: Counted): { price?: AwsPrice; billed: boolean; why?: string } {
  if (c.service === 'SQS') return { price: AWS_PRICES.sqsRequest, billed: true };
  if (c.service === 'S3') {
    if (c.operation === 'HeadObject') return { price: AWS_PRICES.s3Get, billed: false, why: 'local only: the audit store checks write-once itself on emulators; in AWS the conditional PUT does' };
    if (/^(Put|Copy|List|Post)/.test(c.operation)) return { price: AWS_PRICES.s3Put, billed: true };
    return { price: AWS_PRICES.s3Get, billed: true };
  }
  if (c.service === 'DynamoDB') {
    const write = /^(Put|Update|Delete|BatchWrite|TransactWrite)/.test(c.operation);
    return { price: write ? AWS_PRICES.dynamoWrite : AWS_PRICES.dynamoRead, billed: true };
  }
  return { billed: false, why: 'unpriced' };
}

const money = (usd: number): number => Number(usd.toFixed(usd >= 1 ? 2 : 4));
const perEvent = (n: number, events: number): number => Number((n / events).toFixed(3));

/** The aws-requests section. */
export const run: BenchRunner = async (opts): Promise<BenchSection> => {
  const events = opts.quick ? EVENTS.quick : EVENTS.full;
  const r = await runIsolated<RequestSummary>({
    events, sendConcurrency: SEND_CONCURRENCY, label: 'aws-requests', progress: opts.progress, hooksModule: 'aws-requests.js', fullChains: true,
  });
  const n = Math.max(1, r.accepted);
  const M = 1_000_000 / n;
  const rows: BenchSection['rows'] = [];
  const notes: string[] = [];
  let machinery = 0;
  const byService: Record<string, number> = {};
  const add = (service: string, operation: string, requests: number, usd: number, billed: boolean, note = '') => {
    rows.push({ service, operation, 'requests/event': perEvent(requests, n), '$/M events': money(usd * M), note: billed ? note : `not in total: ${note}` });
    if (billed) {
      machinery += usd * M;
      byService[service] = (byService[service] ?? 0) + usd * M;
    }
  };

  add('API Gateway', 'HTTP API request', r.sent, costUsd(AWS_PRICES.apiGatewayHttpRequest, r.sent), true);

  const invocations: Record<string, number> = { ingest: r.sent, ...Object.fromEntries(QUEUE_STAGES.map((s) => [s, r.pollerStats[s].invocations])) };
  for (const [fn, count] of Object.entries(invocations)) add('Lambda', `invoke seamwork-${fn}`, count, costUsd(AWS_PRICES.lambdaRequest, count), true);

  // GB-seconds, estimated: memory from the topology × a measured wall time per invocation.
  const ingestMs = percentile(r.webhookMs, 50);
  let gbSeconds = (r.sent * (ingestMs / 1000) * INGEST.memoryMb) / 1024;
  const gapParts: string[] = [`ingest ${ingestMs.toFixed(0)} ms`];
  for (const s of QUEUE_STAGES) {
    const ms = r.summary.stageGapMs[s];
    if (ms === undefined) continue;
    gbSeconds += (invocations[s] * (ms / 1000) * STAGE_SPECS[s].memoryMb) / 1024;
    gapParts.push(`${s} ${ms.toFixed(0)} ms`);
  }
  add('Lambda', 'GB-seconds (arm64, estimated)', gbSeconds, costUsd(AWS_PRICES.lambdaGbSecondArm, gbSeconds), true, 'GB-s, not requests');

  const counted = [...r.summary.counted].sort((a, b) => a.service.localeCompare(b.service) || b.requests - a.requests);
  for (const c of counted) {
    const { price, billed, why } = priceOf(c);
    const units = c.service === 'S3' ? c.requests : c.units;
    const unitNote = c.service === 'DynamoDB' ? `${perEvent(c.units, n)} capacity units/event` : c.service === 'SQS' && c.units !== c.requests ? `${perEvent(c.units, n)} 64 KB chunks/event` : '';
    add(c.service, c.operation, c.requests, price ? costUsd(price, units) : 0, billed, billed ? unitNote : why ?? '');
  }

  // The event source mapping's own receives and deletes: one receive and one delete batch per invocation with messages.
  const esm = QUEUE_STAGES.reduce((k, s) => k + r.pollerStats[s].invocations, 0);
  const esmDeletes = QUEUE_STAGES.reduce((k, s) => k + r.pollerStats[s].invocations - r.pollerStats[s].handlerErrors, 0);
  add('SQS', 'ReceiveMessage (event source mapping)', esm, costUsd(AWS_PRICES.sqsRequest, esm), false, 'Lambda\'s pollers, derived from invocations (empty polls not counted)');
  add('SQS', 'DeleteMessageBatch (event source mapping)', esmDeletes, costUsd(AWS_PRICES.sqsRequest, esmDeletes), false, 'Lambda\'s pollers, derived from invocations');
  const esmUsdPerM = costUsd(AWS_PRICES.sqsRequest, esm + esmDeletes) * M;

  rows.push({ service: 'Total', operation: 'machinery (AWS, excluding the model)', 'requests/event': perEvent(rows.filter((x) => !String(x.note).startsWith('not in total') && x.operation !== 'GB-seconds (arm64, estimated)').reduce((k, x) => k + Number(x['requests/event']) * n, 0), n), '$/M events': money(machinery), note: '' });

  const u = r.summary.usage;
  const callsPerEvent = u.calls ? r.summary.usage.calls / Math.max(1, r.summary.decisions) : 0;
  const modelCost: Record<string, number> = {};
  for (const model of MODELS) {
    const usd = actualCostUsd(model, { input_tokens: u.inputTokens, output_tokens: u.outputTokens, cache_read_input_tokens: u.cacheReadTokens, cache_creation_input_tokens: u.cacheWriteTokens });
    modelCost[model] = usd * callsPerEvent * 1_000_000;
    rows.push({ service: 'Anthropic', operation: `${model} call (mean usage of this run)`, 'requests/event': Number(callsPerEvent.toFixed(3)), '$/M events': money(modelCost[model]), note: `not in total: ${u.inputTokens.toFixed(0)} in / ${u.outputTokens.toFixed(0)} out tokens per call` });
  }

  const top = Object.entries(byService).sort((a, b) => b[1] - a[1]);
  const topOps = rows.filter((x) => !String(x.note).startsWith('not in total') && x.service !== 'Total').sort((a, b) => Number(b['$/M events']) - Number(a['$/M events'])).slice(0, 3);
  const met = machinery <= TARGET_USD_PER_M;
  const targets: BenchTarget[] = [{
    what: 'AWS machinery per million events (excluding the model)',
    target: `≤ $${TARGET_USD_PER_M}`,
    actual: `$${money(machinery)} ($${money(machinery + esmUsdPerM)} with the event source mapping's receives and deletes)`,
    met,
    note: met ? undefined : `Dominated by ${topOps.map((x) => `${x.service} ${x.operation} ($${x['$/M events']})`).join(', ')}. One audit record per stage is one S3 PUT at $5 per million each; batching a decision's records, or writing them to DynamoDB/Firehose and archiving to S3 in bulk, is where the money is.`,
  }];
  notes.push(
    `${r.sent} support-triage webhooks (clean fixtures, fresh ids) through the local stack; requests counted by a middleware on the handlers' SDK client singletons (SQS, S3, DynamoDB) from the first send to the drain. API Gateway: one request per webhook. Lambda: one ingest invocation per webhook plus every poller invocation.`,
    `By service ($/M events): ${top.map(([s, v]) => `${s} $${money(v)}`).join(', ')}; the model beside it: ${MODELS.map((m) => `${m} $${money(modelCost[m])}`).join(', ')} per million events — the machinery is ${modelCost[MODELS[0]] > 0 ? `${((machinery / modelCost[MODELS[0]]) * 100).toFixed(1)}%` : 'n/a'} of the Haiku cost.`,
    `Lambda GB-seconds are estimated, not measured: memory from lib/topology.ts × a wall time per invocation — ingest's median webhook round trip, and per stage the 10th-percentile gap between the predecessor's audit record and the stage's first (${gapParts.join(', ')}): the decisions that found a poller idle, so the gap is handler time plus a receive, not a backlog (the median includes queueing behind the one-at-a-time infer stage). Infer dominates even with the local reference model, which answers without delay (why it takes that long locally is not yet explained); in AWS infer's wall time also includes the real model call, and every second of it costs $${money(costUsd(AWS_PRICES.lambdaGbSecondArm, STAGE_SPECS.infer.memoryMb / 1024) * 1_000_000)} per million events at ${STAGE_SPECS.infer.memoryMb} MB.`,
    `The event source mapping's ReceiveMessage/DeleteMessageBatch (${perEvent(esm + esmDeletes, n)} per event, $${money(esmUsdPerM)}/M events, empty polls not counted) are Lambda's pollers standing in locally; they are shown but left out of the total as the benchmark brief asks. Note that SQS does bill the event source mapping's requests to the queue owner, and its empty long polls (about 3 per queue-poller per minute when idle) cost money whether or not events arrive.`,
    'S3 HeadObject is the local audit store\'s own write-once check on emulators (fauxqs does not enforce If-None-Match); in AWS the conditional PUT does it and no HEAD is sent, so it is left out. DynamoDB units are what the emulator reported as consumed (ReturnConsumedCapacity); a failed conditional write is counted as one unit.',
    'Not counted: Secrets Manager (read once per cold start and cached), the AppConfig agent (polls per instance, not per event), CloudWatch Logs/EMF ingestion ($0.50/GB; a few hundred bytes of EMF per stage per event is under $1 per million events at ERROR log level), KMS, data transfer.',
    `Prices: us-east-1 first tier, checked ${AWS_PRICES.sqsRequest.asOf}, sources in lib/bench/aws-prices.ts (DynamoDB on-demand at the post-2024-11-01 rates, $0.625/M WRU and $0.125/M RRU).`,
  );
  if (opts.quick) notes.unshift('Quick run: a handful of events; figures not meaningful.');
  return { id: 'aws-requests', title: 'AWS requests and dollars per million events', rows, targets, notes };
};
