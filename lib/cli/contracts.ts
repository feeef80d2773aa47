import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDriftStore } from '../../lambdas/aws/dynamo-stores.js';
import { detectDrift, type DriftFinding } from '../../lambdas/core/contracts/drift.js';
import { inspectContract } from '../../lambdas/core/contracts/inspect.js';
import type { DriftCount } from '../../lambdas/core/ports.js';
import { getIntegration, INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { inferContract, readPayloads } from '../contracts-infer.js';
import { cell } from './format.js';
import { useLocalState } from './state.js';

/**
 * `seamwork contracts [list] | drift <integration> [--days N] [--table T] | infer <folder> [--against I] [--out F]`
 *
 * - list: every integration's contract version, drift policy, how it is declared, and its
 *   migration windows — exit 1 when a window has expired, so CI and on-call notice.
 * - drift: drift seen per field and kind, day by day, as a sparkline (local stack, or a deployed
 *   stack's drift table with `--table` and your AWS credentials).
 * - infer: a draft zod contract from a folder of captured payloads; `--against` also checks every
 *   payload against an integration's current contract and says what drifted.
 */
export async function contractsCommand(args: string[], now = new Date()): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case undefined:
    case 'list':
      if (rest.length > 0) throw new UsageError(`contracts list takes no arguments (got ${rest.join(' ')}); it lists every integration`);
      return listContracts(now);
    case 'drift': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { days: { type: 'string', default: '30' }, table: { type: 'string' } } });
      if (positionals.length !== 1) throw new UsageError('contracts drift needs <integration>');
      const days = Number(values.days);
      if (!Number.isInteger(days) || days < 1 || days > 400) throw new UsageError(`--days is a whole number of days from 1 to 400, got "${values.days}"`);
      return driftHistory(positionals[0], days, values.table, now);
    }
    case 'infer': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { against: { type: 'string' }, out: { type: 'string' }, name: { type: 'string' } } });
      if (positionals.length !== 1) throw new UsageError('contracts infer needs <folder>');
      return infer(positionals[0], { against: values.against, out: values.out, name: values.name }, now);
    }
    default:
      throw new UsageError(`unknown contracts command "${sub}" (list, drift, infer)`);
  }
}

/** A mistake in how the command was called (exit 2, with usage). */
export class UsageError extends Error {}

function integrationOrThrow(name: string) {
  const def = getIntegration(name);
  if (!def) throw new Error(`No integration named "${name}" (known: ${Object.keys(INTEGRATIONS).join(', ')}).`);
  return def;
}

function listContracts(now: Date): number {
  let expired = 0;
  for (const def of Object.values(INTEGRATIONS)) {
    const shape = inspectContract(def.contract.schema, now);
    const policy = def.contract.drift;
    const overrides = Object.entries(policy.byKind ?? {}).map(([k, v]) => `${k} → ${v}`);
    console.log(`${def.name}   contract ${def.contract.version}   ${def.source.vendor} (signature ${def.source.signature})   events: ${def.source.events?.join(', ') ?? 'all'}`);
    console.log(`  drift policy   ${policy.default}${overrides.length ? `; ${overrides.join(', ')}` : ''}`);
    console.log(`  declared       ${shape.strict} strict fields, ${shape.observed} observed; not tracked: ${shape.openSubtrees.join(', ') || 'none'}`);
    if (shape.windows.length === 0) console.log('  migrations     none');
    for (const w of shape.windows) {
      if (w.expired) expired += 1;
      const state = w.expired ? `EXPIRED on ${w.until}` : `open until ${w.until} (${w.daysLeft} day${w.daysLeft === 1 ? '' : 's'} left)`;
      console.log(`  migration      ${cell(w.field, 28)} ${state}: ${w.reason}`);
    }
  }
  if (expired > 0) {
    console.error(`\n${expired} migration window(s) have expired: the widened shapes are drift again. Update the contract (and its version) or remove the window.`);
    return 1;
  }
  return 0;
}

const BARS = '▁▂▃▄▅▆▇█';

/** One character per day, scaled to the row's maximum; `·` for a day with none. */
export function sparkline(values: number[]): string {
  const max = Math.max(0, ...values);
  return values.map((v) => (v === 0 ? '·' : BARS[Math.min(BARS.length - 1, Math.ceil((v / max) * BARS.length) - 1)])).join('');
}

/** Rows of a drift history: one per contract version, field, kind and tolerance, with a count per day. */
export function driftRows(counts: DriftCount[], days: number, now: Date): Array<{ key: string; version: string; field: string; kind: string; tolerated: boolean; perDay: number[]; total: number; last: string; message: string }> {
  const dayList = Array.from({ length: days }, (_, i) => new Date(now.getTime() - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10));
  const rows = new Map<string, { key: string; version: string; field: string; kind: string; tolerated: boolean; perDay: number[]; total: number; last: string; message: string }>();
  for (const c of counts) {
    const index = dayList.indexOf(c.day);
    if (index < 0) continue;
    const key = `${c.contractVersion} ${c.field} ${c.kind} ${c.tolerated}`;
    const row = rows.get(key) ?? { key, version: c.contractVersion, field: c.field, kind: c.kind, tolerated: c.tolerated, perDay: dayList.map(() => 0), total: 0, last: c.day, message: c.message };
    row.perDay[index] += c.count;
    row.total += c.count;
    if (c.day >= row.last) {
      row.last = c.day;
      row.message = c.message;
    }
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => b.last.localeCompare(a.last) || b.total - a.total);
}

async function driftHistory(integration: string, days: number, table: string | undefined, now: Date): Promise<number> {
  const def = integrationOrThrow(integration);
  // A deployed stack's table by name, else the running local stack's (or the exported environment's).
  if (!table && !process.env.SEAMWORK_TABLE_DRIFT) useLocalState();
  const store = new DynamoDriftStore(table ?? process.env.SEAMWORK_TABLE_DRIFT!);
  const since = new Date(now.getTime() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const rows = driftRows(await store.list(def.name, since), days, now);
  console.log(`${def.name}: contract drift over the last ${days} day(s), ${since} → ${now.toISOString().slice(0, 10)} (one mark per day)`);
  if (rows.length === 0) {
    console.log('  none seen: every payload matched its contract.');
    return 0;
  }
  for (const r of rows) {
    console.log(`  ${sparkline(r.perDay)}  ${cell(r.total, 6)} ${cell(r.kind + (r.tolerated ? ' (migration)' : ''), 30)} ${cell(r.field, 32)} ${r.version}`);
    console.log(`  ${' '.repeat(days)}  last ${r.last}: ${r.message}`);
  }
  return 0;
}

function infer(folder: string, opts: { against?: string; out?: string; name?: string }, now: Date): number {
  const against = opts.against ? integrationOrThrow(opts.against) : undefined;
  const { payloads, skipped } = readPayloads(resolve(folder));
  for (const s of skipped) console.error(`skipped ${s}`);
  if (payloads.length === 0) throw new Error(`No JSON payloads in ${folder} (*.json, *.jsonl).`);
  const draft = inferContract(payloads, { origin: folder, name: opts.name });
  if (opts.out) {
    mkdirSync(dirname(resolve(opts.out)), { recursive: true });
    writeFileSync(opts.out, draft.source);
    console.log(`draft contract from ${draft.samples} payload(s) written to ${opts.out}`);
  } else {
    console.log(draft.source);
  }
  if (draft.optionalFields.length) console.error(`optional (absent from some payloads): ${draft.optionalFields.join(', ')}`);
  if (draft.mixedFields.length) console.error(`more than one type seen (ask the vendor): ${draft.mixedFields.join(', ')}`);
  if (!against) return 0;

  const def = against;
  const byField = new Map<string, { finding: DriftFinding; payloads: number }>();
  let drifted = 0;
  let unparseable = 0;
  for (const p of payloads) {
    const report = detectDrift(def.contract.schema, p, def.contract.drift, now);
    if (report.findings.length) drifted += 1;
    if (!def.contract.schema.safeParse(p).success) unparseable += 1;
    for (const f of report.findings) {
      const key = `${f.kind} ${f.field}`;
      const seen = byField.get(key);
      byField.set(key, { finding: seen?.finding ?? f, payloads: (seen?.payloads ?? 0) + 1 });
    }
  }
  console.error(`\nagainst ${def.name} (${def.contract.version}): ${drifted} of ${payloads.length} payload(s) drift, ${unparseable} would be rejected by the parse`);
  for (const { finding, payloads: n } of [...byField.values()].sort((a, b) => b.payloads - a.payloads)) {
    console.error(`  ${cell(n, 5)} ${cell(finding.kind, 20)} ${cell(finding.field, 34)} ${finding.message}`);
  }
  return 0;
}
