import { z } from 'zod';
import { QUOTE_ID } from './quotes-first.js';

/**
 * The zod pieces every integration's output schema uses for grounding, so the wire conventions in
 * docs/grounding.md are declared once: a quote id (step 2) and the claims list (step 3).
 */

/** An evidence quote's id. Optional in the schema (the baselines do not number their quotes); step 2 requires it of the model. */
export const quoteId = () =>
  z.string().regex(QUOTE_ID).optional().describe('This quote\'s id: q1 for the first quote, q2 for the second, and so on. Claims cite quotes by id.');

/**
 * The claims list: each claim names the decision field it supports and cites quote ids. Defaults
 * to empty so a decision without claims is still schema-valid — step 3 then finds its claimed
 * fields unsupported, which is the more useful failure.
 */
export function claimsSchema<const F extends readonly [string, ...string[]]>(fields: F) {
  return z
    .array(
      z.object({
        field: z.enum(fields).describe(`The decision field this claim supports: ${fields.join(', ')}.`),
        statement: z.string().min(1).describe('The claim in one short sentence, stating only what the cited quotes say.'),
        quote_ids: z.array(z.string()).describe('The ids of the evidence quotes (q1, q2, …) that support the claim. A claim citing no verified quote is retracted.'),
      }),
    )
    .default([])
    .describe(`Written after the evidence and before the decision fields: at least one claim for each of ${fields.join(', ')} that you set, each citing the quotes that support it.`);
}
