import { parseArgs } from 'node:util';
import { PowertoolsMetricsSink } from '../../lambdas/aws/metrics.js';
import { loadConfig } from '../../lambdas/aws/runtime-config.js';
import { Wiring } from '../../lambdas/aws/wiring.js';
import { BACKFILL_BATCH_OVER_ENV, DEFAULT_BATCH_OVER, planBackfill, runBackfill, type BackfillItem, type BackfillReport } from '../../lambdas/core/backfill.js';
import { DEFAULT_BREAKER } from '../../lambdas/core/breaker.js';
import { MemoryTokenVault } from '../../lambdas/core/memory-ports.js';
import { RETENTION_SECONDS } from '../../lambdas/core/time-budgets.js';
import { getIntegration, INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { AnthropicModel } from '../../lambdas/model/anthropic.js';
import { AnthropicBatchModel } from '../../lambdas/model/anthropic-batch.js';
import { readPayloads } from '../contracts-infer.js';
import { deliver, vendorHeaders } from '../local/fixtures.js';
import { UsageError } from './contracts.js';
import { localSecret } from './start.js';
import { useLocalState } from './state.js';

/** How long event ids are remembered for dedupe, as the ingest handler does. */
const DEDUPE_TTL_SECONDS = 7 * 24 * 3600;

/** Options of {@link backfillCommand} that tests set. */
export interface BackfillCommandOptions {
  /** Folder of the running stack's `local.json`. @default .seamwork */
  stateDir?: string;
  /** Waits between polls of the batch (tests shorten them). */
  pollBaseMs?: number;
  now?: () => Date;
}

/**
 * `seamwork backfill <integration> <folder> [--batch-over N] [--dry-run]`
 *
 * Feeds captured payloads (`.json`, `.jsonl`, fixtures or golden files, as `contracts infer` reads
 * them) into the running local stack. At or below N events (default 20, or
 * SEAMWORK_BACKFILL_BATCH_OVER) each is posted to the webhook, signed as the vendor would; above
 * N they are validated in process and inferred as one Message Batch at the batch price, each
 * reservation held and reconciled in the usual ledger scopes, then verified and acted on by the
 * pipeline as usual. `--dry-run` validates and prices without writing or sending anything.
 */
export async function backfillCommand(args: string[], opts: BackfillCommandOptions = {}): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'batch-over': { type: 'string' }, 'dry-run': { type: 'boolean' } } });
  if (positionals.length !== 2) throw new UsageError('backfill needs <integration> <folder>');
  const [name, folder] = positionals;
  const def = getIntegration(name);
  if (!def) throw new UsageError(`backfill: no integration named "${name}" (known: ${Object.keys(INTEGRATIONS).join(', ')})`);
  const rawThreshold = values['batch-over'] ?? process.env[BACKFILL_BATCH_OVER_ENV] ?? String(DEFAULT_BATCH_OVER);
  const batchOver = Number(rawThreshold);
  if (!/^\d+$/.test(rawThreshold) || !Number.isSafeInteger(batchOver)) {
    throw new UsageError(`--batch-over is a whole number of events (above it a backfill uses one Message Batch), got "${rawThreshold}"${values['batch-over'] === undefined ? ` from ${BACKFILL_BATCH_OVER_ENV}` : ''}`);
  }
  const now = opts.now ?? (() => new Date());

  const { payloads, skipped } = readPayloads(folder);
  for (const s of skipped) console.log(`skipped  ${s}`);
  if (payloads.length === 0) {
    console.error(`No payloads in ${folder}.`);
    return 1;
  }
  const events = payloads.map((body, i) => ({ source: `#${i + 1}`, body }));

  if (values['dry-run']) {
    const plan = await planBackfill(events, def, { batchOver, defaultTenant: 'default', now, vault: new MemoryTokenVault() });
    for (const line of renderReport(plan)) console.log(line);
    return 0;
  }

  const state = useLocalState(opts.stateDir);
  const config = loadConfig();
  const wiring = new Wiring(config);
  const sink = new PowertoolsMetricsSink('backfill', config.metricsFile);
  // Flushed every 50 values, so a large backfill never makes Powertools publish to stdout on its own.
  let added = 0;
  const metrics = { add: (...a: Parameters<PowertoolsMetricsSink['add']>) => (sink.add(...a), ++added % 50 === 0 && sink.flush(), undefined), flush: () => sink.flush() };
  const url = `${state.apiUrl}/webhooks/${def.name}`;
  const secret = localSecret({ env: state.env }, def);
  const perCall = new AnthropicModel({ apiKey: process.env.ANTHROPIC_API_KEY, baseURL: process.env.ANTHROPIC_BASE_URL });
  try {
    const report = await runBackfill(events, {
      integration: def, audit: wiring.audit, queues: wiring.queues, ledger: wiring.ledger, vault: wiring.vault, dedupe: wiring.dedupe, flags: wiring.flags, drift: wiring.drift,
      breaker: { store: wiring.breaker, policy: DEFAULT_BREAKER }, metrics,
      batchModel: new AnthropicBatchModel({ apiKey: process.env.ANTHROPIC_API_KEY, baseURL: process.env.ANTHROPIC_BASE_URL, pollBaseMs: opts.pollBaseMs }),
      deliver: (body, headers) => deliver(url, body, vendorHeaders(def, body, secret, 'valid', now(), { url, headers })),
      caps: config.caps, tenantCaps: wiring.tenantCaps, countTokens: (prompt) => perCall.countTokens(prompt), model: perCall, defaultTenant: config.defaultTenant, now, log: (line) => console.log(line),
      vaultTtlSeconds: RETENTION_SECONDS, dedupeTtlSeconds: DEDUPE_TTL_SECONDS,
    }, { batchOver });
    for (const line of renderReport(report)) console.log(line);
    if (report.unfinished) return 1;
    return report.items.some((i) => i.outcome === 'failed' || (i.outcome === 'webhook' && (i.status ?? 0) >= 400)) ? 1 : 0;
  } finally {
    metrics.flush();
  }
}

/** `$0.012345` */
const money = (usd: number): string => `$${usd.toFixed(6)}`;

/** A bar of `width` cells for `value` against `max`: full blocks, then light shade. */
function bar(value: number, max: number, width = 40): string {
  const filled = max > 0 ? Math.round((value / max) * width) : 0;
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

const OUTCOME_ORDER: BackfillItem['outcome'][] = ['batched', 'webhook', 'per-call', 'refused', 'rejected', 'duplicate', 'ignored', 'unusable', 'failed'];

/** The summary of a backfill (or of its dry run) as lines of text. */
export function renderReport(r: BackfillReport): string[] {
  const lines: string[] = [''];
  const how = r.mode === 'batch' ? `one Message Batch (more than ${r.batchOver})` : `the webhook (${r.batchOver} or fewer)`;
  lines.push(`${r.dryRun ? 'dry run: ' : ''}backfill ${r.integration}: ${r.events} events, ${r.processable} to process → ${r.dryRun ? 'would go through ' : ''}${how}`);
  const counts = OUTCOME_ORDER.map((o) => [o, r.items.filter((i) => i.outcome === o).length] as const).filter(([, n]) => n > 0);
  lines.push(`  ${counts.map(([o, n]) => `${o} ${n}`).join(', ')}`);
  for (const i of r.items.filter((x) => x.reason && x.outcome !== 'batched')) {
    lines.push(`  ${i.outcome.padEnd(9)} ${i.source}${i.vendorEventId ? ` event ${i.vendorEventId}` : ''}${i.decisionId ? ` ${i.decisionId}` : ''}: ${i.reason}`);
  }
  if (r.batch) lines.push(`  batch ${r.batch.id} ${r.batch.status}: ${r.batch.succeeded} succeeded, ${r.batch.errored} errored, ${r.batch.canceled} canceled, ${r.batch.expired} expired`);
  if (r.unfinished) {
    lines.push(`  batch ${r.unfinished.batchId} did not finish here: ${r.unfinished.reason}`);
    lines.push('  Its reservations stay held until they expire; the decisions wait at validated (trace shows where each stands).');
  }
  const c = r.cost;
  const pct = `${Number(c.savingPercent.toFixed(1))}%`;
  if (r.dryRun && r.mode === 'batch') {
    lines.push(`  worst case ${money(c.reservedUsd)} at the batch price (${Math.round(c.batchDiscount * 100)}% off ${c.model}) vs ${money(c.perCallUsd)} per call`);
  } else if (c.perCallUsd > 0) {
    lines.push(`  cost ${money(c.batchUsd)} at the batch price vs ${money(c.perCallUsd)} per call (${c.model}): saved ${money(c.savingUsd)} (${pct})`);
    lines.push(`  per call ${bar(c.perCallUsd, c.perCallUsd)} ${money(c.perCallUsd)}`);
    lines.push(`  batch    ${bar(c.batchUsd, c.perCallUsd)} ${money(c.batchUsd)}`);
  }
  if (!r.dryRun && r.items.some((i) => i.decisionId)) lines.push('  follow one with `npm run seamwork -- trace <decision-id>`');
  return lines;
}
