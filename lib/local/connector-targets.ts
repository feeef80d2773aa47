import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Which stand-in answered. */
export type ConnectorTarget = 'zendesk' | 'slack';

/** One request a stand-in received, as the connector sent it. */
export interface RecordedRequest {
  target: ConnectorTarget;
  method: string;
  path: string;
  /** Lower-cased; `authorization` is left out so recordings never hold credentials. */
  headers: Record<string, string>;
  /** Parsed JSON, or the raw text when the body is not JSON; undefined when empty. */
  body: unknown;
  /** Status the stand-in answered. */
  status: number;
  /** ISO time of receipt. */
  time: string;
}

/** A ticket as the Zendesk stand-in holds it after updates. */
export interface StandInTicket {
  id: number;
  tags: string[];
  priority: string | null;
  comments: Array<{ body: string; public: boolean }>;
  updated_at: string;
}

/** Options for {@link startConnectorTargets}. */
export interface ConnectorTargetsOptions {
  /** Zendesk's port; Slack's is the next one. @default 0 (free ports) */
  port?: number;
}

/** The running stand-ins. */
export interface ConnectorTargets {
  /** Base URL standing in for `https://<subdomain>.zendesk.com`. */
  zendeskUrl: string;
  /** Base URL standing in for `https://hooks.slack.com`. */
  slackUrl: string;
  requests(): RecordedRequest[];
  /** The Zendesk stand-in's view of a ticket after the updates it accepted. */
  ticket(id: number): StandInTicket | undefined;
  /** The next `count` requests to `target` answer `status` (503 by default; 429 adds `retry-after: 1`). */
  failNext(target: ConnectorTarget, count: number, status?: number): void;
  /** Forgets recorded requests, tickets and pending failures. */
  reset(): void;
  stop(): Promise<void>;
}

const TICKET_PATH = /^\/api\/v2\/tickets\/(\d+)\.json$/;

/**
 * Real HTTP servers standing in for the connectors' targets: Zendesk's ticket update API and a
 * Slack incoming webhook. Each target gets its own origin, as in production, so a connector
 * that builds URLs from its base URL cannot pass locally by accident.
 */
export async function startConnectorTargets(opts: ConnectorTargetsOptions = {}): Promise<ConnectorTargets> {
  let recorded: RecordedRequest[] = [];
  let tickets = new Map<number, StandInTicket>();
  const pendingFailures: Record<ConnectorTarget, Array<number>> = { zendesk: [], slack: [] };

  function serve(target: ConnectorTarget, route: (req: IncomingMessage, body: unknown) => Reply): Server {
    return createServer((req, res) => {
      readBody(req).then((raw) => {
        const body = parseBody(raw);
        const failure = pendingFailures[target].shift();
        const reply: Reply = failure !== undefined ? failureReply(target, failure) : route(req, body);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (name !== 'authorization' && value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        recorded.push({
          target, method: req.method ?? 'GET', path: req.url ?? '/', headers, body,
          status: reply.status, time: new Date().toISOString(),
        });
        write(res, reply);
      }).catch((error: unknown) => write(res, { status: 500, json: { error: `stand-in failed: ${(error as Error).message}` } }));
    });
  }

  const zendesk = serve('zendesk', (req, body) => {
    const match = TICKET_PATH.exec(req.url ?? '');
    if (req.method !== 'PUT' || !match) return { status: 404, json: { error: 'InvalidEndpoint', description: 'Not found' } };
    if (!/^Basic \S+$/.test(req.headers.authorization ?? '')) return { status: 401, json: { error: "Couldn't authenticate you" } };
    const update = (body as { ticket?: unknown } | undefined)?.ticket;
    if (typeof update !== 'object' || update === null) {
      return { status: 400, json: { error: 'RecordInvalid', description: 'Record validation errors', details: { base: [{ description: 'body must be { ticket: {...} }' }] } } };
    }
    const id = Number(match[1]);
    const ticket = applyTicketUpdate(tickets.get(id) ?? { id, tags: [], priority: null, comments: [], updated_at: '' }, update as TicketUpdate);
    tickets.set(id, ticket);
    return { status: 200, json: { ticket: { id, tags: ticket.tags, priority: ticket.priority, updated_at: ticket.updated_at } } };
  });

  const slack = serve('slack', (req, body) => {
    if (req.method !== 'POST' || !(req.url ?? '').startsWith('/services/')) return { status: 404, text: 'no_service' };
    if (typeof body !== 'object' || body === null) return { status: 400, text: 'invalid_payload' };
    const { text, blocks } = body as { text?: unknown; blocks?: unknown };
    if ((typeof text !== 'string' || text === '') && !Array.isArray(blocks)) return { status: 400, text: 'no_text' };
    return { status: 200, text: 'ok' };
  });

  const zendeskPort = await listen(zendesk, opts.port ?? 0);
  let slackPort: number;
  try {
    slackPort = await listen(slack, opts.port ? opts.port + 1 : 0);
  } catch (error) {
    await close(zendesk);
    throw error;
  }

  return {
    zendeskUrl: `http://127.0.0.1:${zendeskPort}`,
    slackUrl: `http://127.0.0.1:${slackPort}`,
    requests: () => recorded.map((r) => ({ ...r, headers: { ...r.headers } })),
    ticket: (id) => {
      const t = tickets.get(id);
      return t && { ...t, tags: [...t.tags], comments: [...t.comments] };
    },
    failNext: (target, count, status = 503) => {
      for (let i = 0; i < count; i++) pendingFailures[target].push(status);
    },
    reset: () => {
      recorded = [];
      tickets = new Map();
      pendingFailures.zendesk = [];
      pendingFailures.slack = [];
    },
    stop: async () => { await Promise.all([close(zendesk), close(slack)]); },
  };
}

interface TicketUpdate { tags?: unknown; priority?: unknown; comment?: { body?: unknown; public?: unknown } }

/** Zendesk semantics: `tags` replaces the tag list, `priority` sets it, `comment` appends one. */
function applyTicketUpdate(ticket: StandInTicket, update: TicketUpdate): StandInTicket {
  const next = { ...ticket, tags: [...ticket.tags], comments: [...ticket.comments], updated_at: new Date().toISOString() };
  if (Array.isArray(update.tags)) next.tags = update.tags.map(String);
  if (typeof update.priority === 'string' || update.priority === null) next.priority = update.priority;
  if (update.comment && typeof update.comment.body === 'string') {
    next.comments.push({ body: update.comment.body, public: update.comment.public !== false });
  }
  return next;
}

interface Reply { status: number; json?: unknown; text?: string; headers?: Record<string, string> }

function failureReply(target: ConnectorTarget, status: number): Reply {
  const headers = status === 429 ? { 'retry-after': '1' } : undefined;
  return target === 'zendesk'
    ? { status, json: { error: 'InjectedFailure', description: `failNext: status ${status}` }, headers }
    : { status, text: `injected_failure_${status}`, headers };
}

function write(res: ServerResponse, reply: Reply): void {
  const body = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? '');
  const contentType = reply.json !== undefined ? 'application/json; charset=utf-8' : 'text/html';
  res.writeHead(reply.status, { 'content-type': contentType, ...reply.headers });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    // Not JSON: record it as sent, so a test can see what the connector got wrong.
    return raw;
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((e) => (e ? reject(e) : resolve()));
    server.closeAllConnections();
  });
}
