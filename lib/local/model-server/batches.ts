/**
 * The Message Batches API of the local model server: create, retrieve, results (JSONL), with the
 * lifecycle a client must really poll through. Each request of a batch is answered by the same
 * reference model as `POST /v1/messages`, deterministically; only the timing is simulated: a batch
 * stays `in_progress` for a configurable number of retrieves (and, optionally, a minimum time),
 * reporting partial `request_counts`, then `ended` with a `results_url`.
 */
import { canonicalJson, sha256Hex } from './hash.js';
import type { ReplyMessage } from './reference-model.js';

/** How long a batch pretends to process. */
export interface BatchProcessingOptions {
  /** Retrieves that still see `in_progress` before the batch reports `ended`. @default 1 */
  inProgressRetrieves?: number;
  /** Minimum time from creation to `ended`, in milliseconds, on top of the retrieves. @default 0 */
  minProcessingMs?: number;
}

/** The API's error object inside an errored result or an error response. */
export interface ApiErrorObject {
  type: string;
  message: string;
}

/** What one request of a batch came to (the `result` of a JSONL line). */
export type BatchItemResult =
  | { type: 'succeeded'; message: ReplyMessage }
  | { type: 'errored'; error: { type: 'error'; error: ApiErrorObject; request_id: string | null } };

/** `request_counts` of a Message Batch. */
export interface BatchRequestCounts {
  processing: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
}

/** A Message Batch object as the API returns it. */
export interface MessageBatchObject {
  id: string;
  type: 'message_batch';
  processing_status: 'in_progress' | 'canceling' | 'ended';
  request_counts: BatchRequestCounts;
  ended_at: string | null;
  created_at: string;
  expires_at: string;
  archived_at: null;
  cancel_initiated_at: null;
  results_url: string | null;
}

/** One request of a `POST /v1/messages/batches` body. */
export interface BatchRequestParam {
  custom_id: string;
  params: unknown;
}

/** The API's limits on a batch (https://platform.claude.com/docs/en/api/messages/batches/create). */
export const MAX_BATCH_REQUESTS = 100_000;
const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;

/** How long a batch may take before the API expires what is left. */
const BATCH_EXPIRY_MS = 24 * 3600 * 1000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks the shape of a create body and returns the `invalid_request_error` message, or `null`.
 * Each request's `params` is checked later, per request, like the API does: a bad one becomes an
 * `errored` result instead of failing the whole batch.
 */
export function validateBatchCreate(body: unknown): string | null {
  if (!isRecord(body)) return 'request body must be a JSON object';
  if (!Array.isArray(body.requests)) return 'requests: Field required';
  if (body.requests.length === 0) return 'requests: List should have at least 1 item after validation, not 0';
  if (body.requests.length > MAX_BATCH_REQUESTS) return `requests: List should have at most ${MAX_BATCH_REQUESTS} items after validation, not ${body.requests.length}`;
  const seen = new Set<string>();
  for (const [i, r] of body.requests.entries()) {
    if (!isRecord(r)) return `requests.${i}: must be an object with custom_id and params`;
    if (typeof r.custom_id !== 'string') return `requests.${i}.custom_id: Field required`;
    if (!CUSTOM_ID.test(r.custom_id)) return `requests.${i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`;
    if (seen.has(r.custom_id)) return `requests.${i}.custom_id: '${r.custom_id}' is a duplicate; custom_id must be unique within the batch`;
    seen.add(r.custom_id);
    if (!isRecord(r.params)) return `requests.${i}.params: Field required`;
  }
  return null;
}

interface StoredBatch {
  id: string;
  createdAt: Date;
  /** Results in request order; revealed in `request_counts` as processing "advances". */
  results: Array<{ custom_id: string; result: BatchItemResult }>;
  retrieves: number;
  endedAt: Date | null;
}

/** Options of {@link createBatchStore}. */
export interface BatchStoreOptions {
  /** Answers one request's params (validation, faults and the reference model are the server's). */
  answer(params: unknown, forcedFault: string | undefined): BatchItemResult;
  now: () => Date;
  processing: () => BatchProcessingOptions;
}

/** The server's batches, in memory: a batch lives as long as the server. */
export interface BatchStore {
  /** Answers every request now (deterministic), returns the batch as `in_progress`. */
  create(requests: BatchRequestParam[], baseUrl: string, forcedFault?: string): MessageBatchObject;
  /** The batch as a poll sees it (each call advances processing); undefined for an unknown id. */
  retrieve(id: string, baseUrl: string): MessageBatchObject | undefined;
  /** JSONL of the results once ended; `undefined` for an unknown id, `null` while processing. */
  results(id: string): string | null | undefined;
  /** Batches created and requests submitted since start. */
  counts(): { batches: number; requests: number; succeeded: number; errored: number };
}

/** Creates the in-memory batch store of one server. */
export function createBatchStore(opts: BatchStoreOptions): BatchStore {
  const batches = new Map<string, StoredBatch>();
  const totals = { batches: 0, requests: 0, succeeded: 0, errored: 0 };

  const view = (b: StoredBatch, baseUrl: string): MessageBatchObject => {
    const total = b.results.length;
    const ended = b.endedAt !== null;
    const { inProgressRetrieves = 1 } = opts.processing();
    // While in progress, a share of the requests proportional to the polls so far reads as done.
    const done = ended ? total : Math.min(total, Math.floor((total * b.retrieves) / (Math.max(0, inProgressRetrieves) + 1)));
    const shown = b.results.slice(0, done);
    const succeeded = shown.filter((r) => r.result.type === 'succeeded').length;
    return {
      id: b.id,
      type: 'message_batch',
      processing_status: ended ? 'ended' : 'in_progress',
      request_counts: { processing: total - done, succeeded, errored: done - succeeded, canceled: 0, expired: 0 },
      ended_at: b.endedAt?.toISOString() ?? null,
      created_at: b.createdAt.toISOString(),
      expires_at: new Date(b.createdAt.getTime() + BATCH_EXPIRY_MS).toISOString(),
      archived_at: null,
      cancel_initiated_at: null,
      results_url: ended ? `${baseUrl}/v1/messages/batches/${b.id}/results` : null,
    };
  };

  return {
    create(requests, baseUrl, forcedFault) {
      totals.batches += 1;
      totals.requests += requests.length;
      // Deterministic id: the same body as the n-th batch of a server always gets the same id.
      const id = `msgbatch_${sha256Hex(`${canonicalJson(requests)}:${totals.batches}`).slice(0, 24)}`;
      const results = requests.map((r) => ({ custom_id: r.custom_id, result: opts.answer(r.params, forcedFault) }));
      for (const r of results) totals[r.result.type] += 1;
      const batch: StoredBatch = { id, createdAt: opts.now(), results, retrieves: 0, endedAt: null };
      batches.set(id, batch);
      return view(batch, baseUrl);
    },
    retrieve(id, baseUrl) {
      const b = batches.get(id);
      if (!b) return undefined;
      if (b.endedAt === null) {
        b.retrieves += 1;
        const { inProgressRetrieves = 1, minProcessingMs = 0 } = opts.processing();
        const now = opts.now();
        if (b.retrieves > inProgressRetrieves && now.getTime() - b.createdAt.getTime() >= minProcessingMs) b.endedAt = now;
      }
      return view(b, baseUrl);
    },
    results(id) {
      const b = batches.get(id);
      if (!b) return undefined;
      if (b.endedAt === null) return null;
      return b.results.map((r) => `${JSON.stringify(r)}\n`).join('');
    },
    counts: () => ({ ...totals }),
  };
}
