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
