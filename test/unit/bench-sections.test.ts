import { describe, expect, it } from 'vitest';
import { run as runBundles } from '../../lib/bench/bundles.js';
import { run as runCoreCpu } from '../../lib/bench/core-cpu.js';
import { run as runTokens } from '../../lib/bench/tokens.js';
import type { BenchRunner, BenchSection } from '../../lib/bench/types.js';

/** Checks the shape of a section, never its figures: benchmarks are not pass/fail. */
function expectWellFormed(section: BenchSection, id: string): void {
  expect(section.id).toBe(id);
  expect(section.title.length).toBeGreaterThan(0);
  expect(section.rows.length).toBeGreaterThan(0);
  const keys = Object.keys(section.rows[0]);
  for (const row of section.rows) {
    expect(Object.keys(row)).toEqual(keys);
    for (const value of Object.values(row)) {
      if (typeof value === 'number') expect(Number.isFinite(value)).toBe(true);
      else expect(typeof value).toBe('string');
    }
  }
  for (const target of section.targets) {
    expect(typeof target.met).toBe('boolean');
    expect(target.what.length).toBeGreaterThan(0);
    expect(target.target.length).toBeGreaterThan(0);
    expect(target.actual).not.toMatch(/NaN|Infinity|undefined/);
    if (!target.met) expect(target.note?.length ?? 0).toBeGreaterThan(0);
  }
  for (const note of section.notes) expect(typeof note).toBe('string');
}

async function quick(runner: BenchRunner): Promise<{ section: BenchSection; progress: string[] }> {
  const progress: string[] = [];
  const section = await runner({ quick: true, progress: (m) => progress.push(m) });
  return { section, progress };
}

describe('bench sections (--quick)', () => {
  it('core-cpu returns a row per payload size and step plus a total, and a target for 4 KB', async () => {
    const { section, progress } = await quick(runCoreCpu);
    expectWellFormed(section, 'core-cpu');
    expect(Object.keys(section.rows[0])).toEqual(['size', 'step', 'p50 µs', 'p99 µs']);
    expect(new Set(section.rows.map((r) => r.size))).toEqual(new Set(['1 KB', '4 KB', '64 KB']));
    expect(section.rows.filter((r) => r.step === 'total')).toHaveLength(3);
    expect(section.targets).toHaveLength(1);
    expect(progress.length).toBeGreaterThan(0);
  });

  it('bundles returns a row and a size and an import target per handler', async () => {
    const { section, progress } = await quick(runBundles);
    expectWellFormed(section, 'bundles');
    expect(section.rows.map((r) => r.handler)).toEqual(expect.arrayContaining(['ingest', 'validate', 'infer', 'verify', 'act']));
    expect(section.targets).toHaveLength(section.rows.length * 2);
    expect(progress).toHaveLength(section.rows.length);
  });

  it('tokens returns a row per integration plus the overall row', async () => {
    const { section, progress } = await quick(runTokens);
    expectWellFormed(section, 'tokens');
    expect(section.rows.map((r) => r.integration)).toEqual(['support-triage', 'github-issue-triage', 'shopify-order-risk', 'all']);
    expect(section.rows.every((r) => Number(r.decisions) > 0)).toBe(true);
    expect(progress.length).toBeGreaterThan(0);
  });
});
