import { createHash, randomBytes } from 'node:crypto';
import { headOf, sealRecord } from '../audit-record.js';
import type { Envelope } from '../envelope.js';
import { SignatureInvalid } from '../errors.js';
import type { IntegrationDefinition } from '../integration.js';
import { METRICS } from '../metrics.js';
import type { AuditStore, DedupeStore, MetricsSink, QueueSender, StageCommit, StageLedger, TokenVault } from '../ports.js';
import { SimulatedCrash, stageKey, type FaultInjector } from '../stage-runner.js';
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
  /**
   * Decision ids for tests; by default a decision's id is derived from the integration and the
   * vendor's event id ({@link decisionIdFor}), so a vendor's retry can never become a second decision.
   */
  newDecisionId?: () => string;
  /**
   * Exactly-once acceptance: what the first delivery committed (its audit record and queue
   * message) is applied again by a retry after a crash, instead of a second acceptance.
   * @default none — each delivery that claims the event accepts it
   */
  ledger?: StageLedger;
  /** How long a delivery holds the acceptance of an event. @default DEDUPE_LEASE_SECONDS */
  leaseSeconds?: number;
  faults?: FaultInjector;
}

/** Headers that must never be stored: credentials, and the sender's address (PII), not evidence. */
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'x-api-key', 'proxy-authorization', 'x-forwarded-for', 'x-real-ip', 'forwarded', 'true-client-ip', 'cf-connecting-ip']);

/** A time-sortable, unguessable decision id: `dec_<ms base36><48 random bits hex>` (backfill, tests). */
export function newDecisionId(now = Date.now()): string {
  return `dec_${now.toString(36)}${randomBytes(6).toString('hex')}`;
}

/**
 * The decision id of a vendor event: `dec_` and 96 bits of SHA-256 over the integration and the
 * vendor's event identity. Every delivery of one event — a retry after a timeout, after a crash
 * anywhere in ingest — names the same decision, so it can never start a second one.
 */
export function decisionIdFor(integration: string, eventId: string): string {
  return `dec_${createHash('sha256').update(`${integration}\u0000${eventId}`, 'utf8').digest('hex').slice(0, 24)}`;
}

const reject = (status: number, code: string, reason: string): WebhookResponse => ({ status, body: { status: 'rejected', code, reason } });

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Offset of the first byte of the first ill-formed UTF-8 sequence (Unicode 15, table 3-7):
 * a stray continuation byte, a bad lead byte, an overlong form, a surrogate, a code point above
 * U+10FFFF, or a sequence cut short (including by the end of the body).
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i += 1;
      continue;
    }
    // Allowed range of the second byte, and the sequence length, for each lead byte.
    let lo = 0x80;
    let hi = 0xbf;
    let length: number;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += length;
  }
  return -1;
}

/** Query parameters whose values look like credentials are not kept in the audit log. */
function auditUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const credentials = [...u.searchParams.keys()].filter((key) => /token|key|secret|sig|pass|auth/i.test(key));
  // Kept byte for byte when it carries no credential (HubSpot signs the exact URL); otherwise the
  // credential goes, and with it the ability to re-verify a HubSpot signature over that URL.
  if (credentials.length === 0) return url;
  for (const key of credentials) u.searchParams.set(key, '[removed]');
  return u.toString();
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
  const decisionId = deps.newDecisionId ? deps.newDecisionId() : decisionIdFor(def.name, eventId);
  // Schemes that sign no timestamp (GitHub, Shopify) have no replay window, and their delivery-id
  // headers are not signed: a captured delivery re-sent with a fresh id header would pass both the
  // signature and an id-only dedupe. So their dedupe also claims the SHA-256 of the signed bytes
  // (a real redelivery resends the same bytes), and both are remembered for 90 days.
  const timestamped = SIGNATURE_SCHEMES[def.source.signature].timestamped;
  const ttlSeconds = timestamped ? deps.dedupeTtlSeconds : Math.max(deps.dedupeTtlSeconds, UNTIMESTAMPED_DEDUPE_TTL_SECONDS);
  const keys = [`${def.name}#${eventId}`, ...(timestamped ? [] : [`${def.name}#sha256:${createHash('sha256').update(req.body).digest('hex')}`])];
  const claimed: string[] = [];
  const releaseAll = () => Promise.all(claimed.map((k) => deps.dedupe.release(k, decisionId).catch(() => deps.metrics.add(METRICS.DedupeStoreFailure))));
  for (const key of keys) {
    let claim: Awaited<ReturnType<DedupeStore['claim']>>;
    try {
      claim = await deps.dedupe.claim(key, decisionId, { ttlSeconds, leaseSeconds: DEDUPE_LEASE_SECONDS, now });
    } catch (err) {
      // The store failed on a later key: give back the ones taken, or the vendor's retry would
      // meet a pending claim (503) for the whole lease.
      await releaseAll();
      throw err;
    }
    // A pending claim of this very decision is an earlier delivery of this event that died or is
    // still running: the stage ledger below decides which (with deterministic ids, never a second decision).
    if (claim.claimed || (claim.state === 'pending' && claim.decisionId === decisionId && deps.ledger)) {
      claimed.push(key);
      continue;
    }
    await releaseAll();
    if (claim.state === 'pending') {
      // Another delivery of this event is being accepted right now: ask the vendor to come back.
      return { status: 503, body: { status: 'retry', code: 'DELIVERY_IN_PROGRESS', reason: `Another delivery of event ${eventId} is being accepted right now; retry shortly.` } };
    }
    deps.metrics.add(METRICS.DuplicateDelivery);
    return { status: 200, body: { status: 'duplicate', decisionId: claim.decisionId } };
  }

  let response: WebhookResponse;
  try {
    response = await accept(def, parsed, text, eventId, decisionId, now, req, deps);
  } catch (err) {
    // A dead process releases nothing: its claims stay pending until a retry takes them over.
    if (err instanceof SimulatedCrash) throw err;
    // Not accepted after all: give the claims back (best effort: an unreleased claim lapses with
    // its lease) so the vendor's retry is processed, not deduped; the original error is what matters.
    await releaseAll();
    throw err;
  }
  // The event is on the queue: from here a repeat is a duplicate. Should this write fail, the claim
  // stays pending and only a retry after the lease could start a second decision.
  // Another delivery of this event is still accepting it (503): its claim is its to confirm.
  if (response.status !== 202) return response;
  for (const key of keys) await deps.dedupe.confirm(key, decisionId).catch(() => deps.metrics.add(METRICS.DedupeStoreFailure));
  return response;
}

/** How long event ids of schemes without a signed timestamp are remembered for dedupe (90 days). */
export const UNTIMESTAMPED_DEDUPE_TTL_SECONDS = 90 * 86_400;

/** How long a pending claim blocks other deliveries: well past the ingest function's timeout. */
export const DEDUPE_LEASE_SECONDS = 120;

async function accept(
  def: IntegrationDefinition, parsed: object, text: string, eventId: string, decisionId: string, now: Date, req: WebhookRequest, deps: IngestDeps,
): Promise<WebhookResponse> {
  const key = stageKey('ingest', { integration: def.name, decisionId, auditHead: { seq: -1, hash: 'genesis' } });
  const claim = deps.ledger ? await deps.ledger.claim(key, { leaseSeconds: deps.leaseSeconds ?? DEDUPE_LEASE_SECONDS, now }) : undefined;
  if (claim?.kind === 'busy') {
    return { status: 503, body: { status: 'retry', code: 'DELIVERY_IN_PROGRESS', reason: `Another delivery of event ${eventId} is being accepted right now; retry shortly.` } };
  }
  let commit: StageCommit;
  if (claim?.kind === 'completed') {
    // An earlier delivery accepted it and died before it finished: finish its work, not a new one.
    deps.metrics.add(METRICS.StageRedelivered);
    commit = claim.commit;
    if (claim.handedOn) return { status: 202, body: { status: 'accepted', decisionId } };
    if (!claim.applyToken) {
      return { status: 503, body: { status: 'retry', code: 'DELIVERY_IN_PROGRESS', reason: `Another delivery of event ${eventId} is finishing its acceptance; retry shortly.` } };
    }
  } else {
    commit = await acceptance(def, parsed, text, eventId, decisionId, now, req, deps);
    if (deps.ledger && claim?.kind === 'claimed' && !(await deps.ledger.complete(key, claim.token, commit))) {
      return { status: 503, body: { status: 'retry', code: 'DELIVERY_IN_PROGRESS', reason: `Another delivery of event ${eventId} took over its acceptance; retry shortly.` } };
    }
  }
  for (const record of commit.records) await deps.audit.append(record);
  for (const send of commit.sends) await deps.queues.send(send.queue, send.body);
  deps.faults?.crash('after-ingest-send', decisionId);
  await deps.ledger?.markHandedOn(key);
  if (claim?.kind !== 'completed') deps.metrics.add(METRICS.WebhookAccepted);
  return { status: 202, body: { status: 'accepted', decisionId } };
}

/** The acceptance of one event, decided before any of it is written: the sealed body's key, the first record, the message. */
async function acceptance(
  def: IntegrationDefinition, parsed: object, text: string, eventId: string, decisionId: string, now: Date, req: WebhookRequest, deps: IngestDeps,
): Promise<StageCommit> {
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
  const envelope: Envelope = {
    v: 1, decisionId, integration: def.name, tenant, vendorEventId: eventId, receivedAt: now.toISOString(), stage: 'validate',
    // The decoded text (a byte order mark already dropped), which is what was parsed above.
    auditHead: headOf(record), raw: { body: text, headers },
  };
  return { records: [record], sends: [{ queue: 'validate', body: envelope }] };
}
