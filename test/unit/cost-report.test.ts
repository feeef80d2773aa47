import { describe, expect, it } from 'vitest';
import { chartScale, formatShare, formatUsd, niceCeil, renderBarChart, renderCostHtml, renderCostText } from '../../lib/cli/cost.js';
import { buildCostReport, commonCap, dayWindow, parseLedgerItems, parseScopeKey, topSeries, type DaySeries } from '../../lib/cost-report.js';

const NOW = new Date('2026-03-10T14:00:00Z');
const epoch = (d: Date) => Math.floor(d.getTime() / 1000);
const scope = (key: string, spentMicro: number, capMicro?: number) => ({ pk: `ledger#${key}`, spentMicro, ...(capMicro !== undefined ? { capMicro } : {}) });
const series = (perDay: number[], cap?: number | Array<number | undefined>): DaySeries => ({
  label: 's', perDay, capPerDay: Array.isArray(cap) ? cap : perDay.map(() => cap),
});
/** The chart's rows above the axis, without the y-axis gutter. */
const plotRows = (lines: string[]) => lines.slice(0, lines.findIndex((l) => l.includes('└'))).map((l) => l.slice(l.search(/[┤│]/) + 1));

describe('parseScopeKey', () => {
  it('reads tenant ids that contain ":" and "."', () => {
    expect(parseScopeKey('tenant#shopify:acme.myshopify.com#day#2026-03-10')).toEqual({ kind: 'tenant-day', subject: 'shopify:acme.myshopify.com', period: '2026-03-10' });
    expect(parseScopeKey('tenant#zendesk:22129848#month#2026-03')).toEqual({ kind: 'tenant-month', subject: 'zendesk:22129848', period: '2026-03' });
    expect(parseScopeKey('integration#support-triage#day#2026-03-10')).toEqual({ kind: 'integration-day', subject: 'support-triage', period: '2026-03-10' });
    expect(parseScopeKey('global#day#2026-03-10')).toEqual({ kind: 'global-day', subject: '', period: '2026-03-10' });
  });

  it('refuses keys of another shape', () => {
    expect(parseScopeKey('tenant#acme#week#2026-10')).toBeUndefined();
    expect(parseScopeKey('tenant#acme#month#2026-03-10')).toBeUndefined();
    expect(parseScopeKey('tenant##day#2026-03-10')).toBeUndefined();
    expect(parseScopeKey('global#month#2026-03')).toBeUndefined();
  });
});

describe('parseLedgerItems', () => {
  it('keeps scopes and reservations, reports unreadable ledger keys, and ignores other items', () => {
    const snap = parseLedgerItems([
      scope('global#day#2026-03-10', 12, 200),
      { pk: 'ledger#tenant#acme#fortnight#1', spentMicro: 5 },
      { pk: 'resv#r1', decisionId: 'dec_1', tenant: 'acme', integration: 'i', reservedMicro: 7, createdAt: NOW.toISOString(), expiresAt: epoch(NOW), scopes: [{ key: 'global#day#2026-03-10', capMicroUsd: 200 }] },
      { pk: 'dedupe#x', decisionId: 'dec_2' },
    ]);
    expect(snap.scopes).toEqual([{ key: 'global#day#2026-03-10', kind: 'global-day', subject: '', period: '2026-03-10', spentMicro: 12, capMicro: 200 }]);
    expect(snap.reservations).toMatchObject([{ id: 'r1', decisionId: 'dec_1', reservedMicro: 7, scopes: ['global#day#2026-03-10'] }]);
    expect(snap.unreadable).toEqual(['ledger#tenant#acme#fortnight#1']);
  });
});

describe('buildCostReport', () => {
  const items = [
    scope('tenant#zendesk:22129848#day#2026-03-10', 1_234, 5_000_000),
    scope('tenant#zendesk:22129848#day#2026-03-08', 2_000_000, 5_000_000),
    scope('tenant#zendesk:22129848#month#2026-03', 2_001_234, 100_000_000),
    scope('tenant#shopify:acme.myshopify.com#day#2026-03-09', 40_000, 1_000_000),
    scope('tenant#shopify:acme.myshopify.com#month#2026-03', 40_000, 20_000_000),
    // Before the window: neither in the chart nor in the window's total.
    scope('tenant#zendesk:22129848#day#2026-01-01', 9_999_999, 5_000_000),
    scope('integration#support-triage#day#2026-03-10', 1_234, 50_000_000),
    scope('integration#support-triage#day#2026-03-08', 2_000_000, 50_000_000),
    scope('integration#shopify-order-risk#day#2026-03-09', 40_000, 50_000_000),
    scope('global#day#2026-03-10', 1_234, 200_000_000),
    scope('global#day#2026-03-09', 40_000, 200_000_000),
    scope('global#day#2026-03-08', 2_000_000, 200_000_000),
  ];

  it('adds up today against the daily caps and this month against the monthly cap, per tenant, integration and globally', () => {
    const r = buildCostReport(parseLedgerItems(items), { days: 30, now: NOW });
    expect(r.today).toBe('2026-03-10');
    expect(r.days).toHaveLength(30);
    expect(r.days[0]).toBe('2026-02-09');
    expect(r.tenants.map((t) => t.tenant)).toEqual(['zendesk:22129848', 'shopify:acme.myshopify.com']);
    expect(r.tenants[0]).toMatchObject({ todayMicro: 1_234, dayCapMicro: 5_000_000, monthMicro: 2_001_234, monthCapMicro: 100_000_000, windowMicro: 2_001_234 });
    // No item today: nothing spent, and the cap is the one its latest day carried.
    expect(r.tenants[1]).toMatchObject({ todayMicro: 0, dayCapMicro: 1_000_000, monthMicro: 40_000, windowMicro: 40_000 });
    expect(r.integrations.map((i) => [i.name, i.todayMicro, i.dayCapMicro])).toEqual([['support-triage', 1_234, 50_000_000], ['shopify-order-risk', 0, 50_000_000]]);
    expect(r.global).toMatchObject({ todayMicro: 1_234, dayCapMicro: 200_000_000, windowMicro: 2_041_234 });
    expect(r.total.perDay.slice(-3)).toEqual([2_000_000, 40_000, 1_234]);
    expect(r.stack.map((s) => s.label)).toEqual(['zendesk:22129848', 'shopify:acme.myshopify.com']);
  });

  it('leaves out a tenant and an integration whose only spend is before the window', () => {
    const r = buildCostReport(parseLedgerItems([
      ...items,
      scope('tenant#gone#day#2026-01-20', 7, 5_000_000),
      scope('tenant#gone#month#2026-01', 7, 100_000_000),
      scope('integration#retired#day#2026-01-20', 7, 50_000_000),
    ]), { days: 30, now: NOW });
    expect(r.tenants.map((t) => t.tenant)).not.toContain('gone');
    expect(r.integrations.map((i) => i.name)).not.toContain('retired');
    expect(r.seen.tenants).toContain('gone');
  });

  it('narrows to one tenant, leaving out the totals the ledger does not keep per tenant', () => {
    const r = buildCostReport(parseLedgerItems(items), { days: 7, now: NOW, tenant: 'shopify:acme.myshopify.com' });
    expect(r.tenants.map((t) => t.tenant)).toEqual(['shopify:acme.myshopify.com']);
    expect(r.integrations).toEqual([]);
    expect(r.global).toBeUndefined();
    expect(r.total.perDay).toEqual([0, 0, 0, 0, 0, 40_000, 0]);
    expect(renderCostText(r, 'ledger').join('\n')).toContain('Integration and global totals are not kept per tenant');
  });

  it('names the tenants it knows when a filter matches none', () => {
    const r = buildCostReport(parseLedgerItems(items), { days: 30, now: NOW, tenant: 'nosuch' });
    expect(r.tenants).toEqual([]);
    expect(renderCostText(r, 'ledger').join('\n')).toContain('No ledger spend for tenant "nosuch" (tenants in the ledger: shopify:acme.myshopify.com, zendesk:22129848).');
  });

  it('reports nothing spent, no chart and no reservations on an empty ledger', () => {
    const r = buildCostReport(parseLedgerItems([]), { days: 30, now: NOW });
    expect(r.tenants).toEqual([]);
    expect(r.stack).toEqual([]);
    expect(r.total.perDay.every((v) => v === 0)).toBe(true);
    const text = renderCostText(r, 'ledger').join('\n');
    expect(text).toContain('No tenant spend in the window.');
    expect(text).toContain('(no spend in the window)');
    expect(text).toContain('No reservations outstanding');
    expect(renderCostHtml(r, 'ledger')).not.toContain('<g class="day');
  });

  it('tells a crashed invocation\'s expired reservation from a live one', () => {
    const resv = (id: string, createdMinutesAgo: number, expiresInSeconds: number) => ({
      pk: `resv#${id}`, decisionId: `dec_${id}`, tenant: 'acme', integration: 'support-triage', reservedMicro: 4_200,
      createdAt: new Date(NOW.getTime() - createdMinutesAgo * 60_000).toISOString(), expiresAt: epoch(NOW) + expiresInSeconds, scopes: [],
    });
    const r = buildCostReport(parseLedgerItems([resv('live', 2, 600), resv('dead', 90, -1_800), resv('edge', 15, 0)]), { days: 30, now: NOW });
    expect(r.reservations.map((x) => [x.decisionId, x.expired, x.ageSeconds])).toEqual([['dec_dead', true, 5_400], ['dec_edge', false, 900], ['dec_live', false, 120]]);
    expect(r.reservedMicro).toBe(12_600);
    const text = renderCostText(r, 'ledger').join('\n');
    expect(text).toContain('Reservations outstanding: 3, $0.0126 reserved (1 EXPIRED');
    expect(text).toMatch(/dec_dead\s+acme\s+support-triage\s+\$0\.0042\s+90m\s+EXPIRED 30m ago/);
    expect(text).toMatch(/dec_live\s+acme\s+support-triage\s+\$0\.0042\s+2m\s+live, expires in 10m/);
  });
});

describe('topSeries', () => {
  it('keeps the five tenants with the most spend and sums the rest, without a cap', () => {
    const tenants = [3, 70, 5, 60, 1, 50, 40].map((v, i) => ({ label: `t${i}`, perDay: [v, v * 2], capPerDay: [100, 100] }));
    const top = topSeries(tenants, 5);
    expect(top.map((s) => s.label)).toEqual(['t1', 't3', 't5', 't6', 't2', '2 other tenants']);
    expect(top[5].perDay).toEqual([4, 8]);
    expect(top[5].capPerDay).toEqual([undefined, undefined]);
  });

  it('sums nothing when there are five or fewer', () => {
    const tenants = [1, 2].map((v) => ({ label: `t${v}`, perDay: [v], capPerDay: [undefined] }));
    expect(topSeries(tenants, 5).map((s) => s.label)).toEqual(['t2', 't1']);
  });
});

describe('money and scales', () => {
  it('prints micro-dollar amounts with the decimals they need', () => {
    expect(formatUsd(1_234)).toBe('$0.001234');
    expect(formatUsd(5_000_000)).toBe('$5.00');
    expect(formatUsd(12_500_000)).toBe('$12.50');
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatShare(6_000_000, 5_000_000)).toBe('120.0% OVER');
    expect(formatShare(1, 5_000_000)).toBe('<0.1%');
    expect(formatShare(1, undefined)).toBe('no cap');
  });

  it('rounds a scale up to 1, 2, 2.5 or 5 times a power of ten', () => {
    expect(niceCeil(1_234)).toBe(2_000);
    expect(niceCeil(3)).toBe(5);
    expect(niceCeil(2_400_000)).toBe(2_500_000);
    expect(niceCeil(5_000_000)).toBe(5_000_000);
    expect(niceCeil(7_000_001)).toBe(10_000_000);
    expect(niceCeil(0)).toBe(0);
  });

  it('draws a cap within ten times the peak and leaves a further one off the scale', () => {
    expect(chartScale(600_000, [5_000_000])).toEqual({ top: 5_000_000, shown: [5_000_000], offScale: [] });
    expect(chartScale(400_000, [5_000_000])).toEqual({ top: 500_000, shown: [], offScale: [5_000_000] });
  });

  it('draws a cap only when every day carried the same one', () => {
    expect(commonCap(series([1, 2, 3], [5, undefined, 5]))).toEqual({ capMicro: 5, varies: false, caps: [5] });
    expect(commonCap(series([1, 2], [5, 10]))).toMatchObject({ capMicro: undefined, varies: true });
  });
});

describe('renderBarChart', () => {
  const days = dayWindow(NOW, 3);

  it('scales the tallest day to the full height, with the top of the scale on the y-axis', () => {
    const lines = renderBarChart(series([0, 1_000, 2_000]), days, 4);
    expect(lines[0]).toMatch(/^\$0\.002 ┤/);
    expect(plotRows(lines)).toEqual(['  █', '  █', ' ██', ' ██']);
    expect(lines).toContain('    $0 └───');
  });

  it('shows any spend as at least the lowest block', () => {
    expect(plotRows(renderBarChart(series([1, 0, 1_000_000]), days, 2))).toEqual(['  █', '▁ █']);
  });

  it('draws the cap as a line on its row and marks a day over the cap', () => {
    const lines = renderBarChart(series([1_000_000, 2_500_000, 6_000_000], 5_000_000), days, 4);
    expect(lines[0]).toMatch(/^\$10\.00 ┤/);
    // The cap is half the scale: the second row from the bottom holds the line, under the bars.
    expect(plotRows(lines)).toEqual(['', '  ▃', '──█ cap $5.00/day', '▃██']);
    // Only the third day is over: its mark sits under its column.
    const marks = lines.find((l) => l.includes("over that day's cap"))!;
    expect(marks.indexOf('!')).toBe(lines.find((l) => l.includes('└'))!.indexOf('└') + 3);
    expect(marks.trim()).toBe("!  (!: over that day's cap)");
  });

  it('does not draw a cap that changed within the window, and says so', () => {
    const lines = renderBarChart(series([1_000_000, 2_000_000, 3_000_000], [5_000_000, 5_000_000, 8_000_000]), days, 4);
    expect(lines.join('\n')).not.toContain('─ cap');
    expect(lines.join('\n')).toContain('cap changed within the window ($5.00, $8.00 per day): not drawn');
  });

  it('notes a cap far above the spend instead of flattening every bar', () => {
    const lines = renderBarChart(series([1_234, 0, 500], 200_000_000), days, 4);
    expect(lines[0]).toMatch(/^\$0\.002 ┤/);
    expect(lines.join('\n')).toContain('cap $200.00/day is off the scale: the peak is <0.1% of it');
  });

  it('says so when there is no spend', () => {
    expect(renderBarChart(series([0, 0, 0], 5), days, 4)).toEqual(['  (no spend in the window)']);
  });
});

describe('renderCostHtml', () => {
  it('stacks each day\'s spend per tenant in its own group, with the cap line, and fetches nothing', () => {
    const items = [
      scope('tenant#<b>evil</b>#day#2026-03-10', 30_000, 50_000),
      scope('tenant#zendesk:1#day#2026-03-10', 20_000, 50_000),
      scope('tenant#zendesk:1#day#2026-03-07', 70_000, 50_000),
      scope('global#day#2026-03-10', 50_000, 100_000),
      scope('global#day#2026-03-07', 70_000, 100_000),
    ];
    const html = renderCostHtml(buildCostReport(parseLedgerItems(items), { days: 30, now: NOW }), 'ledger');
    expect(html.match(/<g class="day[^"]*" data-day="[^"]+"/g)).toEqual(['<g class="day" data-day="2026-03-07"', '<g class="day" data-day="2026-03-10"']);
    expect(html.match(/<g class="day" data-day="2026-03-10">.*?<\/g>/)![0].match(/<rect/g)).toHaveLength(2);
    expect(html).toMatch(/<line class="cap" [^>]*\/><text[^>]*>global cap \$0\.10\/day<\/text>/);
    expect(html).toMatch(/<line class="cap tenant-cap" [^>]*\/><text[^>]*>tenant daily cap \$0\.05\/day<\/text>/);
    expect(html).toContain('&lt;b&gt;evil&lt;/b&gt;');
    expect(html).not.toContain('<b>evil');
    expect(html).not.toMatch(/<script|https?:|src=|href=/);
  });
});
