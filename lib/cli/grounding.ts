import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PLAYBOOK } from '../../lambdas/core/grounding/playbook.js';
import { buildCorpus, CORPUS_PATH, corpusJsonl, loadCorpus, measureCorpus, writeCorpus, type CorpusReport } from '../grounding-corpus.js';
import { UsageError } from './contracts.js';
import { escapeHtml as esc } from './format.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The measurement as a terminal table. */
export function renderCorpusReport(r: CorpusReport): string {
  const lines = [
    `Grounding corpus: ${r.outputs} model outputs (${r.clean} clean; ${Object.entries(r.byFault).filter(([k]) => k !== 'clean').map(([k, n]) => `${n} ${k}`).join(', ')})`,
    '',
    '  Each check alone on every output: detected = outputs with a fault of its kinds it fails; false positives = clean outputs it fails.',
    `  ${'step'.padEnd(5)}${'check'.padEnd(18)}${'exists for'.padEnd(62)} ${'detected'.padStart(14)}${'false positives'.padStart(18)}`,
  ];
  for (const c of r.checks) {
    const detected = c.faulted ? `${c.detected}/${c.faulted} ${pct(c.detectionRate)}` : 'no fault kind';
    lines.push(`  ${String(c.step).padEnd(5)}${c.check.padEnd(18)}${(c.kinds.join(', ') || '—').padEnd(62)} ${detected.padStart(14)}${`${c.falsePositives}/${c.clean} ${pct(c.falsePositiveRate)}`.padStart(18)}`);
  }
  lines.push(`  divergence is measured with a second sample of every output; the shipped policies draw one for high-stakes decisions only: ${r.divergenceSampled.sampled} of these ${r.divergenceSampled.of}.`);
  lines.push('', '  Through verify as it runs (all checks in order, the policy applied):', `  faulted outputs no check stopped: ${r.missed.length}${r.missed.length ? ` (${r.missed.slice(0, 5).join(', ')}${r.missed.length > 5 ? ', …' : ''})` : ''}`);
  lines.push(`  clean outputs a grounding check flagged: ${r.falseAlarms.length}${r.falseAlarms.length ? ` (${r.falseAlarms.slice(0, 5).map((f) => `${f.id}: ${f.flaggedBy.join('+')}`).join(', ')})` : ''}`);
  lines.push(`  verify's checks per output: p50 ${r.micros.p50.toFixed(0)} µs, p99 ${r.micros.p99.toFixed(0)} µs (first calls included; \`npm run bench\` measures warm)`);
  return lines.join('\n');
}

/** The measurement as a self-contained HTML page with a bar chart per check. */
export function corpusReportHtml(r: CorpusReport): string {
  const bar = (x: number, colour: string) => `<svg width="220" height="14"><rect width="220" height="14" fill="#eee"/><rect width="${(x * 220).toFixed(1)}" height="14" fill="${colour}"/></svg>`;
  const rows = r.checks.map((c) => `<tr><td>${c.step}</td><td>${esc(c.check)}</td><td>${esc(PLAYBOOK.find((s) => s.check === c.check)?.title)}</td><td>${esc(c.kinds.join(', '))}</td><td>${bar(c.detectionRate, '#16a34a')} ${c.detected}/${c.faulted} (${pct(c.detectionRate)})</td><td>${bar(c.falsePositiveRate, '#dc2626')} ${c.falsePositives}/${c.clean} (${pct(c.falsePositiveRate)})</td></tr>`).join('');
  return `<!doctype html><meta charset="utf-8"><title>Seamwork grounding corpus</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}</style>
<h1>Grounding checks on the labelled corpus</h1>
<p>${r.outputs} model outputs from the integrations' golden examples: ${r.clean} clean, the rest with one injected fault each (${esc(Object.entries(r.byFault).filter(([k]) => k !== 'clean').map(([k, n]) => `${n} ${k}`).join(', '))}). Faulted outputs no check stopped: <b>${r.missed.length}</b>. Clean outputs flagged: <b>${r.falseAlarms.length}</b>.</p>
<table><tr><th>step</th><th>check</th><th>playbook</th><th>exists for</th><th>detection</th><th>false positives</th></tr>${rows}</table>
<p>Verify's checks per output: p50 ${r.micros.p50.toFixed(0)} µs, p99 ${r.micros.p99.toFixed(0)} µs.</p>`;
}

/**
 * `seamwork grounding measure [--out DIR]`: Layer 4's deterministic checks on the committed corpus.
 * `seamwork grounding corpus [--write | --check]`: rebuild the corpus from the golden sets and the
 * reference model's fault injector (--write replaces the committed file; --check exits 1 when it
 * is stale).
 */
export async function groundingCommand(args: string[]): Promise<number> {
  const [sub = 'measure', ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { out: { type: 'string' }, write: { type: 'boolean' }, check: { type: 'boolean' } }, allowPositionals: false });
  const progress = (done: number, total: number) => {
    if (done % 25 === 0 || done === total) process.stderr.write(`  building: example ${done}/${total}\n`);
  };
  if (sub === 'corpus') {
    const corpus = await buildCorpus(progress);
    if (values.check) {
      const { readFileSync } = await import('node:fs');
      const same = readFileSync(CORPUS_PATH, 'utf8') === corpusJsonl(corpus);
      console.log(same ? `${CORPUS_PATH} is up to date (${corpus.length} outputs).` : `${CORPUS_PATH} is stale: run \`seamwork grounding corpus --write\`.`);
      return same ? 0 : 1;
    }
    if (values.write) {
      writeCorpus(corpus);
      console.log(`Wrote ${corpus.length} outputs to ${CORPUS_PATH}.`);
    } else console.log(`${corpus.length} outputs built (use --write to replace ${CORPUS_PATH}).`);
    return 0;
  }
  if (sub !== 'measure') throw new UsageError(`grounding ${sub}: expected "measure" or "corpus"`);
  process.stderr.write(`  judging ${CORPUS_PATH}…\n`);
  const report = measureCorpus(loadCorpus());
  console.log(renderCorpusReport(report));
  const dir = values.out ?? join(process.cwd(), '.seamwork', 'grounding');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.html'), corpusReportHtml(report));
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report, null, 2));
  console.log(`\n  report: ${join(dir, 'report.html')}`);
  return report.missed.length === 0 && report.falseAlarms.length === 0 ? 0 : 1;
}
