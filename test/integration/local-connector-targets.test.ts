import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConnectorTargets, type ConnectorTargets } from '../../lib/local/connector-targets.js';

describe('startConnectorTargets', () => {
  let targets: ConnectorTargets;
  const auth = `Basic ${Buffer.from('agent@example.com/token:secret').toString('base64')}`;
  const putTicket = (id: number, body: unknown, headers: Record<string, string> = { authorization: auth }) =>
    fetch(`${targets.zendeskUrl}/api/v2/tickets/${id}.json`, {
      method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
    });

  const postMessage = (body: unknown, token = 'xoxb-test') =>
    fetch(`${targets.slackUrl}/api/chat.postMessage`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });

  beforeAll(async () => { targets = await startConnectorTargets(); });
  afterEach(() => targets.reset());
  afterAll(async () => { await targets?.stop(); });

  it('updates a Zendesk ticket and records the request without the credentials', async () => {
    const update = { ticket: { tags: ['ai-triaged'], priority: 'high', comment: { body: 'Summary', public: false } } };

    const res = await putTicket(42, update);

    expect(res.status).toBe(200);
    expect(((await res.json()) as { ticket: unknown }).ticket).toMatchObject({ id: 42, tags: ['ai-triaged'], priority: 'high' });
    expect(targets.ticket(42)?.comments).toEqual([{ id: expect.any(Number), body: 'Summary', public: false, created_at: expect.any(String) }]);
    const [recorded] = targets.requests();
    expect(recorded).toMatchObject({ target: 'zendesk', method: 'PUT', path: '/api/v2/tickets/42.json', body: update, status: 200 });
    expect(recorded.headers.authorization).toBeUndefined();
    expect(recorded.headers['content-type']).toBe('application/json');
  });

  it('adds additional_tags to a ticket\'s tags, as Zendesk does, where tags replaces them', async () => {
    await putTicket(43, { ticket: { tags: ['vip'] } });
    await putTicket(43, { ticket: { additional_tags: ['ai-triaged', 'vip'] } });
    expect(targets.ticket(43)?.tags).toEqual(['vip', 'ai-triaged']);
  });

  it('answers 401 to a Zendesk request without Basic auth, and 404 to an unknown endpoint', async () => {
    expect((await putTicket(1, { ticket: {} }, {})).status).toBe(401);
    expect((await fetch(`${targets.zendeskUrl}/api/v2/users/1.json`, { headers: { authorization: auth } })).status).toBe(404);
    expect(targets.requests().map((r) => r.status)).toEqual([401, 404]);
  });

  it('posts a Slack message through chat.postMessage, answering ok with the channel id and a ts', async () => {
    const res = await postMessage({ channel: '#support-urgent', text: 'hello' });

    const answer = (await res.json()) as { ok: boolean; channel: string; ts: string };
    expect([res.status, answer.ok]).toEqual([200, true]);
    expect(answer.channel).toMatch(/^C[A-Z0-9]{10}$/);
    expect(targets.slackMessages('#support-urgent')).toEqual([{ channel: answer.channel, ts: answer.ts, text: 'hello' }]);
    expect(targets.slackMessages(answer.channel)).toHaveLength(1);
    expect(targets.requests()).toMatchObject([{ target: 'slack', path: '/api/chat.postMessage', body: { text: 'hello' } }]);
    expect(targets.requests()[0].headers.authorization).toBeUndefined();
  });

  it('fails the next N requests to one target with the given status, then recovers', async () => {
    targets.failNext('zendesk', 2, 429);

    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await putTicket(7, { ticket: { tags: ['x'] } })).status);
    const slack = await postMessage({ channel: '#a', text: 't' });

    expect(statuses).toEqual([429, 429, 200]);
    expect(slack.status).toBe(200);
    expect(targets.requests().map((r) => r.status)).toEqual([429, 429, 200, 200]);
  });

  it('defaults the injected failure to 503', async () => {
    targets.failNext('slack', 1);
    const res = await postMessage({ channel: '#a', text: 't' });
    expect(res.status).toBe(503);
    expect(targets.slackMessages('#a')).toEqual([]);
  });

  it('gives every target its own origin', () => {
    const origins = [targets.zendeskUrl, targets.slackUrl, targets.githubUrl, targets.shopifyUrl];
    expect(new Set(origins).size).toBe(4);
  });
});

describe('startConnectorTargets: the GitHub stand-in', () => {
  let targets: ConnectorTargets;
  const post = (path: string, body: unknown, headers: Record<string, string> = { authorization: 'Bearer ghs_test' }) =>
    fetch(`${targets.githubUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => { targets = await startConnectorTargets(); });
  afterEach(() => targets.reset());
  afterAll(async () => { await targets?.stop(); });

  it('adds labels to an issue, keeping existing ones and ignoring case duplicates, and records without the token', async () => {
    const first = await post('/repos/inkwell-dev/inkwell/issues/12/labels', { labels: ['bug', 'priority:p1'] });
    const second = await post('/repos/inkwell-dev/inkwell/issues/12/labels', { labels: ['Bug', 'needs-reproduction'] });

    expect(first.status).toBe(200);
    expect(((await second.json()) as Array<{ name: string }>).map((l) => l.name)).toEqual(['bug', 'priority:p1', 'needs-reproduction']);
    expect(targets.issue('inkwell-dev', 'inkwell', 12)?.labels).toEqual(['bug', 'priority:p1', 'needs-reproduction']);
    const [recorded] = targets.requests();
    expect(recorded).toMatchObject({ target: 'github', method: 'POST', path: '/repos/inkwell-dev/inkwell/issues/12/labels', status: 200 });
    expect(recorded.headers.authorization).toBeUndefined();
  });

  it('creates comments with increasing ids and answers 201 with the comment', async () => {
    const a = await post('/repos/o/r/issues/3/comments', { body: 'first' });
    const b = await post('/repos/o/r/issues/3/comments', { body: 'second' });

    expect([a.status, b.status]).toEqual([201, 201]);
    const [ca, cb] = [(await a.json()) as { id: number; body: string }, (await b.json()) as { id: number }];
    expect(cb.id).toBeGreaterThan(ca.id);
    expect(targets.issue('o', 'r', 3)?.comments).toEqual([{ id: ca.id, body: 'first', created_at: expect.any(String) }, { id: cb.id, body: 'second', created_at: expect.any(String) }]);
  });

  it('answers 401 without an Authorization header, 404 for a malformed path and 422 for a blank body', async () => {
    expect((await post('/repos/o/r/issues/1/labels', { labels: ['bug'] }, {})).status).toBe(401);
    expect((await post('/repos/o/r/issues/abc/labels', { labels: ['bug'] })).status).toBe(404);
    expect((await post('/repos/o/r/issues/0/comments', { body: 'x' })).status).toBe(404);
    expect((await post('/repos/o/r/pulls/1/comments', { body: 'x' })).status).toBe(404);
    expect((await post('/repos/o/r/issues/1/comments', { body: '  ' })).status).toBe(422);
    expect((await post('/repos/o/r/issues/1/labels', { labels: [] })).status).toBe(422);
    expect(targets.issue('o', 'r', 1)).toBeUndefined();
  });

  it('fails the next N requests with the given status, with retry-after on a 429', async () => {
    targets.failNext('github', 1, 429);
    const limited = await post('/repos/o/r/issues/1/labels', { labels: ['bug'] });
    const ok = await post('/repos/o/r/issues/1/labels', { labels: ['bug'] });
    expect([limited.status, limited.headers.get('retry-after'), ok.status]).toEqual([429, '1', 200]);
  });

  it('can answer its primary rate limit: 403 with x-ratelimit-remaining 0', async () => {
    targets.failNext('github', 1, 'throttled');
    const res = await post('/repos/o/r/issues/1/comments', { body: 'x' });
    expect([res.status, res.headers.get('x-ratelimit-remaining')]).toEqual([403, '0']);
  });
});

describe('startConnectorTargets: the Shopify stand-in', () => {
  let targets: ConnectorTargets;
  const MUTATION = 'mutation tagsAdd($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }';
  const graphql = (variables: unknown, headers: Record<string, string> = { 'x-shopify-access-token': 'shpat_test' }, query = MUTATION) =>
    fetch(`${targets.shopifyUrl}/admin/api/2025-07/graphql.json`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });

  beforeAll(async () => { targets = await startConnectorTargets(); });
  afterEach(() => targets.reset());
  afterAll(async () => { await targets?.stop(); });

  it('adds tags to an order by its global id, keeping existing tags, and records without the token', async () => {
    await graphql({ id: 'gid://shopify/Order/5512', tags: ['risk:high'] });
    const res = await graphql({ id: 'gid://shopify/Order/5512', tags: ['risk:high', 'seamwork'] });

    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ data: { tagsAdd: { node: { id: 'gid://shopify/Order/5512' }, userErrors: [] } } });
    expect(targets.orderTags('gid://shopify/Order/5512')).toEqual(['risk:high', 'seamwork']);
    expect(targets.requests()[0].headers['x-shopify-access-token']).toBeUndefined();
  });

  it('answers userErrors for a malformed global id and records no tags', async () => {
    const res = await graphql({ id: 'gid://shopify/Order/not-a-number', tags: ['x'] });
    expect(await res.json()).toMatchObject({ data: { tagsAdd: { node: null, userErrors: [{ field: ['id'], message: 'Invalid global id' }] } } });
    expect(targets.orderTags('gid://shopify/Order/not-a-number')).toBeUndefined();
  });

  it('answers 401 without an access token, 404 off the GraphQL path, and a GraphQL error for another operation', async () => {
    expect((await graphql({ id: 'gid://shopify/Order/1', tags: ['x'] }, {})).status).toBe(401);
    expect((await fetch(`${targets.shopifyUrl}/admin/api/2025-07/orders.json`, { method: 'POST', headers: { 'x-shopify-access-token': 't' } })).status).toBe(404);
    const other = await graphql({}, undefined, 'query { shop { name } }');
    expect(((await other.json()) as { errors: unknown[] }).errors).toHaveLength(1);
  });

  it('can answer the cost limit as the Admin API does (HTTP 200, THROTTLED), then recover', async () => {
    targets.failNext('shopify', 1, 'throttled');
    const throttled = await graphql({ id: 'gid://shopify/Order/1', tags: ['x'] });
    const ok = await graphql({ id: 'gid://shopify/Order/1', tags: ['x'] });
    expect(throttled.status).toBe(200);
    expect(await throttled.json()).toMatchObject({ errors: [{ extensions: { code: 'THROTTLED' } }] });
    expect(ok.status).toBe(200);
    expect(targets.orderTags('gid://shopify/Order/1')).toEqual(['x']);
  });
});

describe('startConnectorTargets: the read endpoints', () => {
  let targets: ConnectorTargets;
  const slack = (method: string, query: Record<string, string>, token = 'xoxb-test') =>
    fetch(`${targets.slackUrl}/api/${method}?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<Record<string, unknown>>);
  const postMessage = (body: unknown) =>
    fetch(`${targets.slackUrl}/api/chat.postMessage`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer xoxb-test' }, body: JSON.stringify(body) })
      .then((r) => r.json() as Promise<{ ok: boolean; channel: string; ts: string; error?: string }>);
  const github = (path: string, init: RequestInit = {}) => fetch(`${targets.githubUrl}${path}`, { ...init, headers: { authorization: 'Bearer ghs_test', 'content-type': 'application/json' } });
  const zendeskAuth = { authorization: `Basic ${Buffer.from('a@example.com/token:s').toString('base64')}`, 'content-type': 'application/json' };

  beforeAll(async () => { targets = await startConnectorTargets(); });
  afterEach(() => targets.reset());
  afterAll(async () => { await targets?.stop(); });

  it('returns Slack history newest first, with metadata only when include_all_metadata is true, after oldest', async () => {
    const first = await postMessage({ channel: '#ops', text: 'one', metadata: { event_type: 'seamwork_action', event_payload: { key: 'k1' } } });
    const second = await postMessage({ channel: '#ops', text: 'two' });

    const withMeta = await slack('conversations.history', { channel: first.channel, include_all_metadata: 'true' });
    const without = await slack('conversations.history', { channel: first.channel });
    const after = await slack('conversations.history', { channel: first.channel, oldest: first.ts });

    expect(withMeta).toMatchObject({ ok: true, has_more: false, messages: [{ text: 'two', ts: second.ts }, { text: 'one', metadata: { event_payload: { key: 'k1' } } }] });
    expect((without.messages as Array<Record<string, unknown>>).map((m) => m.metadata)).toEqual([undefined, undefined]);
    expect((after.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(['two']);
  });

  it('pages Slack history by cursor, takes channel ids only, lists channels and refuses a request without a token', async () => {
    const posted = [];
    for (let i = 0; i < 5; i++) posted.push(await postMessage({ channel: '#ops', text: `m${i}` }));
    const id = posted[0].channel;

    const page1 = await slack('conversations.history', { channel: id, limit: '3' });
    const page2 = await slack('conversations.history', { channel: id, limit: '3', cursor: (page1.response_metadata as { next_cursor: string }).next_cursor });

    expect([page1.has_more, (page1.messages as unknown[]).length, page2.has_more, (page2.messages as unknown[]).length]).toEqual([true, 3, false, 2]);
    expect(await slack('conversations.history', { channel: '#ops' })).toEqual({ ok: false, error: 'channel_not_found' });
    expect(await slack('conversations.list', {})).toMatchObject({ ok: true, channels: [{ id, name: 'ops' }] });
    expect(await slack('conversations.list', {}, '')).toEqual({ ok: false, error: 'not_authed' });
    expect(await postMessage({ channel: '#ops', text: 'x', metadata: { event_type: 1 } })).toEqual({ ok: false, error: 'invalid_metadata_format' });
  });

  it('lists GitHub issue comments oldest first, per_page at most 100, with a Link to the next page, and since', async () => {
    for (let i = 0; i < 103; i++) await github('/repos/o/r/issues/5/comments', { method: 'POST', body: JSON.stringify({ body: `c${i}` }) });

    const page1 = await github('/repos/o/r/issues/5/comments?per_page=500&page=1');
    const page2 = await github('/repos/o/r/issues/5/comments?per_page=100&page=2');
    const defaults = await github('/repos/o/r/issues/5/comments');
    const future = await github(`/repos/o/r/issues/5/comments?since=${new Date(Date.now() + 60_000).toISOString()}`);

    const bodies = ((await page1.json()) as Array<{ body: string }>).map((c) => c.body);
    expect([bodies.length, bodies[0], bodies[99]]).toEqual([100, 'c0', 'c99']);
    expect(page1.headers.get('link')).toMatch(/page=2>; rel="next"/);
    expect(((await page2.json()) as Array<{ body: string }>).map((c) => c.body)).toEqual(['c100', 'c101', 'c102']);
    expect(page2.headers.get('link')).toBeNull();
    expect((await defaults.json()) as unknown[]).toHaveLength(30);
    expect(await future.json()).toEqual([]);
  });

  it('lists a Zendesk ticket\'s comments by cursor (page[size], page[after]) and by offset, and an untouched ticket\'s as empty', async () => {
    for (let i = 0; i < 3; i++) {
      await fetch(`${targets.zendeskUrl}/api/v2/tickets/9.json`, { method: 'PUT', headers: zendeskAuth, body: JSON.stringify({ ticket: { comment: { body: `n${i}`, public: false } } }) });
    }
    const list = (query: string) => fetch(`${targets.zendeskUrl}/api/v2/tickets/9/comments.json?${query}`, { headers: zendeskAuth }).then((r) => r.json() as Promise<{ comments: Array<{ body: string; public: boolean }>; meta: { has_more: boolean; after_cursor: string | null }; count?: number; next_page?: string | null }>);

    const first = await list('page[size]=2');
    const rest = await list(`page[size]=2&page[after]=${first.meta.after_cursor}`);
    const offset = await list('per_page=2&page=2');
    const empty = await fetch(`${targets.zendeskUrl}/api/v2/tickets/10/comments.json`, { headers: zendeskAuth }).then((r) => r.json());

    expect(first.comments.map((c) => c.body)).toEqual(['n0', 'n1']);
    expect(first.meta.has_more).toBe(true);
    expect(rest).toMatchObject({ comments: [{ body: 'n2', public: false }], meta: { has_more: false } });
    expect(offset).toMatchObject({ comments: [{ body: 'n2' }], count: 3, next_page: null });
    expect(empty).toMatchObject({ comments: [] });
  });
});

describe('startConnectorTargets: faults after the commit', () => {
  let targets: ConnectorTargets;
  const comment = (body: string, signal?: AbortSignal) =>
    fetch(`${targets.githubUrl}/repos/o/r/issues/1/comments`, { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: JSON.stringify({ body }), signal });

  beforeAll(async () => { targets = await startConnectorTargets(); });
  afterEach(() => targets.reset());
  afterAll(async () => { await targets?.stop(); });

  it('stores the comment and then answers 503 (error)', async () => {
    targets.failAfterCommit('github', 1, 'error');

    const res = await comment('K1');

    expect(res.status).toBe(503);
    expect(targets.effects('github')).toMatchObject([{ kind: 'comment', on: 'o/r#1', text: 'K1' }]);
    expect(targets.requests()).toMatchObject([{ status: 503, fault: 'error' }]);
  });

  it('stores the comment and then destroys the connection (reset)', async () => {
    targets.failAfterCommit('github', 1, 'reset');

    await expect(comment('K2')).rejects.toThrow(/fetch failed/);

    expect(targets.issue('o', 'r', 1)?.comments.map((c) => c.body)).toEqual(['K2']);
    expect(targets.requests()).toMatchObject([{ status: 0, fault: 'reset' }]);
  });

  it('stores the comment and never answers until the client gives up (hang), then serves the next request normally', async () => {
    targets.failAfterCommit('github', 1, 'hang');

    await expect(comment('K3', AbortSignal.timeout(200))).rejects.toThrow(/aborted|timeout/i);
    const next = await comment('K4');

    expect(next.status).toBe(201);
    expect(targets.effects('github').map((e) => e.text)).toEqual(['K3', 'K4']);
  });

  it('duplicates the comment when a client retries without reconciling: the fault is real', async () => {
    targets.failAfterCommit('github', 1, 'error');
    await comment('same');
    await comment('same');
    expect(targets.effects('github').filter((e) => e.text === 'same')).toHaveLength(2);
  });

  it('applies faults to the named target only, counting each request', async () => {
    targets.failAfterCommit('slack', 2, 'error');
    const ok = await comment('unaffected');
    expect(ok.status).toBe(201);
    expect(targets.requests().filter((r) => r.fault)).toEqual([]);
  });

  it('stops promptly while an answer is held, without waiting for the client', async () => {
    const own = await startConnectorTargets();
    own.failAfterCommit('shopify', 1, 'hang');
    const held = fetch(`${own.shopifyUrl}/admin/api/2025-07/graphql.json`, {
      method: 'POST', headers: { 'x-shopify-access-token': 't', 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { tagsAdd(id: $id, tags: $tags) { node { id } } }', variables: { id: 'gid://shopify/Order/1', tags: ['x'] } }),
    });
    const settled = held.then(() => 'answered', () => 'failed');
    await new Promise((r) => setTimeout(r, 50));

    await own.stop();

    expect(await settled).toBe('failed');
    expect(own.orderTags('gid://shopify/Order/1')).toEqual(['x']);
  });
});

describe('startConnectorTargets: seeded chaos', () => {
  let targets: ConnectorTargets;
  const labels = () => fetch(`${targets.githubUrl}/repos/o/r/issues/2/labels`, {
    method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: JSON.stringify({ labels: ['bug'] }), signal: AbortSignal.timeout(100),
  }).then((r) => r.status, () => 0);
  const faultsOf = () => targets.requests().map((r) => r.fault ?? 'none');

  beforeAll(async () => { targets = await startConnectorTargets(); });
  afterEach(() => targets.reset());
  afterAll(async () => { await targets?.stop(); });

  it('draws the same faults in the same order for the same seed', async () => {
    const run = async (seed: number) => {
      targets.reset();
      targets.setChaos({ seed, failBeforeRate: 0.2, commitThenFailRate: 0.2, hangRate: 0.1, resetRate: 0.1 });
      for (let i = 0; i < 40; i++) await labels();
      return faultsOf();
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);

    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a)).toEqual(new Set(['none', 'before', 'error', 'hang', 'reset']));
  });

  it('commits nothing on a failure before the commit, and something on every other fault', async () => {
    targets.setChaos({ seed: 1, failBeforeRate: 1 });
    await labels();
    expect(targets.effects()).toEqual([]);
    targets.setChaos({ seed: 1, commitThenFailRate: 1 });
    await labels();
    expect(targets.effects('github')).toHaveLength(1);
  });

  it('spares targets it was not given, and stops with setChaos(undefined) or reset()', async () => {
    targets.setChaos({ seed: 3, failBeforeRate: 1, targets: ['slack'] });
    expect(await labels()).toBe(200);
    targets.setChaos({ seed: 3, failBeforeRate: 1 });
    expect(await labels()).toBe(503);
    targets.setChaos(undefined);
    expect(await labels()).toBe(200);
    targets.setChaos({ seed: 3, failBeforeRate: 1 });
    targets.reset();
    expect(await labels()).toBe(200);
  });
});
