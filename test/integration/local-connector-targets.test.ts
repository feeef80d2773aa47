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
});
