import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { DynamoTenantCapsStore } from '../../lambdas/aws/dynamo-stores.js';
import { loadConfig } from '../../lambdas/aws/runtime-config.js';
import { DEFAULT_CAPS, capsFor, type TenantCaps } from '../../lambdas/core/caps.js';
import { ENV } from '../../lambdas/core/config-keys.js';
import { UsageError } from './contracts.js';
import { cell } from './format.js';
import { useLocalState } from './state.js';

/**
 * `seamwork caps [list] | set <tenant> [--daily USD] [--monthly USD] --reason "…" | clear <tenant> --reason "…"`
 *
 * A tenant's own daily and monthly caps, changed at run time: the infer stage reads them (cached
 * for a minute), so raising a tenant needs no deploy. Every change keeps who, when and why.
 */
export async function capsCommand(args: string[], now = new Date()): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest, allowPositionals: true,
    options: { daily: { type: 'string' }, monthly: { type: 'string' }, reason: { type: 'string' }, table: { type: 'string' } },
  });
  if (!values.table && !process.env[ENV.TABLE_LEDGER]) useLocalState();
  const store = new DynamoTenantCapsStore(values.table ?? process.env[ENV.TABLE_LEDGER]!);
  const by = { setBy: process.env.SEAMWORK_OPERATOR ?? safeUser(), setAt: now.toISOString() };
  switch (sub) {
    case undefined:
    case 'list': {
      const base = process.env[ENV.AUDIT_BUCKET] ? loadConfig(process.env).caps : DEFAULT_CAPS;
      console.log(`deployment caps: tenant $${base.tenantDailyUsd}/day, $${base.tenantMonthlyUsd}/month; integration $${base.integrationDailyUsd}/day; global $${base.globalDailyUsd}/day`);
      const tenants = await store.list();
      if (tenants.length === 0) console.log('no tenant has caps of its own.');
      for (const t of tenants) {
        const c = capsFor(base, t.caps);
        console.log(`${cell(t.tenant, 32)} $${c.tenantDailyUsd}/day  $${c.tenantMonthlyUsd}/month   set by ${t.caps.setBy} at ${t.caps.setAt}: ${t.caps.reason}`);
      }
      return 0;
    }
    case 'set': {
      if (positionals.length !== 1) throw new UsageError('caps set needs <tenant>');
      const reason = requireReason(values.reason);
      const daily = amount('--daily', values.daily);
      const monthly = amount('--monthly', values.monthly);
      if (daily === undefined && monthly === undefined) throw new UsageError('caps set needs --daily and/or --monthly (USD)');
      const caps: TenantCaps = { ...(daily !== undefined ? { tenantDailyUsd: daily } : {}), ...(monthly !== undefined ? { tenantMonthlyUsd: monthly } : {}), ...by, reason };
      await store.set(positionals[0], caps);
      console.log(`${positionals[0]}: ${daily !== undefined ? `$${daily}/day ` : ''}${monthly !== undefined ? `$${monthly}/month ` : ''}from the next inference (within a minute). Recorded: ${by.setBy}, ${reason}`);
      return 0;
    }
    case 'clear': {
      if (positionals.length !== 1) throw new UsageError('caps clear needs <tenant>');
      await store.clear(positionals[0], { ...by, reason: requireReason(values.reason) });
      console.log(`${positionals[0]}: back to the deployment's caps from the next inference (within a minute).`);
      return 0;
    }
    default:
      throw new UsageError(`unknown caps command "${sub}" (list, set, clear)`);
  }
}

function requireReason(reason: string | undefined): string {
  if (!reason || reason.trim().length < 3) throw new UsageError('a cap change needs --reason "…" (it is kept with the change)');
  return reason.trim();
}

function amount(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 100_000) throw new UsageError(`${flag} is a positive amount in USD up to 100000, got "${value}"`);
  return n;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
