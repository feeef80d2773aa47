/**
 * The local model server: the Seamwork reference model (see `reference-model.ts`) behind enough
 * of the Anthropic Messages API that the real `@anthropic-ai/sdk`, given `baseURL`, works
 * unchanged. Plain `node:http`, so nothing between the SDK's bytes and our handler can hide a
 * wire-protocol mismatch. Offline and deterministic unless faults are configured.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requestHash, sha256Hex } from './hash.js';
import {
  applyOutputFault,
  DEFAULT_TIMEOUT_MS,
  FaultConfigSchema,
  isFaultKind,
  selectFault,
  type FaultConfig,
  type FaultKind,
} from './faults.js';
import { answerMessages, countRequestTokens, REFERENCE_MODEL_ID, requestedSchema, type ReplyMessage } from './reference-model.js';
import { collectSources, validateMessagesRequest, type MessagesRequest } from './request.js';
import { createBatchStore, validateBatchCreate, type BatchItemResult, type BatchProcessingOptions, type BatchRequestParam } from './batches.js';

/** Options of {@link startModelServer}. */
export interface ModelServerOptions {
  /** Port to bind; 0 picks a free one. @default 0 */
  port?: number;
  /** Interface to bind; loopback so the server is never reachable from the network. @default '127.0.0.1' */
  host?: string;
  /** Initial fault configuration. @default no faults */
  faults?: FaultConfig;
  /** How long a Message Batch stays `in_progress`. @default one retrieve in progress, then ended */
  batches?: BatchProcessingOptions;
  /** Clock for batch timestamps and `minProcessingMs`. @default () => new Date() */
  now?: () => Date;
}

/** Request counters, for tests and demos that assert how many tries a client made. */
export interface ModelServerStats {
  requests: number;
  byStatus: Record<string, number>;
  /** `POST /v1/messages` calls received (one per try). */
  messages: number;
  /** Message Batches created, the requests they carried, and how those requests ended. */
  batches: { created: number; requests: number; succeeded: number; errored: number };
}

/** A running model server. */
export interface ModelServer {
  /** Base URL to give the SDK as `baseURL` (or `ANTHROPIC_BASE_URL`). */
  readonly url: string;
  readonly port: number;
  /** Closes the listener, drops open connections and cancels held (timeout-fault) requests. */
  stop(): Promise<void>;
  /** Replaces the fault configuration and restarts the per-body attempt counters. */
  setFaults(faults: FaultConfig): void;
  /** Replaces how long batches stay in progress (applies to batches already processing too). */
  setBatchProcessing(options: BatchProcessingOptions): void;
  /** Counters since start. */
  stats(): ModelServerStats;
  /**
   * Every fault injected since start, in order: output faults with the id of the message they
   * corrupted (the `msg_…` the client's audit keeps), HTTP faults (and faults on batch requests
   * that errored) with `messageId: ''`. Also served as `GET /_seamwork/fault-log`.
   */
  faultLog(): FaultLogEntry[];
}

/** One injected fault, as {@link ModelServer.faultLog} lists it. */
export interface FaultLogEntry {
  /** The faulted reply's message id; '' when no message was sent (an HTTP fault). */
  messageId: string;
  kind: FaultKind;
  /** When the fault was injected (ISO 8601, from the server's clock). */
  at: string;
}

/**
 * The id of a faulted reply: its own, so an audit record that keeps the message id can be matched
 * to the fault log, and a clean retry of the same body (which keeps the body's id) cannot be.
 */
function faultedMessageId(bodyHash: string, ordinal: number, kind: FaultKind): string {
  return `msg_${sha256Hex(`${bodyHash}:${ordinal}:fault:${kind}`).slice(0, 24)}`;
}

/** Request header that forces one fault kind on that request. */
export const FAULT_HEADER = 'x-seamwork-fault';

/** Response header naming the fault that was injected, so a trace shows why a reply is odd. */
export const FAULT_APPLIED_HEADER = 'x-seamwork-fault-applied';

/** `/v1/messages/batches/{id}` and `/v1/messages/batches/{id}/results`. */
const BATCH_PATH = /^\/v1\/messages\/batches\/([A-Za-z0-9_-]+)(\/results)?$/;

/** Largest request body accepted, in bytes; the API's own limit is of the same order. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

const HTTP_FAULT_REPLIES: Partial<Record<FaultKind, { status: number; type: string; message: string }>> = {
  rate_limit: { status: 429, type: 'rate_limit_error', message: 'Injected fault: rate limit exceeded; retry after 1 second.' },
  overloaded: { status: 529, type: 'overloaded_error', message: 'Injected fault: the reference model is overloaded.' },
  server_error: { status: 500, type: 'api_error', message: 'Injected fault: internal server error.' },
  timeout: { status: 529, type: 'overloaded_error', message: 'Injected fault: the request was held and timed out.' },
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'request_too_large', `request body exceeds ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, 'invalid_request_error', `request body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Starts the server and resolves once it is listening. The process keeps no global state: two
 * servers in one process (e.g. parallel tests) are fully independent.
 */
export async function startModelServer(opts: ModelServerOptions = {}): Promise<ModelServer> {
  const host = opts.host ?? '127.0.0.1';
  let faults: FaultConfig = opts.faults ?? {};
  // How many times each body has been seen since the faults were set: the fault roll's ordinal.
  let ordinals = new Map<string, number>();
  const cachedPrefixes = new Set<string>();
  const held = new Set<NodeJS.Timeout>();
  const counters: Omit<ModelServerStats, 'batches'> = { requests: 0, byStatus: {}, messages: 0 };
  let unparsedIds = 0;
  let batchProcessing: BatchProcessingOptions = { ...opts.batches };
  const now = opts.now ?? (() => new Date());
  const faultEntries: FaultLogEntry[] = [];
  const logFault = (kind: FaultKind, messageId: string) => faultEntries.push({ messageId, kind, at: now().toISOString() });
  /** The reply a request gets: the clean answer, or a corrupted copy under its own id, logged. */
  const faultedReply = (message: ReplyMessage, fault: FaultKind | null, request: MessagesRequest, bodyHash: string, ordinal: number): ReplyMessage => {
    if (!fault) return message;
    const corrupted = { ...applyOutputFault(fault, message, requestedSchema(request), collectSources(request)), id: faultedMessageId(bodyHash, ordinal, fault) };
    logFault(fault, corrupted.id);
    return corrupted;
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.headersSent || res.destroyed) return;
    counters.byStatus[String(status)] = (counters.byStatus[String(status)] ?? 0) + 1;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
      'x-seamwork-reference-model': 'not-an-llm',
      ...headers,
    });
    res.end(text);
  };
  const sendError = (res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}) =>
    send(res, status, { type: 'error', error: { type, message } }, headers);

  const authenticate = (req: IncomingMessage) => {
    // The key's value is irrelevant offline; its absence is still an error, because a client that
    // forgets to send one would fail against the real API.
    if (!req.headers['x-api-key'] && !req.headers.authorization) {
      throw new HttpError(401, 'authentication_error', 'x-api-key header is required');
    }
  };

  const handleMessages = async (req: IncomingMessage, res: ServerResponse, countOnly: boolean) => {
    const fallbackId = `req_local_${String(++unparsedIds).padStart(8, '0')}`;
    let requestId = fallbackId;
    try {
      authenticate(req);
      const body = parseJson(await readBody(req));
      const invalid = validateMessagesRequest(body, !countOnly);
      if (invalid) throw new HttpError(400, 'invalid_request_error', invalid);
      const request = body as MessagesRequest;
      if (countOnly) {
        send(res, 200, { input_tokens: countRequestTokens(request) }, { 'request-id': `req_${requestHash(body).slice(0, 24)}` });
        return;
      }

      const forcedHeader = req.headers[FAULT_HEADER];
      const forcedName = Array.isArray(forcedHeader) ? forcedHeader[0] : forcedHeader;
      if (forcedName !== undefined && !isFaultKind(forcedName)) {
        throw new HttpError(400, 'invalid_request_error', `${FAULT_HEADER}: unknown fault kind '${forcedName}'`);
      }
      const bodyHash = requestHash(body);
      const ordinal = ordinals.get(bodyHash) ?? 0;
      ordinals.set(bodyHash, ordinal + 1);
      requestId = `req_${sha256Hex(`${bodyHash}:${ordinal}`).slice(0, 24)}`;
      const fault = selectFault(faults, bodyHash, ordinal, forcedName);
      const headers: Record<string, string> = { 'request-id': requestId };
      if (fault) headers[FAULT_APPLIED_HEADER] = fault;

      const httpFault = fault ? HTTP_FAULT_REPLIES[fault] : undefined;
      if (fault && httpFault) {
        logFault(fault, '');
        if (fault === 'rate_limit') headers['retry-after'] = '1';
        if (fault === 'timeout') {
          const timer = setTimeout(() => {
            held.delete(timer);
            sendError(res, httpFault.status, httpFault.type, httpFault.message, headers);
          }, faults.timeoutMs ?? DEFAULT_TIMEOUT_MS);
          held.add(timer);
          // The client gave up: stop holding, so nothing is written to a dead socket later.
          res.on('close', () => {
            clearTimeout(timer);
            held.delete(timer);
          });
          return;
        }
        sendError(res, httpFault.status, httpFault.type, httpFault.message, headers);
        return;
      }

      const answer = answerMessages(request, { cachedPrefixes });
      if (answer.cachePrefixHash) cachedPrefixes.add(answer.cachePrefixHash);
      send(res, 200, faultedReply(answer.message, fault, request, bodyHash, ordinal), headers);
    } catch (error) {
      if (error instanceof HttpError) sendError(res, error.status, error.type, error.message, { 'request-id': requestId });
      else throw error;
    }
  };

  /** One request of a batch, answered like `POST /v1/messages` would answer it, as a result object. */
  const answerBatchRequest = (params: unknown, forcedName: string | undefined): BatchItemResult => {
    const bodyHash = requestHash(params);
    const errored = (type: string, message: string): BatchItemResult => ({
      type: 'errored', error: { type: 'error', error: { type, message }, request_id: `req_${sha256Hex(`${bodyHash}:batch-error`).slice(0, 24)}` },
    });
    const invalid = validateMessagesRequest(params, true);
    if (invalid) return errored('invalid_request_error', invalid);
    const request = params as MessagesRequest;
    const ordinal = ordinals.get(bodyHash) ?? 0;
    ordinals.set(bodyHash, ordinal + 1);
    const fault = selectFault(faults, bodyHash, ordinal, forcedName as FaultKind | undefined);
    const httpFault = fault ? HTTP_FAULT_REPLIES[fault] : undefined;
    // In a batch there is no connection to hold or header to send: an HTTP fault is an errored result.
    if (fault && httpFault) {
      logFault(fault, '');
      return errored(httpFault.type, httpFault.message);
    }
    const answer = answerMessages(request, { cachedPrefixes });
    if (answer.cachePrefixHash) cachedPrefixes.add(answer.cachePrefixHash);
    return { type: 'succeeded', message: faultedReply(answer.message, fault, request, bodyHash, ordinal) };
  };
  const batches = createBatchStore({ answer: answerBatchRequest, now, processing: () => batchProcessing });

  /** The origin the client reached us at, for `results_url` (the SDK fetches that URL as given). */
  const originOf = (req: IncomingMessage) => `http://${req.headers.host ?? `${host}:${(server.address() as AddressInfo).port}`}`;

  const handleBatchCreate = async (req: IncomingMessage, res: ServerResponse) => {
    authenticate(req);
    const body = parseJson(await readBody(req));
    const invalid = validateBatchCreate(body);
    if (invalid) throw new HttpError(400, 'invalid_request_error', invalid);
    const forcedHeader = req.headers[FAULT_HEADER];
    const forcedName = Array.isArray(forcedHeader) ? forcedHeader[0] : forcedHeader;
    if (forcedName !== undefined && !isFaultKind(forcedName)) {
      throw new HttpError(400, 'invalid_request_error', `${FAULT_HEADER}: unknown fault kind '${forcedName}'`);
    }
    const batch = batches.create((body as { requests: BatchRequestParam[] }).requests, originOf(req), forcedName);
    send(res, 200, batch, { 'request-id': `req_${batch.id.slice('msgbatch_'.length)}` });
  };

  const handleBatchRetrieve = (req: IncomingMessage, res: ServerResponse, id: string) => {
    authenticate(req);
    const batch = batches.retrieve(id, originOf(req));
    if (!batch) throw new HttpError(404, 'not_found_error', `No Message Batch with id ${id}.`);
    send(res, 200, batch);
  };

  const handleBatchResults = (req: IncomingMessage, res: ServerResponse, id: string) => {
    authenticate(req);
    const jsonl = batches.results(id);
    if (jsonl === undefined) throw new HttpError(404, 'not_found_error', `No Message Batch with id ${id}.`);
    if (jsonl === null) throw new HttpError(400, 'invalid_request_error', `Message Batch ${id} is still in_progress; its results are available once processing_status is ended.`);
    if (res.headersSent || res.destroyed) return;
    counters.byStatus['200'] = (counters.byStatus['200'] ?? 0) + 1;
    res.writeHead(200, { 'content-type': 'application/x-jsonl', 'content-length': String(Buffer.byteLength(jsonl)), 'x-seamwork-reference-model': 'not-an-llm' });
    res.end(jsonl);
  };

  const handleFaults = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET') return send(res, 200, faults);
    const parsed = FaultConfigSchema.safeParse(parseJson(await readBody(req)));
    if (!parsed.success) {
      throw new HttpError(400, 'invalid_request_error', `invalid fault config: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    setFaults(parsed.data);
    send(res, 200, faults);
  };

  const setFaults = (next: FaultConfig) => {
    faults = structuredClone(next);
    ordinals = new Map();
  };

  const stats = (): ModelServerStats => structuredClone({ ...counters, batches: (({ batches: created, ...rest }) => ({ created, ...rest }))(batches.counts()) });

  const server = createServer((req, res) => {
    counters.requests += 1;
    const path = (req.url ?? '/').split('?')[0];
    const route = `${req.method} ${path}`;
    const batchRoute = req.method === 'GET' ? BATCH_PATH.exec(path) : null;
    const work = (async () => {
      if (batchRoute) return batchRoute[2] ? handleBatchResults(req, res, batchRoute[1]) : handleBatchRetrieve(req, res, batchRoute[1]);
      switch (route) {
        case 'POST /v1/messages':
          counters.messages += 1;
          return handleMessages(req, res, false);
        case 'POST /v1/messages/batches':
          return handleBatchCreate(req, res);
        case 'POST /v1/messages/count_tokens':
          return handleMessages(req, res, true);
        case 'GET /health':
          return send(res, 200, { ok: true, model: REFERENCE_MODEL_ID });
        case 'GET /_seamwork/faults':
        case 'POST /_seamwork/faults':
          return handleFaults(req, res);
        case 'GET /_seamwork/stats':
          return send(res, 200, stats());
        case 'GET /_seamwork/fault-log':
          return send(res, 200, structuredClone(faultEntries));
        default:
          throw new HttpError(404, 'not_found_error', `no route for ${route}`);
      }
    })();
    work.catch((error: unknown) => {
      if (error instanceof HttpError) return sendError(res, error.status, error.type, error.message);
      // A bug in the reference model must surface as the API's 500 shape, with the cause logged.
      console.error('[model-server] unhandled error', error);
      sendError(res, 500, 'api_error', `reference model failure: ${(error as Error)?.message ?? String(error)}`);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of held) clearTimeout(timer);
        held.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets (the SDK's fetch pools them) would otherwise hold close() open.
        server.closeAllConnections();
      }),
    setFaults,
    setBatchProcessing: (options) => {
      batchProcessing = { ...options };
    },
    stats,
    faultLog: () => structuredClone(faultEntries),
  };
}
