import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '../lambdas/aws/clients.js';

/**
 * What `seamwork cost` reads from the cost ledger table, and how it adds it up.
 *
 * The table holds one item per cap scope (`ledger#<scope key>`: `spentMicro`, `capMicro`) and one
 * per reservation not yet reconciled or released (`resv#<id>`). Everything here except
 * {@link readLedger} is pure, so the sums and the charts built on them are unit-tested without a
 * table. Amounts are integer micro-dollars throughout.
 */

/** Which cap a ledger scope is. */
export type ScopeKind = 'tenant-day' | 'tenant-month' | 'integration-day' | 'global-day';

/** One scope item: what was spent (reservations included until reconciled) against which cap. */
export interface ScopeSpend {
  key: string;
  kind: ScopeKind;
  /** The tenant or integration; empty for the global scope. */
  subject: string;
  /** `YYYY-MM-DD`, or `YYYY-MM` for a tenant's month. */
  period: string;
  spentMicro: number;
  /** The cap the last write to the scope carried; absent on items written without one. */
  capMicro?: number;
}

/** A reservation still on the ledger: a call in flight, or a crashed one the sweeper has not released. */
export interface OutstandingReservation {
  id: string;
  decisionId: string;
  tenant: string;
  integration: string;
  reservedMicro: number;
  createdAt: string;
  /** Epoch seconds. */
  expiresAt: number;
  /** Keys of the scopes it holds budget in. */
  scopes: string[];
}

/** Everything read from the ledger, parsed. */
export interface LedgerSnapshot {
  scopes: ScopeSpend[];
  reservations: OutstandingReservation[];
  /** Keys of items this version cannot read (reported, never silently dropped). */
  unreadable: string[];
}

/** A value per day of the window, oldest first, with the cap each day's scope carried. */
export interface DaySeries {
  label: string;
  perDay: number[];
  capPerDay: Array<number | undefined>;
}

/** Spend of one tenant: today, this month, and day by day over the window. */
export interface TenantSpend {
  tenant: string;
  todayMicro: number;
  dayCapMicro?: number;
  monthMicro: number;
  monthCapMicro?: number;
  windowMicro: number;
  series: DaySeries;
}

/** Spend of one integration, or of everything (the global scope). */
export interface DailySpend {
  name: string;
  todayMicro: number;
  dayCapMicro?: number;
  windowMicro: number;
  series: DaySeries;
}

/** An outstanding reservation as of the report's time. */
export interface ReservationView extends OutstandingReservation {
  ageSeconds: number;
  /** `expiresAt` has passed: its invocation died and the sweeper has not given the amount back yet. */
  expired: boolean;
  /** Negative once expired. */
  expiresInSeconds: number;
}

/** What `seamwork cost` shows. */
export interface CostReport {
  now: Date;
  today: string;
  month: string;
  /** The window's UTC days, oldest first. */
  days: string[];
  filter: { tenant?: string; integration?: string };
  /** Sorted by spend over the window, highest first. Empty under `--integration`. */
  tenants: TenantSpend[];
  /** Sorted by spend over the window, highest first. Empty under `--tenant`. */
  integrations: DailySpend[];
  /** The global scope; absent under a filter. */
  global?: DailySpend;
  /** The series the main chart shows: global, or the filtered tenant's or integration's. */
  total: DaySeries;
  /** The stacked series: the top tenants and the rest summed (or the filtered one alone). */
  stack: DaySeries[];
  reservations: ReservationView[];
  reservedMicro: number;
  /** Tenants and integrations seen anywhere in the ledger, to name them when a filter matches nothing. */
  seen: { tenants: string[]; integrations: string[] };
  unreadable: string[];
}

/** Options of {@link buildCostReport}. */
export interface CostReportOptions {
  /** Days in the window, today included. */
  days: number;
  now: Date;
  tenant?: string;
  integration?: string;
  /** Tenants shown by name in the stacked chart; the rest are summed. @default 5 */
  top?: number;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MONTH = /^\d{4}-\d{2}$/;

/**
 * Reads a scope key: `tenant#<t>#day#<YYYY-MM-DD>`, `tenant#<t>#month#<YYYY-MM>`,
 * `integration#<i>#day#<YYYY-MM-DD>` or `global#day#<YYYY-MM-DD>`. Names never contain `#`.
 */
export function parseScopeKey(key: string): { kind: ScopeKind; subject: string; period: string } | undefined {
  const parts = key.split('#');
  if (parts.length === 3 && parts[0] === 'global' && parts[1] === 'day' && DAY.test(parts[2])) return { kind: 'global-day', subject: '', period: parts[2] };
  if (parts.length !== 4 || parts[1] === '') return undefined;
  const [scope, subject, unit, period] = parts;
  if (scope === 'tenant' && unit === 'day' && DAY.test(period)) return { kind: 'tenant-day', subject, period };
  if (scope === 'tenant' && unit === 'month' && MONTH.test(period)) return { kind: 'tenant-month', subject, period };
  if (scope === 'integration' && unit === 'day' && DAY.test(period)) return { kind: 'integration-day', subject, period };
  return undefined;
}

const num = (v: unknown): number | undefined => (v === undefined || v === null || v === '' || !Number.isFinite(Number(v)) ? undefined : Number(v));

/** Parses raw ledger items (as the DynamoDB document client returns them); skips other items. */
export function parseLedgerItems(items: Array<Record<string, unknown>>): LedgerSnapshot {
  const out: LedgerSnapshot = { scopes: [], reservations: [], unreadable: [] };
  for (const item of items) {
    const pk = String(item.pk ?? '');
    if (pk.startsWith('ledger#')) {
      const key = pk.slice('ledger#'.length);
      const parsed = parseScopeKey(key);
      const spent = num(item.spentMicro ?? 0);
      if (!parsed || spent === undefined) {
        out.unreadable.push(pk);
        continue;
      }
      out.scopes.push({ key, ...parsed, spentMicro: spent, capMicro: num(item.capMicro) });
    } else if (pk.startsWith('resv#')) {
      const reserved = num(item.reservedMicro);
      const expiresAt = num(item.expiresAt);
      if (reserved === undefined || expiresAt === undefined) {
        out.unreadable.push(pk);
        continue;
      }
      const scopes = Array.isArray(item.scopes) ? item.scopes.map((s) => String((s as { key?: unknown })?.key ?? '')) : [];
      out.reservations.push({
        id: pk.slice('resv#'.length), decisionId: String(item.decisionId ?? ''), tenant: String(item.tenant ?? ''), integration: String(item.integration ?? ''),
        reservedMicro: reserved, createdAt: String(item.createdAt ?? ''), expiresAt, scopes,
      });
    }
  }
  return out;
}

/** The window's UTC days, oldest first, ending with `now`'s day. */
export function dayWindow(now: Date, days: number): string[] {
  return Array.from({ length: days }, (_, i) => new Date(now.getTime() - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

/**
 * The cap a chart can draw as one line: the one cap every day of the series carried. `varies`
 * when the cap changed within the window (raised for a tenant, say): then no single line is true.
 */
export function commonCap(series: DaySeries): { capMicro?: number; varies: boolean; caps: number[] } {
  const caps = [...new Set(series.capPerDay.filter((c): c is number => c !== undefined))].sort((a, b) => a - b);
  return { capMicro: caps.length === 1 ? caps[0] : undefined, varies: caps.length > 1, caps };
}

/** Days of a series whose spend is over that day's own cap. */
export function daysOverCap(series: DaySeries): boolean[] {
  return series.perDay.map((v, i) => series.capPerDay[i] !== undefined && v > series.capPerDay[i]!);
}

/** The `n` series with the most spend over the window, and the rest summed into one (without a cap). */
export function topSeries(series: DaySeries[], n = 5): DaySeries[] {
  const sum = (s: DaySeries) => s.perDay.reduce((a, b) => a + b, 0);
  const sorted = [...series].sort((a, b) => sum(b) - sum(a) || a.label.localeCompare(b.label));
  const rest = sorted.slice(n);
  if (rest.length === 0) return sorted;
  const days = rest[0].perDay.length;
  const others: DaySeries = {
    label: `${rest.length} other tenant${rest.length === 1 ? '' : 's'}`,
    perDay: Array.from({ length: days }, (_, i) => rest.reduce((a, s) => a + s.perDay[i], 0)),
    capPerDay: Array.from({ length: days }, () => undefined),
  };
  return [...sorted.slice(0, n), others];
}

/** The latest item's cap among `items` (today's when there is one): the cap the scope has now. */
function latestCap(items: ScopeSpend[], upTo: string): number | undefined {
  return items.filter((s) => s.period <= upTo && s.capMicro !== undefined).sort((a, b) => b.period.localeCompare(a.period))[0]?.capMicro;
}

function seriesOf(label: string, items: ScopeSpend[], days: string[]): DaySeries {
  const index = new Map(days.map((d, i) => [d, i]));
  const perDay = days.map(() => 0);
  const capPerDay: Array<number | undefined> = days.map(() => undefined);
  for (const s of items) {
    const i = index.get(s.period);
    if (i === undefined) continue;
    perDay[i] += s.spentMicro;
    capPerDay[i] = s.capMicro;
  }
  return { label, perDay, capPerDay };
}

const total = (s: DaySeries) => s.perDay.reduce((a, b) => a + b, 0);

function dailySpend(name: string, items: ScopeSpend[], days: string[], today: string): DailySpend {
  const series = seriesOf(name, items, days);
  return {
    name, series, windowMicro: total(series),
    todayMicro: items.filter((s) => s.period === today).reduce((a, s) => a + s.spentMicro, 0),
    dayCapMicro: latestCap(items, today),
  };
}

/** Adds up a ledger snapshot into what `seamwork cost` shows, as of `now`. */
export function buildCostReport(snapshot: LedgerSnapshot, opts: CostReportOptions): CostReport {
  const { now, tenant, integration } = opts;
  const days = dayWindow(now, opts.days);
  const today = days[days.length - 1];
  const month = today.slice(0, 7);
  const inWindow = (s: ScopeSpend) => s.period >= days[0] && s.period <= today;
  const bySubject = (kind: ScopeKind) => {
    const map = new Map<string, ScopeSpend[]>();
    for (const s of snapshot.scopes.filter((x) => x.kind === kind)) map.set(s.subject, [...(map.get(s.subject) ?? []), s]);
    return map;
  };
  const tenantDays = bySubject('tenant-day');
  const tenantMonths = bySubject('tenant-month');
  const integrationDays = bySubject('integration-day');
  const seen = {
    tenants: [...new Set([...tenantDays.keys(), ...tenantMonths.keys()])].sort(),
    integrations: [...integrationDays.keys()].sort(),
  };

  const tenants: TenantSpend[] = integration ? [] : seen.tenants
    .filter((t) => (tenant ? t === tenant : (tenantDays.get(t) ?? []).some(inWindow) || (tenantMonths.get(t) ?? []).some((s) => s.period === month)))
    .map((t) => {
      const d = dailySpend(t, tenantDays.get(t) ?? [], days, today);
      const months = tenantMonths.get(t) ?? [];
      return {
        tenant: t, todayMicro: d.todayMicro, dayCapMicro: d.dayCapMicro, windowMicro: d.windowMicro, series: d.series,
        monthMicro: months.filter((s) => s.period === month).reduce((a, s) => a + s.spentMicro, 0),
        monthCapMicro: latestCap(months, month),
      };
    })
    .sort((a, b) => b.windowMicro - a.windowMicro || b.monthMicro - a.monthMicro || a.tenant.localeCompare(b.tenant));

  const integrations: DailySpend[] = tenant ? [] : seen.integrations
    .filter((i) => (integration ? i === integration : (integrationDays.get(i) ?? []).some(inWindow)))
    .map((i) => dailySpend(i, integrationDays.get(i) ?? [], days, today))
    .sort((a, b) => b.windowMicro - a.windowMicro || a.name.localeCompare(b.name));

  const global = tenant || integration ? undefined : dailySpend('all tenants', snapshot.scopes.filter((s) => s.kind === 'global-day'), days, today);
  const empty = (label: string): DaySeries => ({ label, perDay: days.map(() => 0), capPerDay: days.map(() => undefined) });
  const totalSeries = global?.series ?? tenants[0]?.series ?? integrations[0]?.series ?? empty(tenant ?? integration ?? 'all tenants');
  const stack = integration ? integrations.map((i) => i.series) : topSeries(tenants.map((t) => t.series), opts.top ?? 5);

  const nowSeconds = Math.floor(now.getTime() / 1000);
  const reservations = snapshot.reservations
    .filter((r) => (!tenant || r.tenant === tenant) && (!integration || r.integration === integration))
    .map((r) => {
      const created = Date.parse(r.createdAt);
      return {
        ...r,
        ageSeconds: Number.isNaN(created) ? 0 : Math.max(0, Math.round((now.getTime() - created) / 1000)),
        expired: r.expiresAt < nowSeconds,
        expiresInSeconds: r.expiresAt - nowSeconds,
      };
    })
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));

  return {
    now, today, month, days, filter: { tenant, integration }, tenants, integrations, global, total: totalSeries,
    stack: stack.filter((s) => total(s) > 0),
    reservations, reservedMicro: reservations.reduce((a, r) => a + r.reservedMicro, 0), seen, unreadable: snapshot.unreadable,
  };
}

/**
 * Every ledger and reservation item of a table, page by page (a consistent scan: a reservation
 * made a moment ago is in it). The only I/O here.
 */
export async function readLedger(table: string): Promise<LedgerSnapshot> {
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  try {
    do {
      const res = await dynamoClient().send(new ScanCommand({
        TableName: table, ConsistentRead: true, ExclusiveStartKey: start,
        FilterExpression: 'begins_with(pk, :ledger) OR begins_with(pk, :resv)',
        ExpressionAttributeValues: { ':ledger': 'ledger#', ':resv': 'resv#' },
      }));
      items.push(...(res.Items ?? []));
      start = res.LastEvaluatedKey;
    } while (start);
  } catch (err) {
    throw new Error(`Could not read the cost ledger table "${table}": ${(err as Error).message}`, { cause: err });
  }
  return parseLedgerItems(items);
}
