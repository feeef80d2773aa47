import { z } from 'zod';

/**
 * Migration windows: a temporary widening of a contract, declared where the field is declared
 * and expiring on its own.
 *
 * A vendor announces that `priority` may be null from next month. Until the date, the contract
 * accepts either shape and the drift report says "accepted under migration until …"; after it,
 * the old shape is the contract again, a null there is drift like any other (the integration's
 * drift policy decides what happens), and every such event emits `MigrationWindowExpired` and
 * says so in its audit record. `seamwork contracts` lists the windows and exits 1 when one has
 * expired, so the date cannot pass unnoticed.
 */

/** JSON Schema keyword under which a window travels (zod `.meta()` is copied into the JSON Schema). */
export const MIGRATION_KEYWORD = 'x-seamwork-migration';

/** A declared migration window. */
export interface MigrationWindow {
  /** Last day (UTC, inclusive, `YYYY-MM-DD`) on which the widened shape is accepted. */
  until: string;
  /** Why, for the humans reading drift reports: link the vendor's changelog. */
  reason: string;
}

/**
 * `current` is the contract; `accept` is what is also accepted until `window.until`.
 *
 * ```ts
 * priority: migrating(z.enum(PRIORITIES), z.null(), { until: '2027-01-31', reason: 'Zendesk changelog 2026-11: priority may be null' }),
 * ```
 */
export function migrating<C extends z.ZodType, A extends z.ZodType>(current: C, accept: A, window: MigrationWindow): z.ZodUnion<readonly [C, A]> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(window.until) || Number.isNaN(Date.parse(`${window.until}T00:00:00Z`))) {
    throw new Error(`Migration window "until" must be a date YYYY-MM-DD, got "${window.until}".`);
  }
  if (window.reason.trim() === '') throw new Error('A migration window needs a reason a human can follow up on.');
  return z.union([current, accept]).meta({ [MIGRATION_KEYWORD]: { until: window.until, reason: window.reason } });
}

/** Whether a window is still open at `now` (it closes at the end of its `until` day, UTC). */
export function windowOpen(window: MigrationWindow, now: Date): boolean {
  return now.getTime() < Date.parse(`${window.until}T00:00:00Z`) + 86_400_000;
}

/** Whole days left in a window at `now` (0 on its last day, negative once expired). */
export function daysLeft(window: MigrationWindow, now: Date): number {
  const end = Date.parse(`${window.until}T00:00:00Z`) + 86_400_000;
  return Math.ceil((end - now.getTime()) / 86_400_000) - 1;
}
