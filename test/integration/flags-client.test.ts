import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppConfigFlagSource } from '../../lambdas/aws/appconfig-flags.js';
import { choosePath } from '../../lambdas/core/routing.js';
import { startFlagsAgent } from '../../lib/local/flags-agent.js';

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

  it('says the flags document has no flag for an integration it does not mention, not that a kill switch is on', async () => {
    const a = await agent(JSON.stringify({ other: { enabled: true, rolloutPercent: 100, mode: 'live' } }));
    server = a.server;
    const flag = await new AppConfigFlagSource(a.url).get('support-triage');
    expect(choosePath(flag, 'support-triage', 'k')).toMatchObject({ path: 'baseline', reason: 'no support-triage flag in the flags document: baseline only' });
  });

  it('marks a decision taken on the last good version the local agent serves for a broken flags file as stale, with since when', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seamwork-flags-'));
    const file = join(dir, 'flags.json');
    writeFileSync(file, JSON.stringify({ 'support-triage': { enabled: true, rolloutPercent: 100, mode: 'live' } }));
    const local = await startFlagsAgent({ file, onProblem: () => undefined });
    try {
      let clock = new Date('2026-12-04T09:00:00.000Z');
      const source = new AppConfigFlagSource(local.url, 0, () => clock);
      expect(choosePath(await source.get('support-triage'), 'support-triage', 'k').reason).toMatch(/^bucket \d+ is below the 100% rollout/);
      // The operator means to turn the AI off and leaves a typo: the agent keeps serving the last good version.
      writeFileSync(file, '{ "support-triage": { "enabled": false, }');
      clock = new Date('2026-12-04T09:05:00.000Z');
      const first = choosePath(await source.get('support-triage'), 'support-triage', 'k');
      clock = new Date('2026-12-04T09:06:00.000Z');
      const later = await source.get('support-triage');
      const choice = choosePath(later, 'support-triage', 'k');
      expect(first.reason).toBe(choice.reason);
      expect(choice.path).toBe('ai');
      expect(choice.reason).toMatch(/^flags stale since 2026-12-04T09:05:00\.000Z: last known flag used, bucket \d+ is below the 100% rollout \(live mode\) \(serving last good version; .*not valid JSON/);
      expect(later.stale?.since).toBe('2026-12-04T09:05:00.000Z');
      writeFileSync(file, JSON.stringify({ 'support-triage': { enabled: false } }));
      expect(choosePath(await source.get('support-triage'), 'support-triage', 'k').reason).toBe('AI disabled by the kill switch (enabled=false)');
    } finally {
      await local.stop();
    }
  });

  it('says since when the flags are unreadable and that the last known flag was not used', async () => {
    const a = await agent(JSON.stringify({ 'support-triage': { enabled: true, rolloutPercent: 100, mode: 'live' } }));
    let clock = new Date('2026-12-04T09:00:00.000Z');
    const source = new AppConfigFlagSource(a.url, 0, () => clock);
    expect((await source.get('support-triage')).enabled).toBe(true);
    await new Promise<void>((r) => a.server.close(() => r()));
    clock = new Date('2026-12-04T09:10:00.000Z');
    await source.get('support-triage');
    clock = new Date('2026-12-04T09:11:00.000Z');
    const choice = choosePath(await source.get('support-triage'), 'support-triage', 'k');
    expect(choice.path).toBe('baseline');
    expect(choice.reason).toMatch(/^flags unavailable since 2026-12-04T09:10:00\.000Z, baseline as the safe default \(The AppConfig agent at .* did not answer: .*; the last known flag \(read 2026-12-04T09:00:00\.000Z: enabled=true, 100% live\) is not used\)$/);
  });

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
