import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppConfigFlagSource } from '../../lambdas/aws/appconfig-flags.js';
import { choosePath } from '../../lambdas/core/routing.js';

/** A stand-in AppConfig agent answering one fixed document over HTTP. */
async function agent(body: string, status = 200): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/flags`, server };
}

describe('AppConfigFlagSource', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('reads a disabled flag that AppConfig returns without its attributes as the kill switch', async () => {
    const a = await agent(JSON.stringify({ 'support-triage': { enabled: false } }));
    server = a.server;
    const flag = await new AppConfigFlagSource(a.url).get('support-triage');
    expect(flag).toEqual({ enabled: false, rolloutPercent: 0, mode: 'live' });
    expect(choosePath(flag, 'support-triage', 'k').reason).toMatch(/kill switch/);
  });

  it('keeps other integrations readable when one flag is malformed, and routes the malformed one to baseline', async () => {
    const a = await agent(JSON.stringify({ good: { enabled: true, rolloutPercent: 100, mode: 'live' }, bad: { enabled: 'yes' } }));
    server = a.server;
    const source = new AppConfigFlagSource(a.url);
    expect((await source.get('good')).enabled).toBe(true);
    const bad = await source.get('bad');
    expect(choosePath(bad, 'bad', 'k')).toMatchObject({ path: 'baseline', reason: expect.stringMatching(/flags unavailable.*malformed/) });
  });

  it('falls back to the baseline path, saying why, when the agent does not answer', async () => {
    const flag = await new AppConfigFlagSource('http://127.0.0.1:9/unreachable').get('support-triage');
    expect(choosePath(flag, 'support-triage', 'k')).toMatchObject({ path: 'baseline', reason: expect.stringMatching(/flags unavailable/) });
  });

  it('falls back to the baseline path when the agent answers 500', async () => {
    const a = await agent(JSON.stringify({ message: 'boom' }), 500);
    server = a.server;
    const flag = await new AppConfigFlagSource(a.url).get('support-triage');
    expect(flag.enabled).toBe(false);
    expect((flag as { unavailable?: string }).unavailable).toMatch(/500/);
  });
});
