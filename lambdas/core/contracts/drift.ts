/**
 * Contract drift: how a vendor payload differs from the contract it was checked against.
 * (Types first; the detector follows below.)
 */

/** The kinds of drift Seamwork names. */
export const DRIFT_KINDS = ['unknown_field', 'missing_field', 'new_enum_value', 'null_where_required', 'type_changed'] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** What drift does to an event. */
export type DriftAction = 'pass-and-report' | 'quarantine' | 'reject';

/**
 * Per-integration drift policy: a default action and optional per-kind overrides, e.g.
 * `{ default: 'quarantine', byKind: { unknown_field: 'pass-and-report' } }`.
 * A payload the contract cannot parse at all is always rejected, whatever the policy.
 */
export interface DriftPolicy {
  default: DriftAction;
  byKind?: Partial<Record<DriftKind, DriftAction>>;
}
