import type { EvalBaseline, EvalReport } from '../../lambdas/core/eval/score.js';
import { escapeHtml as esc } from './format.js';


/** A self-contained HTML report: per-field accuracy bars, the score trend, and every miss. */
export function renderEvalHtml(r: EvalReport, baseline: EvalBaseline | undefined, history: Array<{ score: number; at: string; path: string }>): string {
  const showBaseline = r.path === 'ai' ? baseline : undefined;
  const bars = Object.entries(r.fieldAccuracy)
    .map(([k, v], i) => `<g transform="translate(0,${i * 28})"><text x="0" y="16">${esc(k)}</text><rect x="150" y="2" width="${(v * 400).toFixed(1)}" height="18" fill="#3b82f6"/>` +
      `${showBaseline?.fieldAccuracy[k] !== undefined ? `<line x1="${150 + showBaseline.fieldAccuracy[k] * 400}" x2="${150 + showBaseline.fieldAccuracy[k] * 400}" y1="0" y2="22" stroke="#111" stroke-dasharray="3"/>` : ''}` +
      `<text x="${160 + v * 400}" y="16">${(v * 100).toFixed(1)}%</text></g>`)
    .join('');
  const ai = history.filter((h) => h.path === r.path).slice(-30);
  const w = 560, h = 160;
  const xy = ai.map((p, i) => [ai.length === 1 ? w / 2 : (i / (ai.length - 1)) * (w - 70) + 50, h - 20 - (p.score / 100) * (h - 40)] as const);
  const pts = xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  const dots = xy.map(([x, y], i) => `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="#3b82f6"><title>${esc(ai[i].at)}: ${ai[i].score}</title></circle>`).join('');
  const axis = [0, 50, 100].map((v) => `<text x="4" y="${(h - 20 - (v / 100) * (h - 40) + 4).toFixed(1)}">${v}</text><line x1="40" x2="${w}" y1="${(h - 20 - (v / 100) * (h - 40)).toFixed(1)}" y2="${(h - 20 - (v / 100) * (h - 40)).toFixed(1)}" stroke="#eee"/>`).join('');
  const baseY = showBaseline ? h - 20 - (showBaseline.score / 100) * (h - 40) : undefined;
  const rows = r.results
    .map((x) => `<tr class="${x.failedLayer ? 'miss' : ''}"><td>${esc(x.id)}</td><td>${esc(x.outcome)}</td>${Object.values(x.fields).map((f) => `<td class="${f.ok ? 'ok' : 'bad'}">${esc(f.actual)}${f.ok ? '' : ` <small>(want ${esc(f.expected)})</small>`}</td>`).join('')}<td>${x.grounded ? '✓' : '✗'}</td><td>${esc(x.failedLayer ?? '')}</td><td>${esc(x.reason ?? '')}</td></tr>`)
    .join('\n');
  return `<!doctype html><meta charset="utf-8"><title>Seamwork eval — ${esc(r.integration)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:1100px}td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}.bad{color:#b91c1c}.ok{color:#166534}tr.miss{background:#fff7ed}svg text{font:12px system-ui}</style>
<h1>Eval: ${esc(r.integration)}, ${r.path === 'ai' ? 'AI path' : 'baseline (non-AI) path'} — score ${r.score}${baseline && r.path === 'ai' ? ` <small>(committed baseline ${baseline.score})</small>` : ''}</h1>
<p>${r.examples} golden examples · path ${esc(r.path)} · model ${esc(r.model)} · grounding pass ${(r.groundingPassRate * 100).toFixed(1)}% · abstain correct ${r.abstain.correct}/${r.examples} · ${r.tokens.input}/${r.tokens.output} tokens · $${r.costUsd.toFixed(5)} · ${esc(r.at)}</p>
<h2>Per-field accuracy${baseline && r.path === 'ai' ? ' <small>(dashed: committed baseline)</small>' : ''}</h2>
<svg width="640" height="${Object.keys(r.fieldAccuracy).length * 28}">${bars}</svg>
<h2>Score trend, ${r.path} path (last ${ai.length} run${ai.length === 1 ? '' : 's'}, oldest left)</h2>
<svg width="${w}" height="${h}" style="border:1px solid #eee">${axis}<polyline fill="none" stroke="#3b82f6" stroke-width="2" points="${pts}"/>${dots}${baseY !== undefined ? `<line x1="0" x2="${w}" y1="${baseY}" y2="${baseY}" stroke="#111" stroke-dasharray="4"/><text x="4" y="${baseY - 4}">baseline ${showBaseline!.score}</text>` : ''}</svg>
<h2>Examples</h2>
<table><tr><th>id</th><th>pipeline outcome</th>${Object.keys(r.fieldAccuracy).map((k) => `<th>${esc(k)}</th>`).join('')}<th>grounded</th><th>failed layer</th><th>why</th></tr>
${rows}</table>`;
}
