import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

/**
 * The benchmark harness, not its figures: `npm run bench -- --quick` runs every section on a tiny
 * sample in a fresh process and writes well-formed JSON, markdown and HTML. Timings are never
 * asserted here; the figures live in docs/benchmarks/ from a full run.
 */
describe('npm run bench -- --quick', () => {
  const out = mkdtempSync(join(tmpdir(), 'seamwork-bench-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs every section, prints their tables, and writes results.json, results.md and results.html', async () => {
    const { stdout, stderr } = await run('npx', ['tsx', 'lib/bench/run.ts', '--quick', '--out', out], { cwd: process.cwd(), maxBuffer: 32 * 1024 * 1024, env: { ...process.env, CI: 'true' } });
    expect(stderr).toContain('bench: core-cpu…');
    expect(stdout).toMatch(/every target met|targets MISSED/);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { quick: boolean; machine: Record<string, unknown>; sections: Array<{ id: string; rows: Array<Record<string, unknown>>; targets: Array<{ met: unknown }> }> };
    expect(json.quick).toBe(true);
    expect(json.machine.cores).toEqual(expect.any(Number));
    expect(json.sections.map((s) => s.id)).toEqual(['core-cpu', 'bundles', 'grounding', 'tokens', 'e2e', 'aws-requests']);
    for (const s of json.sections) {
      expect(s.rows.length, s.id).toBeGreaterThan(0);
      const keys = JSON.stringify(Object.keys(s.rows[0]));
      for (const r of s.rows) expect(JSON.stringify(Object.keys(r)), s.id).toBe(keys);
      for (const t of s.targets) expect(typeof t.met, s.id).toBe('boolean');
    }
    expect(readFileSync(join(out, 'results.md'), 'utf8')).toContain('**Quick run');
    expect(readFileSync(join(out, 'results.html'), 'utf8')).toContain('<svg');
  }, 240_000);

  it('refuses an unknown section, naming the ones there are', async () => {
    await expect(run('npx', ['tsx', 'lib/bench/run.ts', '--quick', '--only', 'nope', '--out', out])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('no section nope (sections: core-cpu, bundles, grounding, tokens, e2e, aws-requests)') });
  }, 60_000);
});
