import { randomBytes } from 'node:crypto';
import { headOf, sealRecord } from '../audit-record.js';
import type { Envelope } from '../envelope.js';
import { SignatureInvalid } from '../errors.js';
import type { IntegrationDefinition } from '../integration.js';
import { METRICS } from '../metrics.js';
import type { AuditStore, DedupeStore, MetricsSink, QueueSender, TokenVault } from '../ports.js';
import { sealBody } from '../sealed-body.js';
import { SIGNATURE_SCHEMES, verifySignature } from '../signature/index.js';

/** A webhook delivery as the HTTP layer saw it. */
export interface WebhookRequest {
  integration: string;
  /** Raw body bytes, exactly as received (signatures are over these). */
  body: Buffer;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** HTTP method as received. @default 'POST' */
  method?: string;
  /** The full URL the vendor called, query included (HubSpot signs it). @default '' */
  url?: string;
}

/** The HTTP answer to the vendor. */
export interface WebhookResponse {
  status: number;
  body: Record<string, unknown>;
}

/** Dependencies of the ingest stage. */
export interface IngestDeps {
  integration(name: string): IntegrationDefinition | undefined;
  /** Active signing secrets for a secret name (two during a rotation). */
  secrets(name: string): Promise<string[]>;
  dedupe: DedupeStore;
  /** Holds the key of the sealed raw body (the audit log keeps only ciphertext and a hash). */
  vault: TokenVault;
  /** How long the raw body stays readable (re-verifiable); afterwards only its hash remains. */
  rawBodyTtlSeconds: number;
  audit: AuditStore;
  queues: QueueSender;
  metrics: MetricsSink;
  now: () => Date;
  maxBodyBytes: number;
  toleranceSeconds: number;
  defaultTenant: string;
  dedupeTtlSeconds: number;
  newDecisionId?: () => string;
}

/** Headers that must never be stored: credentials, and the sender's address (PII), not evidence. */
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'x-api-key', 'proxy-authorization', 'x-forwarded-for', 'x-real-ip', 'forwarded', 'true-client-ip', 'cf-connecting-ip']);

/** A time-sortable, unguessable decision id: `dec_<ms base36><48 random bits hex>`. */
export function newDecisionId(now = Date.now()): string {
  return `dec_${now.toString(36)}${randomBytes(6).toString('hex')}`;
}

const reject = (status: number, code: string, reason: string): WebhookResponse => ({ status, body: { status: 'rejected', code, reason } });

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Offset of the first byte that breaks UTF-8 decoding (for the refusal's sentence). */
function firstInvalidUtf8(bytes: Buffer): number {
  let lo = 0;
  let hi = bytes.length;
  // The longest valid prefix, by bisection on fatal decodes (a truncated sequence at the cut counts as invalid).
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}

/** Query parameters whose values look like credentials are not kept in the audit log. */
function auditUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    for (const key of [...u.searchParams.keys()]) if (/token|key|secret|sig|pass|auth/i.test(key)) u.searchParams.set(key, '[removed]');
    return u.toString();
  } catch {
    return undefined;
  }
}

/**
 * The webhook door: size limit, signature on the raw bytes (constant time, replay window),
 * one event per request, dedupe by the vendor's event id, the first audit record, then 202.
 */
export async function ingestWebhook(req: WebhookRequest, deps: IngestDeps): Promise<WebhookResponse> {
  const def = deps.integration(req.integration);
  if (!def) return reject(404, 'UNKNOWN_INTEGRATION', `No integration named "${req.integration}" is deployed.`);
  if (req.body.length > deps.maxBodyBytes) {
    deps.metrics.add(METRICS.WebhookRejected);
    return reject(413, 'BODY_TOO_LARGE', `The body is ${req.body.length} bytes; the limit is ${deps.maxBodyBytes}.`);
  }
  try {
    const secrets = await deps.secrets(def.source.secretName);
    verifySignature(def.source.signature, {
      body: req.body, headers: req.headers, method: req.method ?? 'POST', url: req.url ?? '', secrets, now: deps.now(), toleranceSeconds: deps.toleranceSeconds,
    });
  } catch (err) {
    if (!(err instanceof SignatureInvalid)) throw err;
    deps.metrics.add(METRICS.WebhookRejected);
    return reject(401, err.code, err.message);
  }

  // JSON between systems is UTF-8 (RFC 8259 §8.1): decoding anything else with replacement
  // characters would hand the model text the vendor never sent.
  let text: string;
  try {
    text = UTF8.decode(req.body);
  } catch {
    deps.metrics.add(METRICS.WebhookRejected);
    return reject(400, 'NOT_UTF8', `The body is not valid UTF-8 (first invalid byte at offset ${firstInvalidUtf8(req.body)}); webhooks must carry UTF-8 JSON.`);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    deps.metrics.add(METRICS.WebhookRejected);
    // The parser's message quotes part of the body (it may hold PII): report the position only.
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    return reject(400, 'MALFORMED_JSON', `The body is not valid JSON${position ? ` (at byte ${position})` : ''}.`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    deps.metrics.add(METRICS.WebhookRejected);
    return reject(400, 'NOT_ONE_EVENT', `Expected one ${def.source.vendor} event as a JSON object, got ${Array.isArray(parsed) ? `an array of ${parsed.length}` : typeof parsed}.`);
  }
  if (def.source.eventType) {
    const type = def.source.eventType(parsed, req.headers);
    if (type === undefined || !(def.source.events ?? []).includes(type)) {
      // Acknowledged, not processed: a vendor retries anything but 2xx, and it sends every event
      // the subscription covers (pings, closed issues, our own bot's comments).
      deps.metrics.add(METRICS.WebhookIgnored);
      return { status: 200, body: { status: 'ignored', eventType: type ?? null, reason: `${def.name} processes ${(def.source.events ?? []).join(', ') || 'no events'}; this delivery is ${type === undefined ? 'of no recognisable event type' : type}.` } };
    }
  }
  const eventId = def.source.eventId(parsed, req.headers);
  if (!eventId) {
    deps.metrics.add(METRICS.WebhookRejected);
    return reject(400, 'NO_EVENT_ID', `The ${def.source.vendor} event carries no event id, so duplicates could not be detected.`);
  }

  const now = deps.now();
  const decisionId = (deps.newDecisionId ?? newDecisionId)();
  const key = `${def.name}#${eventId}`;
  // Schemes that sign no timestamp (GitHub, Shopify) have no replay window: dedupe is their only
  // replay protection, so their event ids are remembered far longer.
  const ttlSeconds = SIGNATURE_SCHEMES[def.source.signature].timestamped ? deps.dedupeTtlSeconds : Math.max(deps.dedupeTtlSeconds, UNTIMESTAMPED_DEDUPE_TTL_SECONDS);
  const claim = await deps.dedupe.claim(key, decisionId, { ttlSeconds, leaseSeconds: DEDUPE_LEASE_SECONDS, now });
  if (!claim.claimed && claim.state === 'pending') {
    // Another delivery of this event is being accepted right now: ask the vendor to come back.
    return { status: 503, body: { status: 'retry', code: 'DELIVERY_IN_PROGRESS', reason: `Another delivery of event ${eventId} is being accepted right now; retry shortly.` } };
  }
  if (!claim.claimed) {
    deps.metrics.add(METRICS.DuplicateDelivery);
    return { status: 200, body: { status: 'duplicate', decisionId: claim.decisionId } };
  }

  let response: WebhookResponse;
  try {
    response = await accept(def, parsed, eventId, decisionId, now, req, deps);
  } catch (err) {
    // Not accepted after all: give the claim back (best effort: an unreleased claim lapses with its
    // lease) so the vendor's retry is processed, not deduped; the original error is what matters.
    await deps.dedupe.release(key, decisionId).catch(() => deps.metrics.add(METRICS.DedupeStoreFailure));
    throw err;
  }
  // The event is on the queue: from here a repeat is a duplicate. Should this write fail, the claim
  // stays pending and only a retry after the lease could start a second decision.
  await deps.dedupe.confirm(key, decisionId).catch(() => deps.metrics.add(METRICS.DedupeStoreFailure));
  return response;
}

/** How long event ids of schemes without a signed timestamp are remembered for dedupe (90 days). */
export const UNTIMESTAMPED_DEDUPE_TTL_SECONDS = 90 * 86_400;

/** How long a pending claim blocks other deliveries: well past the ingest function's timeout. */
export const DEDUPE_LEASE_SECONDS = 120;

async function accept(
  def: IntegrationDefinition, parsed: object, eventId: string, decisionId: string, now: Date, req: WebhookRequest, deps: IngestDeps,
): Promise<WebhookResponse> {
  const tenant = def.source.tenant(parsed, req.headers) ?? deps.defaultTenant;
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !SECRET_HEADERS.has(k)));
  const { sealed, key } = sealBody(req.body);
  await deps.vault.putBodyKey(decisionId, key, deps.rawBodyTtlSeconds, now);
  const record = sealRecord(
    {
      decisionId, integration: def.name, stage: 'ingest', attempt: 1, kind: 'accepted', at: now.toISOString(),
      // Method and URL with the headers are what a later re-verification of the signature needs.
      data: { vendor: def.source.vendor, vendorEventId: eventId, tenant, bytes: req.body.length, body: sealed, headers, method: req.method ?? 'POST', url: auditUrl(req.url) ?? null },
    },
    null,
  );
  await deps.audit.append(record);
  const envelope: Envelope = {
    v: 1, decisionId, integration: def.name, tenant, vendorEventId: eventId, receivedAt: now.toISOString(), stage: 'validate',
    auditHead: headOf(record), raw: { body: req.body.toString('utf8'), headers },
  };
  await deps.queues.send('validate', envelope);
  deps.metrics.add(METRICS.WebhookAccepted);
  return { status: 202, body: { status: 'accepted', decisionId } };
}
