import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConnectorTargets, type ConnectorTargets } from '../../lib/local/connector-targets.js';

describe('startConnectorTargets', () => {
  let targets: ConnectorTargets;
  const auth = `Basic ${Buffer.from('agent@example.com/token:secret').toString('base64')}`;
  const putTicket = (id: number, body: unknown, headers: Record<string, string> = { authorization: auth }) =>
    fetch(`${targets.zendeskUrl}/api/v2/tickets/${id}.json`, {
      method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
    });

  beforeAll(async () => { targets = await startConnectorTargets(); });
  afterEach(() => targets.reset());
  afterAll(async () => { await targets?.stop(); });

  it('updates a Zendesk ticket and records the request without the credentials', async () => {
    const update = { ticket: { tags: ['ai-triaged'], priority: 'high', comment: { body: 'Summary', public: false } } };

    const res = await putTicket(42, update);

    expect(res.status).toBe(200);
    expect(((await res.json()) as { ticket: unknown }).ticket).toMatchObject({ id: 42, tags: ['ai-triaged'], priority: 'high' });
    expect(targets.ticket(42)?.comments).toEqual([{ body: 'Summary', public: false }]);
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

  it('accepts a Slack incoming webhook message', async () => {
    const res = await fetch(`${targets.slackUrl}/services/T0/B0/XYZ`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hello' }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(targets.requests()).toMatchObject([{ target: 'slack', path: '/services/T0/B0/XYZ', body: { text: 'hello' } }]);
  });

  it('fails the next N requests to one target with the given status, then recovers', async () => {
    targets.failNext('zendesk', 2, 429);

    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await putTicket(7, { ticket: { tags: ['x'] } })).status);
    const slack = await fetch(`${targets.slackUrl}/services/a`, { method: 'POST', body: JSON.stringify({ text: 't' }) });

    expect(statuses).toEqual([429, 429, 200]);
    expect(slack.status).toBe(200);
    expect(targets.requests().map((r) => r.status)).toEqual([429, 429, 200, 200]);
  });

  it('defaults the injected failure to 503', async () => {
    targets.failNext('slack', 1);
    const res = await fetch(`${targets.slackUrl}/services/a`, { method: 'POST', body: JSON.stringify({ text: 't' }) });
    expect(res.status).toBe(503);
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
    expect(targets.issue('o', 'r', 3)?.comments).toEqual([{ id: ca.id, body: 'first' }, { id: cb.id, body: 'second' }]);
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
