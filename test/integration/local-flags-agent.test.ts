import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAGS } from '../../lib/topology.js';
import { STALE_HEADER, startFlagsAgent, type FlagsAgent } from '../../lib/local/flags-agent.js';

describe('startFlagsAgent', () => {
  let dir: string;
  let file: string;
  let agent: FlagsAgent;
  const write = (doc: unknown) => writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seamwork-flags-'));
    file = join(dir, 'flags.json');
    write({ zendesk: { enabled: true, rolloutPercent: 100, mode: 'live' } });
    agent = await startFlagsAgent({ file });
  });

  afterAll(async () => {
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the flags file at the AppConfig agent configuration URL', async () => {
    expect(agent.url).toMatch(new RegExp(`/applications/${FLAGS.application}/environments/${FLAGS.environment}/configurations/${FLAGS.profile}$`));
    const res = await fetch(agent.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ zendesk: { enabled: true, rolloutPercent: 100, mode: 'live' } });
  });

  it('reflects a rewrite of the file without a restart', async () => {
    write({ zendesk: { enabled: false, rolloutPercent: 0, mode: 'live' } });
    expect(await (await fetch(agent.url)).json()).toEqual({ zendesk: { enabled: false, rolloutPercent: 0, mode: 'live' } });
  });

  it('returns just one flag for ?flag=<name>, and 400 for an unknown one', async () => {
    write({ zendesk: { enabled: true, rolloutPercent: 25, mode: 'shadow' }, slack: { enabled: false, rolloutPercent: 0 } });
    const one = await fetch(`${agent.url}?flag=zendesk`);
    expect(await one.json()).toEqual({ enabled: true, rolloutPercent: 25, mode: 'shadow' });
    const missing = await fetch(`${agent.url}?flag=nope`);
    expect(missing.status).toBe(400);
  });

  it('keeps serving the last good version when the file becomes invalid, and says why', async () => {
    write({ zendesk: { enabled: true, rolloutPercent: 50, mode: 'live' } });
    await fetch(agent.url);
    write({ zendesk: { enabled: 'yes', rolloutPercent: 500 } });

    const res = await fetch(agent.url);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ zendesk: { enabled: true, rolloutPercent: 50, mode: 'live' } });
    expect(res.headers.get(STALE_HEADER)).toMatch(/zendesk\.enabled/);
  });

  it('answers 500 with the reason when no valid version has been seen', async () => {
    const badFile = join(dir, 'bad.json');
    writeFileSync(badFile, '{ not json');
    const fresh = await startFlagsAgent({ file: badFile });
    try {
      const res = await fetch(fresh.url);
      expect(res.status).toBe(500);
      expect(((await res.json()) as { message: string }).message).toMatch(/not valid JSON/);
    } finally {
      await fresh.stop();
    }
  });

  it('answers 404 for another application, environment or profile', async () => {
    const res = await fetch(agent.url.replace(FLAGS.profile, 'other-profile'));
    expect(res.status).toBe(404);
  });
});
