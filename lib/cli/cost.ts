import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ENV } from '../../lambdas/core/config-keys.js';
import { buildCostReport, commonCap, daysOverCap, readLedger, type CostReport, type DaySeries, type ReservationView } from '../cost-report.js';
import { UsageError } from './contracts.js';
import { cell } from './format.js';
import { useLocalState } from './state.js';
import { escapeHtml as esc } from './format.js';

/**
 * `seamwork cost [--days 30] [--tenant T] [--integration I] [--html FILE] [--table LEDGER_TABLE]`
 *
 * Spend from the cost ledger: per tenant today against its daily cap and this month against its
 * monthly cap, per integration and globally today against their caps, a chart of the window
 * (total, and the top tenants), and the reservations outstanding — EXPIRED ones are invocations
 * that died before reconciling and that the sweeper has not released yet. Reads the running local
 * stack's ledger, the exported SEAMWORK_TABLE_LEDGER, or a deployed stack's table with `--table`
 * and your AWS credentials. Read-only.
 */
export async function costCommand(args: string[], now = new Date()): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: { days: { type: 'string', default: '30' }, tenant: { type: 'string' }, integration: { type: 'string' }, html: { type: 'string' }, table: { type: 'string' } },
  });
  if (positionals.length > 0) throw new UsageError(`cost takes no arguments (got ${positionals.join(' ')}); narrow it with --tenant or --integration`);
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) throw new UsageError(`--days is a whole number of days from 1 to ${MAX_DAYS} (one chart column each), got "${values.days}"`);
  for (const flag of ['tenant', 'integration'] as const) {
    const v = values[flag];
    if (v !== undefined && (v === '' || v.includes('#'))) throw new UsageError(`--${flag} names a ${flag} (never empty, never containing "#"), got "${v}"`);
  }
  if (values.tenant && values.integration) throw new UsageError('--tenant and --integration cannot be combined: the ledger keeps no per-tenant total within an integration');
  // A deployed stack's table by name, else the running local stack's (or the exported environment's).
  if (!values.table && !process.env[ENV.TABLE_LEDGER]) useLocalState();
  const table = values.table ?? process.env[ENV.TABLE_LEDGER]!;

  const report = buildCostReport(await readLedger(table), { days, now, tenant: values.tenant, integration: values.integration });
  for (const line of renderCostText(report, table)) console.log(line);
  if (report.unreadable.length > 0) {
    console.error(`\n${report.unreadable.length} ledger item(s) with a key this version cannot read were left out: ${report.unreadable.slice(0, 5).join(', ')}${report.unreadable.length > 5 ? ', …' : ''}`);
  }
  if (values.html) {
    const file = resolve(values.html);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, renderCostHtml(report, table));
    console.log(`\nHTML report: ${file}`);
  }
  return 0;
}

/** The widest window: one terminal column per day has to fit a screen. */
export const MAX_DAYS = 90;

/** A cap is drawn on a chart when the peak reaches a tenth of it; further off it would flatten every bar. */
export const CAP_IN_VIEW = 10;

/**
 * Micro-dollars as dollars, with as many decimals as the amount needs (at least two, at most
 * six): `$5.00`, `$0.001234`, `$12.50`.
 */
export function formatUsd(micro: number): string {
  const sign = micro < 0 ? '-' : '';
  const abs = Math.round(Math.abs(micro));
  const frac = String(abs % 1_000_000).padStart(6, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${sign}$${Math.floor(abs / 1_000_000)}.${frac}`;
}

/** `spent` as a share of `cap`, flagged when over. */
export function formatShare(spent: number, cap: number | undefined): string {
  if (cap === undefined || cap <= 0) return 'no cap';
  const p = (spent / cap) * 100;
  const text = spent > 0 && p < 0.1 ? '<0.1%' : `${p.toFixed(1)}%`;
  return spent > cap ? `${text} OVER` : text;
}

/** The smallest of 1, 2, 2.5, 5 × 10^k at or above `v`: a round number for the top of a scale. */
export function niceCeil(v: number): number {
  if (v <= 0) return 0;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return Math.ceil(m * p);
  return Math.ceil(10 * p);
}

/** The top of a chart's scale, and which caps are drawn on it (those within {@link CAP_IN_VIEW} of the peak). */
export function chartScale(peak: number, caps: number[]): { top: number; shown: number[]; offScale: number[] } {
  const shown = caps.filter((c) => c > 0 && peak * CAP_IN_VIEW >= c);
  return { top: niceCeil(Math.max(peak, ...shown)), shown, offScale: caps.filter((c) => !shown.includes(c)) };
}

const BLOCKS = ' ▁▂▃▄▅▆▇█';

/**
 * A bar chart of a series for the terminal: one column per day, `height` rows of block characters
 * (eighths), the scale's top and `$0` on the y-axis, the cap as a `─` line when every day carried
 * the same cap, and `!` under the days over their cap. Any spend shows as at least one eighth.
 */
export function renderBarChart(series: DaySeries, days: string[], height: number): string[] {
  const values = series.perDay.map((v) => Math.max(0, v));
  const peak = Math.max(0, ...values);
  if (peak === 0) return ['  (no spend in the window)'];
  const cap = commonCap(series);
  const { top, shown, offScale } = chartScale(peak, cap.capMicro !== undefined ? [cap.capMicro] : []);
  const eighths = values.map((v) => (v === 0 ? 0 : Math.max(1, Math.round((v / top) * height * 8))));
  const capRow = shown.length ? Math.min(height - 1, Math.max(0, Math.ceil((shown[0] / top) * height) - 1)) : -1;
  const gutter = Math.max(formatUsd(top).length, 2);
  const lines: string[] = [];
  for (let r = height - 1; r >= 0; r -= 1) {
    const cells = eighths.map((e) => {
      const fill = Math.min(8, Math.max(0, e - r * 8));
      return fill === 0 && r === capRow ? '─' : BLOCKS[fill];
    }).join('');
    const label = r === height - 1 ? formatUsd(top) : '';
    lines.push(`${label.padStart(gutter)} ${label ? '┤' : '│'}${cells}${r === capRow ? ` cap ${formatUsd(shown[0])}/day` : ''}`.trimEnd());
  }
  lines.push(`${'$0'.padStart(gutter)} └${'─'.repeat(days.length)}`);
  const over = daysOverCap(series);
  if (over.some(Boolean)) lines.push(`${' '.repeat(gutter + 2)}${over.map((o) => (o ? '!' : ' ')).join('')}  (!: over that day's cap)`);
  const first = days[0].slice(5);
  const last = days[days.length - 1].slice(5);
  lines.push(`${' '.repeat(gutter + 2)}${days.length >= first.length + last.length + 1 ? first + last.padStart(days.length - first.length) : first}`);
  if (offScale.length) lines.push(`${' '.repeat(gutter + 2)}cap ${formatUsd(offScale[0])}/day is off the scale: the peak is ${formatShare(peak, offScale[0])} of it`);
  if (cap.varies) lines.push(`${' '.repeat(gutter + 2)}cap changed within the window (${cap.caps.map(formatUsd).join(', ')} per day): not drawn`);
  return lines;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** `peak $X on D, 30-day total $Y` for a chart's title. */
function summary(s: DaySeries, days: string[]): string {
  const peak = Math.max(...s.perDay);
  return `peak ${formatUsd(peak)} on ${days[s.perDay.indexOf(peak)]}, ${days.length}-day total ${formatUsd(sum(s.perDay))}`;
}

/** How long ago (or how far ahead), compactly: `45s`, `12m`, `3h`, `2d`. */
export function formatAge(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172_800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`;
}

/** A reservation's state: live with the time left, or EXPIRED with how long ago. */
export function reservationState(r: ReservationView): string {
  return r.expired ? `EXPIRED ${formatAge(-r.expiresInSeconds)} ago: not released by the sweeper yet` : `live, expires in ${formatAge(r.expiresInSeconds)}`;
}

/** The terminal report, line by line. */
export function renderCostText(r: CostReport, table: string): string[] {
  const out: string[] = [];
  const t = r.now.toISOString();
  out.push(`Spend from the cost ledger ${table}, ${r.days[0]} → ${r.today} (UTC), as of ${t.slice(0, 10)} ${t.slice(11, 16)} UTC`);
  out.push('Spend includes reservations until their calls reconcile (or the sweeper releases them).');
  const n = r.days.length;

  if (r.filter.integration === undefined) {
    out.push('');
    if (r.tenants.length === 0) {
      out.push(r.filter.tenant
        ? `No ledger spend for tenant "${r.filter.tenant}" (tenants in the ledger: ${r.seen.tenants.join(', ') || 'none'}).`
        : 'No tenant spend in the window.');
    } else {
      out.push(`${cell('TENANT', 34)} ${cell('TODAY', 12)} ${cell('DAY CAP', 10)} ${cell('USED', 10)} ${cell('MONTH', 12)} ${cell('MONTH CAP', 10)} ${cell('USED', 10)} ${n} DAYS`);
      for (const x of r.tenants) {
        out.push(`${cell(x.tenant, 34)} ${cell(formatUsd(x.todayMicro), 12)} ${cell(x.dayCapMicro !== undefined ? formatUsd(x.dayCapMicro) : '-', 10)} ${cell(formatShare(x.todayMicro, x.dayCapMicro), 10)} ` +
          `${cell(formatUsd(x.monthMicro), 12)} ${cell(x.monthCapMicro !== undefined ? formatUsd(x.monthCapMicro) : '-', 10)} ${cell(formatShare(x.monthMicro, x.monthCapMicro), 10)} ${formatUsd(x.windowMicro)}`);
      }
    }
  }
  if (r.filter.tenant === undefined) {
    out.push('');
    if (r.integrations.length === 0) {
      out.push(r.filter.integration
        ? `No ledger spend for integration "${r.filter.integration}" in the window (integrations in the ledger: ${r.seen.integrations.join(', ') || 'none'}).`
        : 'No integration spend in the window.');
    } else {
      out.push(`${cell('INTEGRATION', 34)} ${cell('TODAY', 12)} ${cell('DAY CAP', 10)} ${cell('USED', 10)} ${n} DAYS`);
      for (const x of r.integrations) {
        out.push(`${cell(x.name, 34)} ${cell(formatUsd(x.todayMicro), 12)} ${cell(x.dayCapMicro !== undefined ? formatUsd(x.dayCapMicro) : '-', 10)} ${cell(formatShare(x.todayMicro, x.dayCapMicro), 10)} ${formatUsd(x.windowMicro)}`);
      }
    }
  }
  if (r.global) {
    const g = r.global;
    out.push('');
    out.push(`${cell('GLOBAL', 34)} ${cell(formatUsd(g.todayMicro), 12)} ${cell(g.dayCapMicro !== undefined ? formatUsd(g.dayCapMicro) : '-', 10)} ${cell(formatShare(g.todayMicro, g.dayCapMicro), 10)} ${formatUsd(g.windowMicro)}`);
  }
  if (r.filter.tenant) out.push('', 'Integration and global totals are not kept per tenant: run without --tenant to see them.');
  if (r.filter.integration) out.push('', 'Tenant totals are not kept per integration: run without --integration to see them.');

  out.push('');
  const scope = r.filter.tenant ? `tenant ${r.filter.tenant}` : r.filter.integration ? `integration ${r.filter.integration}` : 'all tenants';
  if (sum(r.total.perDay) > 0) out.push(`Spend per day, ${scope}: ${summary(r.total, r.days)}`);
  else out.push(`Spend per day, ${scope}:`);
  out.push(...renderBarChart(r.total, r.days, 8));
  if (!r.filter.tenant && !r.filter.integration && r.stack.length > 0) {
    out.push('', `Per tenant (the top 5 by spend over the window${r.stack.length > 5 ? ', the rest summed' : ''}):`);
    for (const s of r.stack) {
      out.push(`${s.label}: ${summary(s, r.days)}`);
      out.push(...renderBarChart(s, r.days, 4));
    }
  }

  out.push('');
  if (r.reservations.length === 0) {
    out.push('No reservations outstanding: every call has reconciled.');
  } else {
    const expired = r.reservations.filter((x) => x.expired).length;
    out.push(`Reservations outstanding: ${r.reservations.length}, ${formatUsd(r.reservedMicro)} reserved${expired ? ` (${expired} EXPIRED: invocations that died before reconciling)` : ''}`);
    out.push(`${cell('DECISION', 28)} ${cell('TENANT', 28)} ${cell('INTEGRATION', 22)} ${cell('AMOUNT', 12)} ${cell('AGE', 5)} STATE`);
    for (const x of r.reservations) {
      out.push(`${cell(x.decisionId, 28)} ${cell(x.tenant, 28)} ${cell(x.integration, 22)} ${cell(formatUsd(x.reservedMicro), 12)} ${cell(formatAge(x.ageSeconds), 5)} ${reservationState(x)}`);
    }
  }
  return out;
}

const COLOURS = ['#3b82f6', '#f59e0b', '#10b981', '#8b5cf6', '#ec4899', '#9ca3af'];

/**
 * The stacked daily chart as inline SVG: one `<g class="day">` per day with spend, a segment per
 * series, the scope's cap (and the tenants' shared daily cap) as `<line class="cap">`.
 */
export function renderCostSvg(r: CostReport): string {
  const n = r.days.length;
  const slot = Math.min(40, Math.max(6, Math.floor(720 / n)));
  const left = 80, topPad = 16, plotH = 220, w = left + n * slot + 170, h = topPad + plotH + 40;
  const stacked = r.days.map((_, i) => sum(r.stack.map((s) => Math.max(0, s.perDay[i]))));
  const peak = Math.max(0, ...stacked, ...r.total.perDay);
  const scopeCap = commonCap(r.total).capMicro;
  const tenantCaps = !r.filter.tenant && !r.filter.integration ? [...new Set(r.tenants.map((t) => commonCap(t.series)).map((c) => c.capMicro))] : [];
  const tenantCap = tenantCaps.length === 1 ? tenantCaps[0] : undefined;
  const caps = [
    ...(scopeCap !== undefined ? [{ micro: scopeCap, label: r.filter.tenant ? 'tenant cap' : r.filter.integration ? 'integration cap' : 'global cap', cls: 'cap' }] : []),
    ...(tenantCap !== undefined ? [{ micro: tenantCap, label: 'tenant daily cap', cls: 'cap tenant-cap' }] : []),
  ];
  const { top, shown } = chartScale(peak, caps.map((c) => c.micro));
  if (top === 0) return '<p>No spend in the window.</p>';
  const y = (v: number) => topPad + plotH - (v / top) * plotH;
  const parts: string[] = [];
  for (const v of [0, top / 2, top]) {
    parts.push(`<line x1="${left}" x2="${left + n * slot}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e7eb"/><text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${esc(formatUsd(v))}</text>`);
  }
  const overDays = daysOverCap(r.total);
  r.days.forEach((day, i) => {
    // A label each week and on the last day, never two crowding each other.
    if ((i % 7 === 0 && n - 1 - i >= 4) || i === n - 1) parts.push(`<text x="${left + i * slot + slot / 2}" y="${topPad + plotH + 16}" text-anchor="middle">${esc(day.slice(5))}</text>`);
    if (stacked[i] <= 0) return;
    let base = 0;
    const rects = r.stack.map((s, k) => {
      const v = Math.max(0, s.perDay[i]);
      if (v === 0) return '';
      const rect = `<rect x="${left + i * slot + 1}" y="${y(base + v).toFixed(2)}" width="${Math.max(1, slot - 2)}" height="${Math.max(0.5, y(base) - y(base + v)).toFixed(2)}" fill="${COLOURS[k % COLOURS.length]}"><title>${esc(s.label)}: ${esc(formatUsd(v))}</title></rect>`;
      base += v;
      return rect;
    }).join('');
    const over = overDays[i] ? `<text class="over" x="${left + i * slot + slot / 2}" y="${(y(base) - 4).toFixed(1)}" text-anchor="middle" fill="#b91c1c">!</text>` : '';
    parts.push(`<g class="day${overDays[i] ? ' over' : ''}" data-day="${day}"><title>${day}: ${esc(formatUsd(stacked[i]))}${overDays[i] ? ' (over the cap)' : ''}</title>${rects}${over}</g>`);
  });
  for (const c of caps.filter((x) => shown.includes(x.micro))) {
    parts.push(`<line class="${c.cls}" x1="${left}" x2="${left + n * slot}" y1="${y(c.micro).toFixed(1)}" y2="${y(c.micro).toFixed(1)}" stroke="#b91c1c" stroke-width="1.5"${c.cls.includes('tenant') ? ' stroke-dasharray="6 3"' : ''}/>` +
      `<text x="${left + n * slot + 6}" y="${(y(c.micro) + 4).toFixed(1)}" fill="#b91c1c">${esc(c.label)} ${esc(formatUsd(c.micro))}/day</text>`);
  }
  const legend = r.stack.map((s, k) => `<g transform="translate(${left + n * slot + 10},${topPad + 40 + k * 18})"><rect width="10" height="10" fill="${COLOURS[k % COLOURS.length]}"/><text x="16" y="10">${esc(s.label)}</text></g>`).join('');
  const off = caps.filter((x) => !shown.includes(x.micro)).map((c) => `${c.label} ${formatUsd(c.micro)}/day is off the scale (peak ${formatShare(peak, c.micro)} of it)`);
  return `<svg width="${w}" height="${h}" role="img" aria-label="Spend per day">${parts.join('')}${legend}</svg>${off.length ? `<p class="note">${esc(off.join('; '))}.</p>` : ''}`;
}

/** A self-contained HTML report (inline SVG and CSS, nothing fetched): the chart and every table. */
export function renderCostHtml(r: CostReport, table: string): string {
  const scope = r.filter.tenant ? `tenant ${r.filter.tenant}` : r.filter.integration ? `integration ${r.filter.integration}` : 'all tenants';
  const money = (v: number | undefined) => (v === undefined ? '-' : esc(formatUsd(v)));
  const share = (s: number, c: number | undefined) => `<td class="${c !== undefined && s > c ? 'bad' : ''}">${esc(formatShare(s, c))}</td>`;
  const tenants = r.tenants.length
    ? `<h2>Tenants</h2><table><tr><th>tenant</th><th>today</th><th>daily cap</th><th>used</th><th>this month</th><th>monthly cap</th><th>used</th><th>${r.days.length} days</th></tr>${r.tenants
      .map((t) => `<tr><td>${esc(t.tenant)}</td><td>${money(t.todayMicro)}</td><td>${money(t.dayCapMicro)}</td>${share(t.todayMicro, t.dayCapMicro)}<td>${money(t.monthMicro)}</td><td>${money(t.monthCapMicro)}</td>${share(t.monthMicro, t.monthCapMicro)}<td>${money(t.windowMicro)}</td></tr>`)
      .join('')}</table>`
    : '';
  const daily = [...r.integrations.map((i) => ({ ...i, kind: 'integration' })), ...(r.global ? [{ ...r.global, name: 'global', kind: 'global' }] : [])];
  const integrations = daily.length
    ? `<h2>Integrations and global</h2><table><tr><th>scope</th><th>today</th><th>daily cap</th><th>used</th><th>${r.days.length} days</th></tr>${daily
      .map((d) => `<tr class="${d.kind}"><td>${esc(d.name)}</td><td>${money(d.todayMicro)}</td><td>${money(d.dayCapMicro)}</td>${share(d.todayMicro, d.dayCapMicro)}<td>${money(d.windowMicro)}</td></tr>`)
      .join('')}</table>`
    : '';
  const reservations = r.reservations.length
    ? `<table><tr><th>decision</th><th>tenant</th><th>integration</th><th>amount</th><th>age</th><th>state</th></tr>${r.reservations
      .map((x) => `<tr class="${x.expired ? 'bad' : ''}"><td>${esc(x.decisionId)}</td><td>${esc(x.tenant)}</td><td>${esc(x.integration)}</td><td>${money(x.reservedMicro)}</td><td>${esc(formatAge(x.ageSeconds))}</td><td>${esc(reservationState(x))}</td></tr>`)
      .join('')}</table>`
    : '<p>None: every call has reconciled.</p>';
  return `<!doctype html><meta charset="utf-8"><title>Seamwork spend — ${esc(scope)}, ${esc(r.days[0])} → ${esc(r.today)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:1200px}td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}.bad{color:#b91c1c}svg text{font:11px system-ui}.note{color:#555}</style>
<h1>Spend, ${esc(scope)}: ${esc(r.days[0])} → ${esc(r.today)} (UTC)</h1>
<p>Cost ledger ${esc(table)} as of ${esc(r.now.toISOString())}. Spend includes reservations until their calls reconcile (or the sweeper releases them).</p>
<h2>Spend per day${r.filter.tenant || r.filter.integration ? '' : ' by tenant (top 5, the rest summed)'}</h2>
${renderCostSvg(r)}
${tenants}
${integrations}
<h2>Reservations outstanding (${r.reservations.length}, ${money(r.reservedMicro)})</h2>
${reservations}
`;
}
