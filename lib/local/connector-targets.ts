import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '../../lambdas/core/faults.js';

/** Which stand-in answered. */
export type ConnectorTarget = 'zendesk' | 'slack' | 'github' | 'shopify';

/** Every stand-in, in port order. */
export const CONNECTOR_TARGETS: readonly ConnectorTarget[] = ['zendesk', 'slack', 'github', 'shopify'];

/**
 * A fault a stand-in injected into one request: `before` — failed without committing (failNext);
 * `error` — committed, then answered 503; `hang` — committed, then never answered; `reset` —
 * committed, then destroyed the connection.
 */
export type InjectedFault = 'before' | 'error' | 'hang' | 'reset';

/** One request a stand-in received, as the connector sent it. */
export interface RecordedRequest {
  target: ConnectorTarget;
  method: string;
  path: string;
  /** Lower-cased; `authorization` and `x-shopify-access-token` are left out so recordings never hold credentials. */
  headers: Record<string, string>;
  /** Parsed JSON, or the raw text when the body is not JSON; undefined when empty. */
  body: unknown;
  /** Status the client received; 0 when it received no answer (a `hang` or `reset` fault). */
  status: number;
  /** The fault injected into this request, if any. */
  fault?: InjectedFault;
  /** ISO time of receipt. */
  time: string;
}

/** A ticket as the Zendesk stand-in holds it after updates. */
export interface StandInTicket {
  id: number;
  tags: string[];
  priority: string | null;
  /** `public: false` is an internal note. */
  comments: Array<{ id: number; body: string; public: boolean; created_at: string }>;
  updated_at: string;
}

/** An issue as the GitHub stand-in holds it after the labels and comments it accepted. */
export interface StandInIssue {
  owner: string;
  repo: string;
  number: number;
  labels: string[];
  comments: Array<{ id: number; body: string; created_at: string }>;
}

/** A message the Slack stand-in holds, in the channel it was posted to. */
export interface StandInSlackMessage {
  /** The channel's id (`C…`), whether it was posted by id or by name. */
  channel: string;
  ts: string;
  text: string;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

/**
 * One change a stand-in committed, the unit a test counts to prove an action happened once at
 * the vendor: a comment (GitHub; Zendesk, where `public: false` is an internal note), a message
 * (Slack), a set of labels (GitHub) or tags (Zendesk, Shopify), a priority (Zendesk).
 */
export interface VendorEffect {
  target: ConnectorTarget;
  kind: 'comment' | 'message' | 'labels' | 'tags' | 'priority';
  /** What it landed on: `owner/repo#12`, a ticket id, a Slack channel id, an order's global id. */
  on: string;
  /** Comment or message text as stored (markers included). */
  text?: string;
  /** Labels, tags or the priority the request set. */
  values?: string[];
  /** Zendesk comments: public reply or internal note. */
  public?: boolean;
  /** The vendor's id for it: a comment id, a message `ts`. */
  id?: string;
  /** Slack message metadata. */
  metadata?: unknown;
  time: string;
}

/** Options for {@link startConnectorTargets}. */
export interface ConnectorTargetsOptions {
  /** Zendesk's port; Slack, GitHub and Shopify take the next three. @default 0 (free ports) */
  port?: number;
}

/**
 * An injected failure: an HTTP status, `throttled` — the vendor's own rate-limit answer: for
 * Shopify the Admin GraphQL cost limit (HTTP 200 with a `THROTTLED` error), for GitHub its primary
 * rate limit (403 with `x-ratelimit-remaining: 0`), for the others a 429 — or, for Slack, a Web API
 * error code (`{ slackError: 'ratelimited' }` → HTTP 200 `{ ok: false, error: 'ratelimited' }`).
 */
export type InjectedFailure = number | 'throttled' | { slackError: string };

/** How a request fails after its effect was committed. */
export type CommitFailureMode = 'error' | 'hang' | 'reset';

/**
 * Random faults, deterministic by seed. Every request to a chosen target draws one number `u` in
 * [0, 1) from the seeded generator, in arrival order, and fails by the first band it falls in:
 * `[0, failBeforeRate)` → 503 without committing; then `commitThenFailRate` wide → committed, then
 * 503; then `hangRate` → committed, then no answer; then `resetRate` → committed, then the
 * connection destroyed; otherwise no fault. Reads draw too (their commit changes nothing).
 * `failNext` and `failAfterCommit` queues are served first and do not draw.
 */
export interface ChaosOptions {
  seed: number;
  /** @default 0 */
  failBeforeRate?: number;
  /** @default 0 */
  commitThenFailRate?: number;
  /** @default 0 */
  hangRate?: number;
  /** @default 0 */
  resetRate?: number;
  /** @default every target */
  targets?: readonly ConnectorTarget[];
}

/** The running stand-ins. */
export interface ConnectorTargets {
  /** Base URL standing in for `https://<subdomain>.zendesk.com`. */
  zendeskUrl: string;
  /** Base URL standing in for Slack's Web API origin, `https://slack.com` (methods under `/api/`). */
  slackUrl: string;
  /** Base URL standing in for `https://api.github.com`. */
  githubUrl: string;
  /** Base URL standing in for `https://<shop>.myshopify.com`. */
  shopifyUrl: string;
  requests(): RecordedRequest[];
  /** Every change the stand-ins committed, in order, or only `target`'s. */
  effects(target?: ConnectorTarget): VendorEffect[];
  /** The Zendesk stand-in's view of a ticket after the updates it accepted. */
  ticket(id: number): StandInTicket | undefined;
  /** The GitHub stand-in's view of an issue after the labels and comments it accepted. */
  issue(owner: string, repo: string, number: number): StandInIssue | undefined;
  /** Tags the Shopify stand-in holds for an order, by its global id (`gid://shopify/Order/1`). */
  orderTags(orderGid: string): string[] | undefined;
  /** Messages the Slack stand-in holds for a channel, by id or name (`#support-urgent`), oldest first. */
  slackMessages(channel: string): StandInSlackMessage[];
  /** The next `count` requests to `target` fail without committing (503 by default; 429 adds `retry-after: 1`). */
  failNext(target: ConnectorTarget, count: number, status?: InjectedFailure): void;
  /**
   * The next `count` requests to `target` are served — the comment stored, the message posted,
   * the tags set — and then fail: `error` answers 503, `hang` holds the answer until the client
   * gives up (the socket closes), `reset` destroys the connection.
   */
  failAfterCommit(target: ConnectorTarget, count: number, mode: CommitFailureMode): void;
  /** Turns on random faults ({@link ChaosOptions}), or off with undefined. */
  setChaos(options: ChaosOptions | undefined): void;
  /** Forgets recorded requests, effects, tickets, issues, messages, orders, pending failures and chaos; drops held answers. */
  reset(): void;
  stop(): Promise<void>;
}

const TICKET_PATH = /^\/api\/v2\/tickets\/(\d+)\.json$/;
const TICKET_COMMENTS_PATH = /^\/api\/v2\/tickets\/(\d+)\/comments\.json$/;
const ISSUE_PATH = /^\/repos\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)\/issues\/([1-9]\d*)\/(labels|comments)$/;
const GRAPHQL_PATH = /^\/admin\/api\/\d{4}-\d{2}\/graphql\.json$/;
const ORDER_GID = /^gid:\/\/shopify\/Order\/[1-9]\d*$/;
const SLACK_CHANNEL_ID = /^[CGD][A-Z0-9]{8,}$/;
const GITHUB_DOCS = 'https://docs.github.com/rest/issues';
/** Headers that carry credentials: never recorded. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'x-shopify-access-token']);

type Fault = { kind: 'before'; failure: InjectedFailure } | { kind: CommitFailureMode };

interface SlackChannel { id: string; name: string; messages: StandInSlackMessage[] }

/**
 * Real HTTP servers standing in for the connectors' targets: Zendesk's ticket update and ticket
 * comments API, Slack's Web API (`chat.postMessage` with metadata, `conversations.history`,
 * `conversations.list`), GitHub's issue labels and comments REST API, and Shopify's Admin GraphQL
 * `tagsAdd`. Each target gets its own origin, as in production, so a connector that builds URLs
 * from its base URL cannot pass locally by accident. Faults can be injected before the commit
 * (`failNext`), after it (`failAfterCommit`), or at random by seed (`setChaos`).
 */
export async function startConnectorTargets(opts: ConnectorTargetsOptions = {}): Promise<ConnectorTargets> {
  let recorded: RecordedRequest[] = [];
  let effects: VendorEffect[] = [];
  let tickets = new Map<number, StandInTicket>();
  let issues = new Map<string, StandInIssue>();
  let orders = new Map<string, string[]>();
  let channels = new Map<string, SlackChannel>();
  let commentIds = 1_900_000_000;
  let slackSeq = 0;
  let chaos: { options: ChaosOptions; next: () => number } | undefined;
  const pending: Record<ConnectorTarget, Fault[]> = { zendesk: [], slack: [], github: [], shopify: [] };
  const held = new Set<ServerResponse>();

  const effect = (e: Omit<VendorEffect, 'time'>) => { effects.push({ ...e, time: new Date().toISOString() }); };

  function drawFault(target: ConnectorTarget): Fault | undefined {
    const queued = pending[target].shift();
    if (queued || !chaos || !(chaos.options.targets ?? CONNECTOR_TARGETS).includes(target)) return queued;
    const { failBeforeRate = 0, commitThenFailRate = 0, hangRate = 0, resetRate = 0 } = chaos.options;
    const u = chaos.next();
    const bands: Array<[number, Fault]> = [
      [failBeforeRate, { kind: 'before', failure: 503 }], [commitThenFailRate, { kind: 'error' }], [hangRate, { kind: 'hang' }], [resetRate, { kind: 'reset' }],
    ];
    let edge = 0;
    for (const [rate, fault] of bands) {
      edge += rate;
      if (u < edge) return fault;
    }
    return undefined;
  }

  function serve(target: ConnectorTarget, route: (req: IncomingMessage, body: unknown, url: URL) => Reply): Server {
    return createServer((req, res) => {
      readBody(req).then((raw) => {
        const body = parseBody(raw);
        const fault = drawFault(target);
        const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
        // The route commits; only a `before` fault skips it.
        const served: Reply = fault?.kind === 'before' ? failureReply(target, fault.failure) : route(req, body, url);
        const reply: Reply | undefined = fault?.kind === 'error' ? failureReply(target, 503) : fault?.kind === 'hang' || fault?.kind === 'reset' ? undefined : served;
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (!CREDENTIAL_HEADERS.has(name) && value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        recorded.push({
          target, method: req.method ?? 'GET', path: req.url ?? '/', headers, body,
          status: reply?.status ?? 0, ...(fault ? { fault: fault.kind } : {}), time: new Date().toISOString(),
        });
        if (reply) return write(res, reply);
        if (fault?.kind === 'reset') return void req.socket.destroy();
        // Hang: hold the answer until the client gives up and the socket closes (no timer).
        held.add(res);
        res.once('close', () => held.delete(res));
      }).catch((error: unknown) => write(res, { status: 500, json: { error: `stand-in failed: ${(error as Error).message}` } }));
    });
  }

  const zendesk = serve('zendesk', (req, body, url) => {
    if (!/^Basic \S+$/.test(req.headers.authorization ?? '') && (TICKET_PATH.test(url.pathname) || TICKET_COMMENTS_PATH.test(url.pathname))) {
      return { status: 401, json: { error: "Couldn't authenticate you" } };
    }
    const list = TICKET_COMMENTS_PATH.exec(url.pathname);
    if (req.method === 'GET' && list) return listTicketComments(tickets.get(Number(list[1]))?.comments ?? [], url);
    const match = TICKET_PATH.exec(url.pathname);
    if (req.method !== 'PUT' || !match) return { status: 404, json: { error: 'InvalidEndpoint', description: 'Not found' } };
    const update = (body as { ticket?: unknown } | undefined)?.ticket;
    if (typeof update !== 'object' || update === null) {
      return { status: 400, json: { error: 'RecordInvalid', description: 'Record validation errors', details: { base: [{ description: 'body must be { ticket: {...} }' }] } } };
    }
    const id = Number(match[1]);
    const before = tickets.get(id) ?? { id, tags: [], priority: null, comments: [], updated_at: '' };
    const ticket = applyTicketUpdate(before, update as TicketUpdate, () => ++commentIds);
    tickets.set(id, ticket);
    const u = update as TicketUpdate;
    if (Array.isArray(u.tags) || Array.isArray(u.additional_tags)) effect({ target: 'zendesk', kind: 'tags', on: String(id), values: [...ticket.tags] });
    if (typeof u.priority === 'string' || u.priority === null) effect({ target: 'zendesk', kind: 'priority', on: String(id), values: [String(ticket.priority)] });
    for (const c of ticket.comments.slice(before.comments.length)) effect({ target: 'zendesk', kind: 'comment', on: String(id), text: c.body, public: c.public, id: String(c.id) });
    return { status: 200, json: { ticket: { id, tags: ticket.tags, priority: ticket.priority, updated_at: ticket.updated_at } } };
  });

  function slackChannel(ref: string, create: boolean): SlackChannel | undefined {
    const byId = SLACK_CHANNEL_ID.test(ref);
    const name = byId ? ref.toLowerCase() : ref.replace(/^#/, '');
    const found = byId ? channels.get(ref) : [...channels.values()].find((c) => c.name === name);
    if (found || !create || name === '') return found;
    // The stand-in opens any channel it is asked to post to; Slack would answer channel_not_found.
    const id = byId ? ref : `C${createHash('sha256').update(name).digest('hex').slice(0, 10).toUpperCase()}`;
    const channel = { id, name, messages: [] };
    channels.set(id, channel);
    return channel;
  }

  const slack = serve('slack', (req, body, url) => {
    const ok = (json: Record<string, unknown>) => ({ status: 200, json: { ok: true, ...json } });
    const fail = (error: string) => ({ status: 200, json: { ok: false, error } });
    const method = /^\/api\/([a-z]+\.[A-Za-z]+)$/.exec(url.pathname)?.[1];
    if (!method) return { status: 404, text: 'not found' };
    if (!/^Bearer \S+$/.test(req.headers.authorization ?? '')) return fail('not_authed');
    if (method === 'chat.postMessage' && req.method === 'POST') {
      const { channel, text, metadata } = (typeof body === 'object' && body !== null ? body : {}) as { channel?: unknown; text?: unknown; metadata?: unknown };
      const target = typeof channel === 'string' ? slackChannel(channel, true) : undefined;
      if (!target) return fail('channel_not_found');
      if (typeof text !== 'string' || text === '') return fail('no_text');
      const meta = metadata as StandInSlackMessage['metadata'] | undefined;
      if (meta !== undefined && (typeof meta?.event_type !== 'string' || typeof meta.event_payload !== 'object' || meta.event_payload === null)) return fail('invalid_metadata_format');
      const ts = `${Math.floor(Date.now() / 1000)}.${String(++slackSeq).padStart(6, '0')}`;
      const message: StandInSlackMessage = { channel: target.id, ts, text, ...(meta ? { metadata: meta } : {}) };
      target.messages.push(message);
      effect({ target: 'slack', kind: 'message', on: target.id, text, id: ts, metadata: meta });
      return ok({ channel: target.id, ts, message: { type: 'message', text, ts, bot_id: 'B0LOCAL', ...(meta ? { metadata: meta } : {}) } });
    }
    if (method === 'conversations.history' && req.method === 'GET') {
      const ref = url.searchParams.get('channel') ?? '';
      // Like Slack, history takes a channel id only; a name is not found.
      const target = SLACK_CHANNEL_ID.test(ref) ? channels.get(ref) : undefined;
      if (!target) return fail('channel_not_found');
      const oldest = Number(url.searchParams.get('oldest') ?? '0');
      const withMeta = url.searchParams.get('include_all_metadata') === 'true';
      const newestFirst = target.messages.filter((m) => Number(m.ts) > oldest).reverse()
        .map(({ channel: _c, metadata, ...m }) => ({ type: 'message', ...m, ...(withMeta && metadata ? { metadata } : {}) }));
      const { items, next } = cursorPage(newestFirst, url.searchParams.get('cursor'), Number(url.searchParams.get('limit') ?? 100), 999);
      return ok({ messages: items, has_more: next !== '', response_metadata: { next_cursor: next } });
    }
    if (method === 'conversations.list' && req.method === 'GET') {
      const all = [...channels.values()].map((c) => ({ id: c.id, name: c.name, is_channel: true, is_archived: false }));
      const { items, next } = cursorPage(all, url.searchParams.get('cursor'), Number(url.searchParams.get('limit') ?? 100), 1000);
      return ok({ channels: items, response_metadata: { next_cursor: next } });
    }
    return fail('unknown_method');
  });

  const github = serve('github', (req, body, url) => {
    const match = ISSUE_PATH.exec(url.pathname);
    const listing = req.method === 'GET' && match?.[4] === 'comments';
    if (!(req.method === 'POST' || listing) || !match) return { status: 404, json: { message: 'Not Found', documentation_url: GITHUB_DOCS, status: '404' } };
    if (!/^(Bearer|token) \S+$/.test(req.headers.authorization ?? '')) {
      return { status: 401, json: { message: 'Requires authentication', documentation_url: GITHUB_DOCS, status: '401' } };
    }
    const [, owner, repo, n, kind] = match;
    const key = `${owner}/${repo}#${n}`.toLowerCase();
    const current = issues.get(key) ?? { owner, repo, number: Number(n), labels: [], comments: [] };
    if (listing) return listIssueComments(current, url);
    const invalid = (field: string) => ({ status: 422, json: { message: 'Validation Failed', errors: [{ resource: kind === 'labels' ? 'Label' : 'IssueComment', code: 'invalid', field }], documentation_url: GITHUB_DOCS, status: '422' } });
    if (kind === 'labels') {
      const labels = (body as { labels?: unknown } | undefined)?.labels;
      if (!Array.isArray(labels) || labels.length === 0 || labels.some((l) => typeof l !== 'string' || l.trim() === '')) return invalid('labels');
      // GitHub semantics: labels are added to the existing ones, matched case-insensitively.
      const next = [...current.labels];
      for (const l of labels as string[]) if (!next.some((x) => x.toLowerCase() === l.toLowerCase())) next.push(l);
      issues.set(key, { ...current, labels: next });
      effect({ target: 'github', kind: 'labels', on: key, values: next });
      return { status: 200, json: next.map((name, i) => ({ id: 7_000_000_000 + i, name, color: 'ededed', default: false, description: null })) };
    }
    const text = (body as { body?: unknown } | undefined)?.body;
    if (typeof text !== 'string' || text.trim() === '') return invalid('body');
    const comment = { id: ++commentIds, body: text, created_at: new Date().toISOString() };
    issues.set(key, { ...current, comments: [...current.comments, comment] });
    effect({ target: 'github', kind: 'comment', on: key, text, id: String(comment.id) });
    return { status: 201, json: githubComment(current, comment) };
  });

  const shopify = serve('shopify', (req, body, url) => {
    if (req.method !== 'POST' || !GRAPHQL_PATH.test(url.pathname)) return { status: 404, json: { errors: 'Not Found' } };
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
    effect({ target: 'shopify', kind: 'tags', on: id, values: [...next] });
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
    effects: (target) => effects.filter((e) => target === undefined || e.target === target).map((e) => ({ ...e, ...(e.values ? { values: [...e.values] } : {}) })),
    ticket: (id) => {
      const t = tickets.get(id);
      return t && { ...t, tags: [...t.tags], comments: t.comments.map((c) => ({ ...c })) };
    },
    issue: (owner, repo, number) => {
      const i = issues.get(`${owner}/${repo}#${number}`.toLowerCase());
      return i && { ...i, labels: [...i.labels], comments: i.comments.map((c) => ({ ...c })) };
    },
    orderTags: (gid) => {
      const tags = orders.get(gid);
      return tags && [...tags];
    },
    slackMessages: (channel) => (slackChannel(channel, false)?.messages ?? []).map((m) => ({ ...m })),
    failNext: (target, count, status = 503) => {
      for (let i = 0; i < count; i++) pending[target].push({ kind: 'before', failure: status });
    },
    failAfterCommit: (target, count, mode) => {
      for (let i = 0; i < count; i++) pending[target].push({ kind: mode });
    },
    setChaos: (options) => {
      chaos = options && { options, next: seededRandom(options.seed) };
    },
    reset: () => {
      recorded = [];
      effects = [];
      tickets = new Map();
      issues = new Map();
      orders = new Map();
      channels = new Map();
      chaos = undefined;
      for (const t of CONNECTOR_TARGETS) pending[t] = [];
      for (const res of held) res.destroy();
    },
    stop: async () => {
      for (const res of held) res.destroy();
      await Promise.all(servers.map(([, s]) => close(s)));
    },
  };
}


/** One page of a list by an opaque cursor (the offset, base64url), as Slack and Zendesk page. */
function cursorPage<T>(all: T[], cursor: string | null, limit: number, max: number): { items: T[]; next: string; offset: number } {
  const offset = cursor ? Number(Buffer.from(cursor, 'base64url').toString('utf8')) || 0 : 0;
  const size = Math.min(Math.max(Number.isFinite(limit) && limit > 0 ? Math.floor(limit) : 100, 1), max);
  const end = offset + size;
  return { items: all.slice(offset, end), next: end < all.length ? Buffer.from(String(end)).toString('base64url') : '', offset };
}

/** `GET /api/v2/tickets/{id}/comments.json`: cursor pagination with `page[size]`, else offset pagination (`per_page`, `page`). */
function listTicketComments(comments: StandInTicket['comments'], url: URL): Reply {
  const shaped = comments.map((c) => ({
    id: c.id, type: 'Comment', author_id: 1, body: c.body, html_body: `<div class="zd-comment"><p>${escapeHtml(c.body)}</p></div>`,
    plain_body: c.body, public: c.public, created_at: c.created_at,
  }));
  const size = url.searchParams.get('page[size]');
  if (size !== null) {
    const { items, next } = cursorPage(shaped, url.searchParams.get('page[after]'), Number(size), 100);
    const nextUrl = next && `${url.origin}${url.pathname}?page[size]=${size}&page[after]=${next}`;
    return { status: 200, json: { comments: items, meta: { has_more: next !== '', after_cursor: next || null, before_cursor: null }, links: { prev: null, next: nextUrl || null } } };
  }
  const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 100) || 100, 100);
  const page = Math.max(Number(url.searchParams.get('page') ?? 1) || 1, 1);
  const items = shaped.slice((page - 1) * perPage, page * perPage);
  const nextPage = page * perPage < shaped.length ? `${url.origin}${url.pathname}?page=${page + 1}&per_page=${perPage}` : null;
  return { status: 200, json: { comments: items, next_page: nextPage, previous_page: null, count: shaped.length } };
}

function githubComment(issue: Pick<StandInIssue, 'owner' | 'repo' | 'number'>, c: StandInIssue['comments'][number]) {
  return {
    id: c.id, body: c.body, user: { login: 'seamwork[bot]', type: 'Bot' }, created_at: c.created_at, updated_at: c.created_at,
    html_url: `https://github.com/${issue.owner}/${issue.repo}/issues/${issue.number}#issuecomment-${c.id}`,
  };
}

/** `GET /repos/{o}/{r}/issues/{n}/comments`: oldest first, `since` (updated at or after), `per_page` (≤ 100, default 30), `page`, a `Link` header. */
function listIssueComments(issue: StandInIssue, url: URL): Reply {
  const since = url.searchParams.get('since');
  const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30) || 30, 100);
  const page = Math.max(Number(url.searchParams.get('page') ?? 1) || 1, 1);
  const all = issue.comments.filter((c) => since === null || c.created_at >= new Date(since).toISOString());
  const items = all.slice((page - 1) * perPage, page * perPage).map((c) => githubComment(issue, c));
  const link = (p: number, rel: string) => {
    const q = new URLSearchParams(url.searchParams);
    q.set('page', String(p));
    return `<${url.origin}${url.pathname}?${q}>; rel="${rel}"`;
  };
  const last = Math.max(Math.ceil(all.length / perPage), 1);
  const links = [page < last ? link(page + 1, 'next') : '', page < last ? link(last, 'last') : ''].filter(Boolean);
  return { status: 200, json: items, headers: links.length ? { link: links.join(', ') } : undefined };
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface TicketUpdate { tags?: unknown; additional_tags?: unknown; priority?: unknown; comment?: { body?: unknown; public?: unknown } }

/** Zendesk semantics: `tags` replaces the tag list, `additional_tags` adds to it, `priority` sets it, `comment` appends one. */
function applyTicketUpdate(ticket: StandInTicket, update: TicketUpdate, nextId: () => number): StandInTicket {
  const now = new Date().toISOString();
  const next = { ...ticket, tags: [...ticket.tags], comments: [...ticket.comments], updated_at: now };
  if (Array.isArray(update.tags)) next.tags = update.tags.map(String);
  if (Array.isArray(update.additional_tags)) next.tags = [...new Set([...next.tags, ...update.additional_tags.map(String)])];
  if (typeof update.priority === 'string' || update.priority === null) next.priority = update.priority;
  if (update.comment && typeof update.comment.body === 'string') {
    next.comments.push({ id: nextId(), body: update.comment.body, public: update.comment.public !== false, created_at: now });
  }
  return next;
}

interface Reply { status: number; json?: unknown; text?: string; headers?: Record<string, string> }

function failureReply(target: ConnectorTarget, failure: InjectedFailure): Reply {
  if (typeof failure === 'object') return { status: 200, json: { ok: false, error: failure.slackError } };
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
      return { status, json: { error: 'InjectedFailure', description: `injected failure: status ${status}` }, headers };
    case 'github':
      return { status, json: { message: `injected failure: status ${status}`, documentation_url: GITHUB_DOCS }, headers };
    case 'shopify':
      return { status, json: { errors: `injected failure: status ${status}` }, headers };
    default:
      // Slack's Web API answers a rate limit with 429 and `ratelimited`; other statuses with a text body.
      return status === 429 ? { status, json: { ok: false, error: 'ratelimited' }, headers } : { status, text: `injected_failure_${status}`, headers };
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
