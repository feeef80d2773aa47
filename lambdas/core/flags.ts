import { z } from 'zod';

/**
 * Layer 7 flags, per integration, in the shape the AppConfig agent returns for an
 * `AWS.AppConfig.FeatureFlags` profile: `{ "<integration>": { enabled, rolloutPercent, mode } }`.
 * `enabled: false` is the kill switch: every event takes the baseline path, no deploy.
 */
export const IntegrationFlagSchema = z.object({
  enabled: z.boolean(),
  /** Share of subjects (sticky) that take the AI path; the rest take the baseline. */
  // AppConfig returns a disabled flag as `{ "enabled": false }` alone, without its attributes.
  rolloutPercent: z.number().int().min(0).max(100).default(0),
  /** `shadow`: the AI runs and is recorded, the baseline acts. */
  mode: z.enum(['live', 'shadow']).default('live'),
});
export type IntegrationFlag = z.infer<typeof IntegrationFlagSchema>;

export const FlagsDocumentSchema = z.record(z.string(), IntegrationFlagSchema);
export type FlagsDocument = z.infer<typeof FlagsDocumentSchema>;

/** What an integration gets when the flags document does not mention it: baseline only. */
export const FLAG_OFF: IntegrationFlag = { enabled: false, rolloutPercent: 0, mode: 'live' };

/**
 * How a flag was read, when it was not a fresh read of a flag the document holds. Recorded with
 * the route, so a decision says what really happened: a kill switch, a flag the document lacks,
 * flags that could not be read, or a last known flag served while the flags could not be refreshed.
 */
export interface FlagProvenance {
  /** The flags could not be read (or this flag is malformed): the answer is {@link FLAG_OFF}. Why, and since when. */
  unavailable?: string;
  /** ISO time of the first failed read in the current run of failures. */
  unavailableSince?: string;
  /** The flags document has no flag for the integration: the answer is {@link FLAG_OFF}. */
  notInDocument?: true;
  /** The flag is the last known one, served because the flags could not be refreshed: since when, and why. */
  stale?: { since: string; why: string };
}

/** A flag as a flag source answers it, with how it was read. */
export type FlagReading = IntegrationFlag & FlagProvenance;

/**
 * Response header of an AppConfig agent that serves its last good version because the current one
 * could not be loaded (the local agent sets it; the text says why).
 */
export const FLAGS_STALE_HEADER = 'x-seamwork-flags-stale';
