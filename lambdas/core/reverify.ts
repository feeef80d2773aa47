import type { AuditRecord } from './audit-record.js';
import { toSeamworkError } from './errors.js';
import type { IntegrationDefinition } from './integration.js';
import { openBody, type SealedBody } from './sealed-body.js';
import { verifySignature } from './signature/index.js';

/** The answer to "was this delivery really signed by the vendor?", asked again later. */
export interface Reverification {
  verdict: 'valid' | 'invalid' | 'unavailable';
  /** A sentence: which secret set, at which time, or why it cannot be checked any more. */
  detail: string;
}

/**
 * Re-verifies the signature of an accepted delivery from its audit record: the sealed raw bytes
 * (opened with the decision's body key while the vault still holds it), the headers and URL as
 * received, the current signing secrets, and the time of receipt as the clock, so an old
 * delivery is judged as of when it arrived (within `toleranceSeconds` of its own receipt).
 */
export function reverifyDelivery(def: IntegrationDefinition, accepted: AuditRecord, bodyKey: Buffer | undefined, secrets: string[], toleranceSeconds = 3600): Reverification {
  if (accepted.kind !== 'accepted') return { verdict: 'unavailable', detail: `Record ${accepted.seq} is a ${accepted.kind} record, not the accepted delivery.` };
  if ((accepted.data as { via?: string }).via === 'backfill') {
    return { verdict: 'unavailable', detail: 'Entered by `seamwork backfill` from captured payloads, not delivered by the vendor: there is no signature to check.' };
  }
  if (!bodyKey) {
    return { verdict: 'unavailable', detail: 'The raw body key has expired or was erased, so only the body hash remains; the signature can no longer be checked.' };
  }
  const data = accepted.data as { body: SealedBody; headers: Record<string, string>; method?: string; url?: string | null };
  let body: Buffer;
  try {
    body = openBody(data.body, bodyKey);
  } catch (err) {
    return { verdict: 'invalid', detail: `The sealed body does not open with its key (${(err as Error).message}): it was altered.` };
  }
  try {
    verifySignature(def.source.signature, {
      body, headers: data.headers, method: data.method ?? 'POST', url: data.url ?? '', secrets, now: new Date(accepted.at), toleranceSeconds,
    });
    return { verdict: 'valid', detail: `The ${def.source.signature} signature matches the ${body.length} bytes received at ${accepted.at} under one of the ${secrets.length} current secret(s).` };
  } catch (err) {
    const e = toSeamworkError(err);
    return { verdict: 'invalid', detail: `${e.message} (a rotated-out secret also gives this answer).` };
  }
}
