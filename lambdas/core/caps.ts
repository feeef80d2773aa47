import { z } from 'zod';
import { toMicroUsd } from './cost.js';
import type { CapScope } from './ports.js';

/**
 * Layer 3 spend caps: what one inference is charged against. Every model call reserves its worst
 * case in all four scopes at once, and is refused (to the review queue) when any would pass its
 * cap: the tenant's day and month, the integration's day, and a global daily ceiling that no
 * combination of tenants and integrations can exceed.
 */

const usd = z.coerce.number().positive();

/** The caps, in USD. */
export const CapsConfigSchema = z.object({
  tenantDailyUsd: usd,
  tenantMonthlyUsd: usd,
  integrationDailyUsd: usd,
  globalDailyUsd: usd,
});
export type CapsConfig = z.infer<typeof CapsConfigSchema>;

/** The defaults when nothing is configured: a small tenant, an integration, the whole deployment. */
export const DEFAULT_CAPS: CapsConfig = { tenantDailyUsd: 5, tenantMonthlyUsd: 100, integrationDailyUsd: 50, globalDailyUsd: 200 };

/** Which cap a scope is. */
export type CapKind = 'tenant-day' | 'tenant-month' | 'integration-day' | 'global-day';

/** A ledger scope with what it is, for messages and `seamwork cost`. */
export interface LabelledScope extends CapScope {
  kind: CapKind;
}

/**
 * The ledger scopes one inference is charged to, keyed by UTC day and month:
 * `tenant#<t>#day#<YYYY-MM-DD>`, `tenant#<t>#month#<YYYY-MM>`, `integration#<i>#day#<YYYY-MM-DD>`,
 * `global#day#<YYYY-MM-DD>`.
 */
export function capScopes(caps: CapsConfig, tenant: string, integration: string, now: Date): LabelledScope[] {
  if (tenant.includes('#') || integration.includes('#')) throw new RangeError('Tenant and integration names must not contain "#": it separates ledger key parts.');
  const day = now.toISOString().slice(0, 10);
  const month = day.slice(0, 7);
  return [
    { kind: 'tenant-day', key: `tenant#${tenant}#day#${day}`, capMicroUsd: toMicroUsd(caps.tenantDailyUsd) },
    { kind: 'tenant-month', key: `tenant#${tenant}#month#${month}`, capMicroUsd: toMicroUsd(caps.tenantMonthlyUsd) },
    { kind: 'integration-day', key: `integration#${integration}#day#${day}`, capMicroUsd: toMicroUsd(caps.integrationDailyUsd) },
    { kind: 'global-day', key: `global#day#${day}`, capMicroUsd: toMicroUsd(caps.globalDailyUsd) },
  ];
}

/** A tenant's caps raised (or lowered) at run time, without a deploy: `seamwork caps set`. */
export interface TenantCaps {
  tenantDailyUsd?: number;
  tenantMonthlyUsd?: number;
  /** Who set it, when and why: every change is kept in the item's history. */
  setBy: string;
  setAt: string;
  reason: string;
}

/** Where tenant caps live (the ledger table in AWS, so the infer stage reads them with the ledger). */
export interface TenantCapsStore {
  get(tenant: string): Promise<TenantCaps | undefined>;
  set(tenant: string, caps: TenantCaps): Promise<void>;
  clear(tenant: string, by: { setBy: string; setAt: string; reason: string }): Promise<void>;
  list(): Promise<Array<{ tenant: string; caps: TenantCaps; history: TenantCaps[] }>>;
}

/** The caps that apply to a tenant: the deployment's, with the tenant's own where set. */
export function capsFor(base: CapsConfig, tenant: TenantCaps | undefined): CapsConfig {
  return {
    ...base,
    ...(tenant?.tenantDailyUsd !== undefined ? { tenantDailyUsd: tenant.tenantDailyUsd } : {}),
    ...(tenant?.tenantMonthlyUsd !== undefined ? { tenantMonthlyUsd: tenant.tenantMonthlyUsd } : {}),
  };
}

/** Caches a store's answers for a short while: one read per tenant per minute, not per inference. */
export function cachedTenantCaps(store: TenantCapsStore, ttlMs = 60_000, clock: () => number = Date.now): (tenant: string) => Promise<TenantCaps | undefined> {
  const cache = new Map<string, { at: number; caps: TenantCaps | undefined }>();
  return async (tenant) => {
    const hit = cache.get(tenant);
    if (hit && clock() - hit.at < ttlMs) return hit.caps;
    const caps = await store.get(tenant);
    cache.set(tenant, { at: clock(), caps });
    return caps;
  };
}

/** The burn-rate alarm fires when an hour's spend runs at this multiple of the even pace of the global daily cap. */
export const BURN_RATE_MULTIPLE = 3;

/** The burn-rate alarm's threshold: micro-dollars of model spend in one hour. */
export function burnRateThresholdMicroUsd(globalDailyUsd: number): number {
  return Math.round((globalDailyUsd * 1_000_000 * BURN_RATE_MULTIPLE) / 24);
}
