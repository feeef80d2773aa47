import { z } from 'zod';

/**
 * Observed fields: declared for drift detection, never enforced.
 *
 * A contract is strict where the integration reads (a wrong type there must stop the event) and
 * observed where it does not: `status: observed(z.enum(['NEW', 'OPEN', 'SOLVED']))` reports a new
 * status, a null or a type change as drift with a pointer, and lets the event through whatever
 * the integration's policy for that drift is — the parse itself never fails on an observed field.
 * That is what keeps a vendor's change to a field nobody reads from sending events to the DLQ,
 * while still telling the team the day it happens.
 */

/** JSON Schema keyword carrying an observed field's declared shape. */
export const OBSERVED_KEYWORD = 'x-seamwork-observed';

/** What an observed field's keyword holds. */
export interface ObservedShape {
  /** The declared shape (JSON Schema, input side). */
  schema: Record<string, unknown>;
  /** Whether its absence is `missing_field` drift. */
  required: boolean;
}

/**
 * Declares `shape` for drift detection only. The field parses as `unknown` (present or not);
 * its absence is reported as drift unless `optional` is set.
 */
export function observed<T extends z.ZodType>(shape: T, opts: { optional?: boolean } = {}): z.ZodOptional<z.ZodUnknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(shape, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const meta: ObservedShape = { schema, required: opts.optional !== true };
  return z.unknown().meta({ [OBSERVED_KEYWORD]: meta }).optional();
}
