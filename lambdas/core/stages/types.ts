import type { QueueStage } from '../config-keys.js';
import type { Envelope, FinalOutcome } from '../envelope.js';
import type { IntegrationDefinition } from '../integration.js';

/** What a stage asks the audit log to record about its work. */
export interface AuditNote {
  kind: string;
  data: Record<string, unknown>;
}

/** What a queue stage decided; the stage runner records it, then hands on. */
export type StageOutcome =
  | { kind: 'forward'; to: QueueStage; envelope: Envelope; audit: AuditNote }
  | { kind: 'review'; envelope: Envelope; code: string; reason: string; audit: AuditNote }
  | { kind: 'final'; outcome: Extract<FinalOutcome, 'acted' | 'baseline'>; envelope: Envelope; audit: AuditNote }
  | { kind: 'requeue'; envelope: Envelope; delaySeconds: number; audit: AuditNote }
  /** Held for an engineer in the quarantine queue (a drift policy), with the pointer that caused it. */
  | { kind: 'quarantine'; envelope: Envelope; code: string; reason: string; pointer: string; contractVersion: string; audit: AuditNote };

/** Looks up integrations by name; the handlers pass the registry in lambdas/integrations. */
export interface IntegrationLookup {
  (name: string): IntegrationDefinition;
}
