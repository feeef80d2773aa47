import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, platform, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchRunner, BenchSection } from './types.js';
import { escapeHtml as esc } from '../cli/format.js';

// The SDK's Node-22 notice and Powertools logs would drown the progress lines.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

/**
 * `npm run bench [-- --quick] [--only core-cpu,e2e,…] [--out DIR]`: what every event costs in
 * money and time. Runs each section in turn with progress on stderr, prints a table per section
 * with its targets (met or MISSED, plainly), and writes JSON, markdown and an HTML report with
 * charts. Full runs write to docs/benchmarks/ (committed, with the machine they came from);
 * `--quick` runs a tiny sample into .seamwork/bench/ — the suite uses it to check the harness,
 * never the figures.
 */

/** The sections, in the order they run; each module exports `run`. */
export const SECTIONS: Array<{ id: string; load: () => Promise<BenchRunner> }> = [
  { id: 'core-cpu', load: async () => (await import('./core-cpu.js')).run },
  { id: 'bundles', load: async () => (await import('./bundles.js')).run },
  { id: 'grounding', load: async () => (await import('./grounding.js')).run },
  { id: 'tokens', load: async () => (await import('./tokens.js')).run },
  { id: 'e2e', load: async () => (await import('./e2e.js')).run },
  { id: 'aws-requests', load: async () => (await import('./aws-requests.js')).run },
];

/** The machine a run came from: figures only mean something next to it. */
export function machine(): Record<string, string | number> {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), freeGiB: Math.round(freemem() / 2 ** 30),
    os: `${platform()} ${release()}`, node: process.version, commit,
  };
}

/** A section as an aligned text table with its targets. */
export function renderText(s: BenchSection): string {
  const lines = [`\n== ${s.title} ==`];
  if (s.rows.length > 0) {
    const keys = Object.keys(s.rows[0]);
    const width = keys.map((k) => Math.max(k.length, ...s.rows.map((r) => String(r[k] ?? '').length)));
    lines.push(keys.map((k, i) => k.padEnd(width[i])).join('  '));
    for (const r of s.rows) lines.push(keys.map((k, i) => String(r[k] ?? '').padEnd(width[i])).join('  '));
  }
  for (const t of s.targets) lines.push(`${t.met ? 'met    ' : 'MISSED '} ${t.what}: ${t.actual} (target ${t.target})${t.met || !t.note ? '' : ` — ${t.note}`}`);
  for (const n of s.notes) lines.push(`  · ${n}`);
  return lines.join('\n');
}

/** The whole run as markdown. */
export function renderMarkdown(sections: BenchSection[], m: Record<string, string | number>, at: string, quick: boolean): string {
  const out = [`# Seamwork benchmarks`, '', `${quick ? '**Quick run (tiny samples; figures not meaningful).** ' : ''}Run ${at} on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, commit ${m.commit}. Reproduce with \`npm run bench\`.`, ''];
  const all = sections.flatMap((s) => s.targets.map((t) => ({ s, t })));
  if (all.length) {
    out.push('| section | target | actual | met |', '|---|---|---|---|');
    for (const { s, t } of all) out.push(`| ${s.title} | ${t.what}: ${t.target} | ${t.actual} | ${t.met ? 'yes' : `**no** — ${t.note ?? ''}`} |`);
    out.push('');
  }
  for (const s of sections) {
    out.push(`## ${s.title}`, '');
    if (s.rows.length) {
      const keys = Object.keys(s.rows[0]);
      out.push(`| ${keys.join(' | ')} |`, `|${keys.map(() => '---').join('|')}|`);
      for (const r of s.rows) out.push(`| ${keys.map((k) => String(r[k] ?? '')).join(' | ')} |`);
      out.push('');
    }
    for (const n of s.notes) out.push(`- ${n}`);
    out.push('');
  }
  return out.join('\n');
}


/** A horizontal bar chart (inline SVG) of a section's last numeric column, one bar per row. */
export function barChart(s: BenchSection): string {
  if (s.rows.length === 0) return '';
  const keys = Object.keys(s.rows[0]);
  const numeric = keys.filter((k) => s.rows.every((r) => typeof r[k] === 'number' && Number.isFinite(r[k])));
  const value = numeric.at(-1);
  if (!value) return '';
  const labelKeys = keys.filter((k) => typeof s.rows[0][k] === 'string');
  const max = Math.max(...s.rows.map((r) => r[value] as number), 0) || 1;
  const rowH = 18;
  const bars = s.rows.map((r, i) => {
    const w = Math.max(1, Math.round(((r[value] as number) / max) * 420));
    const label = labelKeys.map((k) => r[k]).join(' · ');
    return `<g transform="translate(0,${i * rowH})"><text x="0" y="13" font-size="11">${esc(label)}</text><rect x="260" y="3" width="${w}" height="12" fill="#4a78c2"/><text x="${266 + w}" y="13" font-size="11">${esc(r[value])}</text></g>`;
  });
  return `<p>${esc(value)}</p><svg xmlns="http://www.w3.org/2000/svg" width="760" height="${s.rows.length * rowH + 4}" font-family="sans-serif">${bars.join('')}</svg>`;
}

/** The whole run as a self-contained HTML report (no scripts, no network). */
export function renderHtml(sections: BenchSection[], markdownIntro: string): string {
  const body = sections.map((s) => {
    const keys = s.rows.length ? Object.keys(s.rows[0]) : [];
    const table = keys.length ? `<table><tr>${keys.map((k) => `<th>${esc(k)}</th>`).join('')}</tr>${s.rows.map((r) => `<tr>${keys.map((k) => `<td>${esc(r[k] ?? '')}</td>`).join('')}</tr>`).join('')}</table>` : '';
    const targets = s.targets.map((t) => `<li class="${t.met ? 'met' : 'missed'}">${t.met ? 'met' : 'MISSED'} — ${esc(t.what)}: ${esc(t.actual)} (target ${esc(t.target)})${t.note ? ` — ${esc(t.note)}` : ''}</li>`).join('');
    return `<h2>${esc(s.title)}</h2><ul>${targets}</ul>${barChart(s)}${table}<ul>${s.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`;
  }).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Seamwork benchmarks</title><style>body{font-family:sans-serif;max-width:980px;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}.missed{color:#b00}.met{color:#070}</style></head><body><h1>Seamwork benchmarks</h1><p>${esc(markdownIntro)}</p>${body}</body></html>`;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { quick: { type: 'boolean' }, only: { type: 'string' }, out: { type: 'string' } } });
  const quick = Boolean(values.quick);
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only?.filter((id) => !SECTIONS.some((s) => s.id === id));
  if (unknown?.length) {
    console.error(`bench: no section ${unknown.join(', ')} (sections: ${SECTIONS.map((s) => s.id).join(', ')})`);
    return 2;
  }
  const outDir = resolve(values.out ?? (quick ? join('.seamwork', 'bench') : join('docs', 'benchmarks')));
  const m = machine();
  const at = new Date().toISOString();
  const sections: BenchSection[] = [];
  for (const spec of SECTIONS.filter((s) => !only || only.includes(s.id))) {
    const started = Date.now();
    process.stderr.write(`bench: ${spec.id}…\n`);
    const run = await spec.load();
    const section = await run({ quick, progress: (msg) => process.stderr.write(`  ${spec.id}: ${msg}\n`) });
    process.stderr.write(`bench: ${spec.id} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    sections.push(section);
    console.log(renderText(section));
  }
  mkdirSync(outDir, { recursive: true });
  const md = renderMarkdown(sections, m, at, quick);
  writeFileSync(join(outDir, 'results.json'), JSON.stringify({ at, quick, machine: m, sections }, null, 2) + '\n');
  writeFileSync(join(outDir, 'results.md'), md);
  writeFileSync(join(outDir, 'results.html'), renderHtml(sections, md.split('\n')[2] ?? ''));
  const missed = sections.flatMap((s) => s.targets.filter((t) => !t.met).map((t) => `${s.id}: ${t.what}`));
  console.log(`\n${missed.length ? `targets MISSED: ${missed.join('; ')}` : 'every target met'}.\nWritten: ${join(outDir, 'results.md')}, results.json, results.html`);
  return 0;
}

// Run when executed, not when imported by the tests.
if (process.argv[1] && resolve(process.argv[1]).endsWith(join('lib', 'bench', 'run.ts'))) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
