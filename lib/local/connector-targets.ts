import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Which stand-in answered. */
export type ConnectorTarget = 'zendesk' | 'slack' | 'github' | 'shopify';

/** Every stand-in, in port order. */
export const CONNECTOR_TARGETS: readonly ConnectorTarget[] = ['zendesk', 'slack', 'github', 'shopify'];

/** One request a stand-in received, as the connector sent it. */
export interface RecordedRequest {
  target: ConnectorTarget;
  method: string;
  path: string;
  /** Lower-cased; `authorization` and `x-shopify-access-token` are left out so recordings never hold credentials. */
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

/** An issue as the GitHub stand-in holds it after the labels and comments it accepted. */
export interface StandInIssue {
  owner: string;
  repo: string;
  number: number;
  labels: string[];
  comments: Array<{ id: number; body: string }>;
}

/** Options for {@link startConnectorTargets}. */
export interface ConnectorTargetsOptions {
  /** Zendesk's port; Slack, GitHub and Shopify take the next three. @default 0 (free ports) */
  port?: number;
}

/**
 * An injected failure: an HTTP status, or `throttled` — the vendor's own rate-limit answer: for
 * Shopify the Admin GraphQL cost limit (HTTP 200 with a `THROTTLED` error), for GitHub its primary
 * rate limit (403 with `x-ratelimit-remaining: 0`), for the others a 429.
 */
export type InjectedFailure = number | 'throttled';

/** The running stand-ins. */
export interface ConnectorTargets {
  /** Base URL standing in for `https://<subdomain>.zendesk.com`. */
  zendeskUrl: string;
  /** Base URL standing in for `https://hooks.slack.com`. */
  slackUrl: string;
  /** Base URL standing in for `https://api.github.com`. */
  githubUrl: string;
  /** Base URL standing in for `https://<shop>.myshopify.com`. */
  shopifyUrl: string;
  requests(): RecordedRequest[];
  /** The Zendesk stand-in's view of a ticket after the updates it accepted. */
  ticket(id: number): StandInTicket | undefined;
  /** The GitHub stand-in's view of an issue after the labels and comments it accepted. */
  issue(owner: string, repo: string, number: number): StandInIssue | undefined;
  /** Tags the Shopify stand-in holds for an order, by its global id (`gid://shopify/Order/1`). */
  orderTags(orderGid: string): string[] | undefined;
  /** The next `count` requests to `target` fail (503 by default; 429 adds `retry-after: 1`). */
  failNext(target: ConnectorTarget, count: number, status?: InjectedFailure): void;
  /** Forgets recorded requests, tickets, issues, orders and pending failures. */
  reset(): void;
  stop(): Promise<void>;
}

const TICKET_PATH = /^\/api\/v2\/tickets\/(\d+)\.json$/;
const ISSUE_PATH = /^\/repos\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)\/issues\/([1-9]\d*)\/(labels|comments)$/;
const GRAPHQL_PATH = /^\/admin\/api\/\d{4}-\d{2}\/graphql\.json$/;
const ORDER_GID = /^gid:\/\/shopify\/Order\/[1-9]\d*$/;
const GITHUB_DOCS = 'https://docs.github.com/rest/issues';
/** Headers that carry credentials: never recorded. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'x-shopify-access-token']);

/**
 * Real HTTP servers standing in for the connectors' targets: Zendesk's ticket update API, a
 * Slack incoming webhook, GitHub's issue labels and comments REST API, and Shopify's Admin
 * GraphQL `tagsAdd`. Each target gets its own origin, as in production, so a connector that
 * builds URLs from its base URL cannot pass locally by accident.
 */
export async function startConnectorTargets(opts: ConnectorTargetsOptions = {}): Promise<ConnectorTargets> {
  let recorded: RecordedRequest[] = [];
  let tickets = new Map<number, StandInTicket>();
  let issues = new Map<string, StandInIssue>();
  let orders = new Map<string, string[]>();
  let commentIds = 1_900_000_000;
  const pendingFailures: Record<ConnectorTarget, InjectedFailure[]> = { zendesk: [], slack: [], github: [], shopify: [] };

  function serve(target: ConnectorTarget, route: (req: IncomingMessage, body: unknown) => Reply): Server {
    return createServer((req, res) => {
      readBody(req).then((raw) => {
        const body = parseBody(raw);
        const failure = pendingFailures[target].shift();
        const reply: Reply = failure !== undefined ? failureReply(target, failure) : route(req, body);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (!CREDENTIAL_HEADERS.has(name) && value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
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

  const github = serve('github', (req, body) => {
    const match = ISSUE_PATH.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) return { status: 404, json: { message: 'Not Found', documentation_url: GITHUB_DOCS, status: '404' } };
    if (!/^(Bearer|token) \S+$/.test(req.headers.authorization ?? '')) {
      return { status: 401, json: { message: 'Requires authentication', documentation_url: GITHUB_DOCS, status: '401' } };
    }
    const [, owner, repo, n, kind] = match;
    const key = `${owner}/${repo}#${n}`.toLowerCase();
    const current = issues.get(key) ?? { owner, repo, number: Number(n), labels: [], comments: [] };
    const invalid = (field: string) => ({ status: 422, json: { message: 'Validation Failed', errors: [{ resource: kind === 'labels' ? 'Label' : 'IssueComment', code: 'invalid', field }], documentation_url: GITHUB_DOCS, status: '422' } });
    if (kind === 'labels') {
      const labels = (body as { labels?: unknown } | undefined)?.labels;
      if (!Array.isArray(labels) || labels.length === 0 || labels.some((l) => typeof l !== 'string' || l.trim() === '')) return invalid('labels');
      // GitHub semantics: labels are added to the existing ones, matched case-insensitively.
      const next = [...current.labels];
      for (const l of labels as string[]) if (!next.some((x) => x.toLowerCase() === l.toLowerCase())) next.push(l);
      issues.set(key, { ...current, labels: next });
      return { status: 200, json: next.map((name, i) => ({ id: 7_000_000_000 + i, name, color: 'ededed', default: false, description: null })) };
    }
    const text = (body as { body?: unknown } | undefined)?.body;
    if (typeof text !== 'string' || text.trim() === '') return invalid('body');
    const id = ++commentIds;
    issues.set(key, { ...current, comments: [...current.comments, { id, body: text }] });
    return {
      status: 201,
      json: { id, body: text, html_url: `https://github.com/${owner}/${repo}/issues/${n}#issuecomment-${id}`, created_at: new Date().toISOString() },
    };
  });

  const shopify = serve('shopify', (req, body) => {
    if (req.method !== 'POST' || !GRAPHQL_PATH.test(req.url ?? '')) return { status: 404, json: { errors: 'Not Found' } };
    if (!req.headers['x-shopify-access-token']) {
      return { status: 401, json: { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' } };
    }
    const { query, variables } = (body ?? {}) as { query?: unknown; variables?: { id?: unknown; tags?: unknown } };
    if (typeof query !== 'string' || !/\btagsAdd\s*\(/.test(query)) {
      return { status: 200, json: { errors: [{ message: 'The stand-in only implements the tagsAdd mutation.', extensions: { code: 'undefinedField' } }] } };
    }
    const id = variables?.id;
    const tags = variables?.tags;
    const answer = (node: { id: string } | null, userErrors: Array<{ field: string[]; message: string }>) => ({
      status: 200,
      json: {
        data: { tagsAdd: { node, userErrors } },
        extensions: { cost: { requestedQueryCost: 10, actualQueryCost: 10, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1990, restoreRate: 100 } } },
      },
    });
    if (typeof id !== 'string' || !ORDER_GID.test(id)) return answer(null, [{ field: ['id'], message: 'Invalid global id' }]);
    if (!Array.isArray(tags) || tags.length === 0 || tags.some((t) => typeof t !== 'string' || t.trim() === '')) {
      return answer(null, [{ field: ['tags'], message: 'Tags must be a list of non-blank strings' }]);
    }
    const next = [...(orders.get(id) ?? [])];
    for (const t of tags as string[]) if (!next.includes(t.trim())) next.push(t.trim());
    orders.set(id, next);
    return answer({ id }, []);
  });

  const servers: Array<[ConnectorTarget, Server]> = [['zendesk', zendesk], ['slack', slack], ['github', github], ['shopify', shopify]];
  const ports = {} as Record<ConnectorTarget, number>;
  try {
    for (const [i, [target, server]] of servers.entries()) ports[target] = await listen(server, opts.port ? opts.port + i : 0);
  } catch (error) {
    await Promise.all(servers.filter(([t]) => ports[t] !== undefined).map(([, s]) => close(s)));
    throw error;
  }

  return {
    zendeskUrl: `http://127.0.0.1:${ports.zendesk}`,
    slackUrl: `http://127.0.0.1:${ports.slack}`,
    githubUrl: `http://127.0.0.1:${ports.github}`,
    shopifyUrl: `http://127.0.0.1:${ports.shopify}`,
    requests: () => recorded.map((r) => ({ ...r, headers: { ...r.headers } })),
    ticket: (id) => {
      const t = tickets.get(id);
      return t && { ...t, tags: [...t.tags], comments: [...t.comments] };
    },
    issue: (owner, repo, number) => {
      const i = issues.get(`${owner}/${repo}#${number}`.toLowerCase());
      return i && { ...i, labels: [...i.labels], comments: i.comments.map((c) => ({ ...c })) };
    },
    orderTags: (gid) => {
      const tags = orders.get(gid);
      return tags && [...tags];
    },
    failNext: (target, count, status = 503) => {
      for (let i = 0; i < count; i++) pendingFailures[target].push(status);
    },
    reset: () => {
      recorded = [];
      tickets = new Map();
      issues = new Map();
      orders = new Map();
      for (const t of CONNECTOR_TARGETS) pendingFailures[t] = [];
    },
    stop: async () => { await Promise.all(servers.map(([, s]) => close(s))); },
  };
}

interface TicketUpdate { tags?: unknown; additional_tags?: unknown; priority?: unknown; comment?: { body?: unknown; public?: unknown } }

/** Zendesk semantics: `tags` replaces the tag list, `additional_tags` adds to it, `priority` sets it, `comment` appends one. */
function applyTicketUpdate(ticket: StandInTicket, update: TicketUpdate): StandInTicket {
  const next = { ...ticket, tags: [...ticket.tags], comments: [...ticket.comments], updated_at: new Date().toISOString() };
  if (Array.isArray(update.tags)) next.tags = update.tags.map(String);
  if (Array.isArray(update.additional_tags)) next.tags = [...new Set([...next.tags, ...update.additional_tags.map(String)])];
  if (typeof update.priority === 'string' || update.priority === null) next.priority = update.priority;
  if (update.comment && typeof update.comment.body === 'string') {
    next.comments.push({ body: update.comment.body, public: update.comment.public !== false });
  }
  return next;
}

interface Reply { status: number; json?: unknown; text?: string; headers?: Record<string, string> }

function failureReply(target: ConnectorTarget, failure: InjectedFailure): Reply {
  if (failure === 'throttled' && target === 'shopify') {
    // The Admin GraphQL API's cost limit: HTTP 200 with a THROTTLED error, not a 429.
    return { status: 200, json: { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }] } };
  }
  if (failure === 'throttled' && target === 'github') {
    return { status: 403, json: { message: 'API rate limit exceeded for installation.', documentation_url: GITHUB_DOCS }, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 60) } };
  }
  const status = failure === 'throttled' ? 429 : failure;
  const headers = status === 429 ? { 'retry-after': '1' } : undefined;
  switch (target) {
    case 'zendesk':
      return { status, json: { error: 'InjectedFailure', description: `failNext: status ${status}` }, headers };
    case 'github':
      return { status, json: { message: `failNext: status ${status}`, documentation_url: GITHUB_DOCS }, headers };
    case 'shopify':
      return { status, json: { errors: `failNext: status ${status}` }, headers };
    default:
      return { status, text: `injected_failure_${status}`, headers };
  }
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
