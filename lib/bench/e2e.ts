import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3Client } from '../../lambdas/aws/clients.js';
import type { AuditRecord } from '../../lambdas/core/audit-record.js';
import { ENV } from '../../lambdas/core/config-keys.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { localSecret } from '../cli/start.js';
import { deliver, loadFixtures, vendorHeaders } from '../local/fixtures.js';
import { startLocalStack, type LocalStack } from '../local/stack.js';
import type { BenchRunner, BenchSection, BenchTarget } from './types.js';

/**
 * Local end to end with the instant reference model: signed support-triage webhooks into a local
 * stack running the real handlers in this process, timed from the first send to the last outcome
 * (throughput) and per decision from its `accepted` audit record to its `acted` one (latency).
 */

/** Events per measured run. */
const EVENTS = { full: 1000, quick: 6 } as const;
/** Webhooks in flight at once, like a vendor's delivery workers. */
const SEND_CONCURRENCY = 32;
/** Pollers per stage measured after the default (2). */
const WIDE_POLLERS = 8;
/** The issue's target. */
const TARGET_EVENTS_PER_S = 300;
/** Spend caps high enough that a thousand reference-model calls are never refused. */
const NO_CAPS = '1000000';

/** Options of {@link runEndToEnd}. */
export interface EndToEndOptions {
  events: number;
  /** Webhooks in flight at once. @default 32 */
  sendConcurrency?: number;
  /** Pollers per stage queue. @default the local stack's (2) */
  pollers?: number;
  /** Prefix of progress lines (`e2e`). */
  label: string;
  progress: (message: string) => void;
  /** Called once the stack is up, before the first webhook (attach counters here). */
  onStarted?: (stack: LocalStack) => void;
  /** Called once every decision has reached its outcome, before any audit record is read back. */
  onDrained?: (stack: LocalStack) => void;
  /** Read every audit record of every decision (else only the first and last of each). @default false */
  fullChains?: boolean;
}

/** What one end-to-end run measured. */
export interface EndToEndResult {
  sent: number;
  /** Webhooks answered 202. */
  accepted: number;
  /** Last record kind per decision (`acted`, or where else it ended), counted. */
  outcomes: Record<string, number>;
  /** Epoch ms of the first send and of the last decision's last audit record. */
  firstSendAt: number;
  lastOutcomeAt: number;
  /** accepted → acted per acted decision, ms. */
  latenciesMs: number[];
  /** Webhook round trips as the sender saw them (ingest Lambda + API), ms. */
  webhookMs: number[];
  /** Poller counters, read right after the drain. */
  pollerStats: ReturnType<LocalStack['pollerStats']>;
  /** Audit records per decision: all of them with `fullChains`, else first and last. */
  chains: AuditRecord[][];
}

/** Fresh-id bodies of the clean support-triage fixtures (the ones that end in `acted`), round robin. */
function bodies(): () => string {
  const clean = loadFixtures(supportTriage).filter((f) => f.signature === 'valid' && f.expect.outcome === 'acted' && (f.deliveries ?? 1) === 1);
  if (clean.length === 0) throw new Error('support-triage has no clean fixture that ends in "acted" to benchmark with.');
  let i = 0;
  return () => {
    const payload = JSON.parse(clean[i++ % clean.length].body) as Record<string, unknown>;
    payload.id = randomUUID();
    return JSON.stringify(payload);
  };
}

/** Runs `work` over `items` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  }));
}

/** Every audit key of the integration, grouped by decision id, in chain order. */
async function auditKeys(bucket: string, integration: string): Promise<Map<string, string[]>> {
  const byDecision = new Map<string, string[]>();
  let token: string | undefined;
  do {
    const page = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `decisions/${integration}/`, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const id = o.Key?.split('/')[2];
      if (!id || !o.Key) continue;
      byDecision.set(id, [...(byDecision.get(id) ?? []), o.Key]);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  for (const keys of byDecision.values()) keys.sort();
  return byDecision;
}

async function getRecord(bucket: string, key: string): Promise<AuditRecord> {
  const res = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await res.Body!.transformToString('utf8')) as AuditRecord;
}

/**
 * Starts a local stack (its own state folder and flags copy, free port), sends `events` signed
 * support-triage webhooks with fresh event ids, waits for every decision's outcome and reads the
 * audit records back. Shared by the e2e and aws-requests sections.
 */
export async function runEndToEnd(opts: EndToEndOptions): Promise<EndToEndResult> {
  const stateDir = mkdtempSync(join(tmpdir(), 'seamwork-bench-'));
  const flagsFile = join(stateDir, 'flags.json');
  copyFileSync(join(process.cwd(), 'config/flags.local.json'), flagsFile);
  const stack = await startLocalStack({
    stateDir, flagsFile, apiPort: 0, concurrency: opts.pollers,
    env: {
      [ENV.TENANT_DAILY_CAP_USD]: NO_CAPS, [ENV.TENANT_MONTHLY_CAP_USD]: NO_CAPS,
      [ENV.INTEGRATION_DAILY_CAP_USD]: NO_CAPS, [ENV.GLOBAL_DAILY_CAP_USD]: NO_CAPS,
    },
    onFlagsProblem: (p) => opts.progress(`${opts.label}: flags: ${p ?? 'valid again'}`),
  });
  try {
    const def = supportTriage;
    const url = stack.webhookUrl(def.name);
    const secret = localSecret(stack, def);
    const nextBody = bodies();
    const payloads = Array.from({ length: opts.events }, nextBody);
    opts.onStarted?.(stack);

    let accepted = 0;
    let answered = 0;
    const webhookMs: number[] = [];
    const rejections: string[] = [];
    const ticker = setInterval(() => {
      const acted = stack.pollerStats().act.invocations;
      opts.progress(`${opts.label}: sent ${answered}/${opts.events}, acted ${acted}`);
    }, 1000);
    const firstSendAt = Date.now();
    try {
      await pool(payloads, opts.sendConcurrency ?? SEND_CONCURRENCY, async (body) => {
        const t = performance.now();
        const res = await deliver(url, body, vendorHeaders(def, body, secret, 'valid', new Date(), { url }));
        webhookMs.push(performance.now() - t);
        answered++;
        if (res.status === 202) accepted++;
        else if (rejections.length < 3) rejections.push(`${res.status} ${JSON.stringify(res.body)}`);
      });
      await stack.drain(Math.max(60_000, opts.events * 300));
    } finally {
      clearInterval(ticker);
    }
    const pollerStats = stack.pollerStats();
    opts.progress(`${opts.label}: sent ${answered}/${opts.events}, acted ${pollerStats.act.invocations}, reading audit records…`);
    opts.onDrained?.(stack);
    if (accepted < opts.events) opts.progress(`${opts.label}: ${opts.events - accepted} webhook(s) not accepted, e.g. ${rejections.join('; ')}`);

    const bucket = stack.env[ENV.AUDIT_BUCKET];
    const keys = [...(await auditKeys(bucket, def.name)).values()];
    const chains: AuditRecord[][] = new Array(keys.length);
    await pool(keys, SEND_CONCURRENCY, async (k, i) => {
      const wanted = opts.fullChains ? k : [...new Set([k[0], k[k.length - 1]])];
      chains[i] = await Promise.all(wanted.map((key) => getRecord(bucket, key)));
    });

    const outcomes: Record<string, number> = {};
    const latenciesMs: number[] = [];
    let lastOutcomeAt = firstSendAt;
    for (const chain of chains) {
      const first = chain[0];
      const last = chain[chain.length - 1];
      outcomes[last.kind] = (outcomes[last.kind] ?? 0) + 1;
      lastOutcomeAt = Math.max(lastOutcomeAt, Date.parse(last.at));
      if (first.kind === 'accepted' && last.kind === 'acted') latenciesMs.push(Date.parse(last.at) - Date.parse(first.at));
    }
    return { sent: opts.events, accepted, outcomes, firstSendAt, lastOutcomeAt, latenciesMs, webhookMs, pollerStats, chains };
  } finally {
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** What {@link runIsolated} hands back: the run without its audit records, plus the section's own summary of them. */
export type IsolatedResult<S> = Omit<EndToEndResult, 'chains'> & { summary: S };

/** Sections that need more than timings from a run: a module under lib/bench exporting these. */
export interface RunHooks<S> {
  onStarted?: (stack: LocalStack) => void;
  onDrained?: (stack: LocalStack) => void;
  /** Folds the audit records (and what the hooks saw) into something JSON-serialisable. */
  summarise: (result: EndToEndResult) => S;
}

const RESULT_PREFIX = 'SEAMWORK_BENCH_RESULT ';

/**
 * {@link runEndToEnd} in a fresh Node process. The handlers build their dependencies (queue
 * URLs, stores) once per process at cold start, exactly as in Lambda, so a second local stack in
 * the same process would send to the first one's queues; every measured run gets its own process.
 * `hooksModule` (a file name under lib/bench, e.g. `aws-requests.js`) exports `hooks: RunHooks`.
 */
export async function runIsolated<S = null>(
  opts: { events: number; pollers?: number; sendConcurrency?: number; label: string; progress: (message: string) => void; hooksModule?: string; fullChains?: boolean },
): Promise<IsolatedResult<S>> {
  const self = fileURLToPath(import.meta.url);
  const args = { events: opts.events, pollers: opts.pollers, sendConcurrency: opts.sendConcurrency, label: opts.label, hooksModule: opts.hooksModule, fullChains: opts.fullChains };
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--child', JSON.stringify(args)], {
    cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR' },
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const line of d.split('\n')) if (line.startsWith('progress ')) opts.progress(line.slice('progress '.length));
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (code !== 0 || !line) {
    const tail = err.split('\n').filter((l) => !l.startsWith('progress ')).slice(-15).join('\n');
    throw new Error(`${opts.label}: the benchmark process exited with ${code} and no result:\n${tail}`);
  }
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as IsolatedResult<S>;
}

/** The child side of {@link runIsolated}. */
async function child(json: string): Promise<void> {
  const args = JSON.parse(json) as { events: number; pollers?: number; sendConcurrency?: number; label: string; hooksModule?: string; fullChains?: boolean };
  const hooks: RunHooks<unknown> | undefined = args.hooksModule
    ? ((await import(new URL(`./${args.hooksModule}`, import.meta.url).href)) as { hooks: RunHooks<unknown> }).hooks
    : undefined;
  const result = await runEndToEnd({
    events: args.events, pollers: args.pollers, sendConcurrency: args.sendConcurrency, label: args.label, fullChains: args.fullChains,
    progress: (m) => process.stderr.write(`progress ${m}\n`),
    onStarted: hooks?.onStarted, onDrained: hooks?.onDrained,
  });
  const { chains, ...rest } = result;
  const summary = hooks ? hooks.summarise(result) : null;
  void chains;
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ ...rest, summary })}\n`);
}

if (process.argv[2] === '--child' && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  child(process.argv[3]).then(
    () => process.exit(0),
    (err: unknown) => { console.error(err); process.exit(1); },
  );
}

/** Nearest-rank percentile of unsorted values (NaN for none). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Events per second from the first send to the last outcome. */
export function throughput(r: Pick<EndToEndResult, 'accepted' | 'firstSendAt' | 'lastOutcomeAt'>): number {
  const seconds = Math.max(1, r.lastOutcomeAt - r.firstSendAt) / 1000;
  return r.accepted / seconds;
}

const round = (n: number, digits = 1): number => (Number.isFinite(n) ? Number(n.toFixed(digits)) : 0);

function row(pollers: number, r: Omit<EndToEndResult, 'chains'>): Record<string, string | number> {
  const acted = r.outcomes.acted ?? 0;
  return {
    'pollers/stage': pollers,
    events: r.sent,
    acted,
    'other outcomes': Object.entries(r.outcomes).filter(([k]) => k !== 'acted').map(([k, n]) => `${k} ${n}`).join(', ') || '—',
    'events/s': round(throughput(r)),
    'p50 ms': round(percentile(r.latenciesMs, 50)),
    'p95 ms': round(percentile(r.latenciesMs, 95)),
    'p99 ms': round(percentile(r.latenciesMs, 99)),
    'webhook p50 ms': round(percentile(r.webhookMs, 50)),
  };
}

/** The e2e section: default pollers (2 per stage), then 8 per stage, same load. */
export const run: BenchRunner = async (opts): Promise<BenchSection> => {
  const events = opts.quick ? EVENTS.quick : EVENTS.full;
  const runs: Array<{ pollers: number; result: IsolatedResult<null> }> = [];
  for (const pollers of [2, WIDE_POLLERS]) {
    const result = await runIsolated<null>({ events, pollers, label: `e2e (${pollers} pollers/stage)`, progress: opts.progress });
    runs.push({ pollers, result });
  }
  const best = runs.reduce((a, b) => (throughput(b.result) > throughput(a.result) ? b : a));
  const atDefault = runs[0];
  const rate = throughput(atDefault.result);
  const wideRate = throughput(runs[1].result);
  const targets: BenchTarget[] = [{
    what: 'local end-to-end throughput (instant reference model, 2 pollers/stage)',
    target: `≥ ${TARGET_EVENTS_PER_S} events/s`,
    actual: `${round(rate)} events/s (${round(wideRate)} with ${WIDE_POLLERS} pollers/stage)`,
    met: rate >= TARGET_EVENTS_PER_S,
    note: rate >= TARGET_EVENTS_PER_S ? undefined
      : `The whole pipeline — webhook sender, HTTP API, ingest, four stages, the SQS/S3 emulators (fauxqs), DynamoDB (dynalite) and the model server — shares one Node event loop on one of this machine's cores, so CPU, not the pollers, limits it: ${WIDE_POLLERS} pollers/stage gave ${round(wideRate)} events/s against ${round(rate)}. Each event also costs about forty emulated AWS requests (SigV4 signing, JSON/XML on both sides, see the aws-requests section) besides the handler work; in AWS those run elsewhere.`,
  }];
  const notes = [
    `${events} signed support-triage webhooks (the clean fixtures, fresh event ids), ${SEND_CONCURRENCY} in flight; throughput counts from the first send to the last decision's last audit record; latency is the accepted record's time to the acted record's time, over every acted decision.`,
    `Pollers per stage stand for concurrent Lambda instances: ${runs.map((r) => `${r.pollers} → ${round(throughput(r.result))} events/s`).join(', ')}. Best: ${best.pollers} per stage.`,
    'Latency under this load is mostly queueing: every webhook is accepted long before the stages drain them, so a decision waits behind the backlog; it says little about one event\'s path through an idle pipeline.',
    'Sender, API, handlers and emulators all run in one process on this machine, so the figures are a floor for the code, not a forecast for AWS, where each stage scales out and the emulators are not on the same cores.',
  ];
  if (opts.quick) notes.unshift('Quick run: a handful of events; figures not meaningful.');
  return { id: 'e2e', title: 'Local end to end (instant reference model)', rows: runs.map((r) => row(r.pollers, r.result)), targets, notes };
};
