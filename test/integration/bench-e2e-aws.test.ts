import { describe, expect, it } from 'vitest';
import { run as runAwsRequests } from '../../lib/bench/aws-requests.js';
import { run as runE2e } from '../../lib/bench/e2e.js';
import type { BenchSection } from '../../lib/bench/types.js';

/** The shape every section must have; the figures themselves are never asserted (they are timings and estimates). */
function expectWellFormed(section: BenchSection, id: string): void {
  expect(section.id).toBe(id);
  expect(section.title).toEqual(expect.any(String));
  expect(section.rows.length).toBeGreaterThan(0);
  const keys = JSON.stringify(Object.keys(section.rows[0]));
  for (const row of section.rows) {
    expect(JSON.stringify(Object.keys(row))).toBe(keys);
    for (const value of Object.values(row)) {
      if (typeof value === 'number') expect(Number.isFinite(value), JSON.stringify(row)).toBe(true);
      else expect(typeof value).toBe('string');
    }
  }
  expect(section.targets.length).toBeGreaterThan(0);
  for (const t of section.targets) {
    expect(typeof t.met).toBe('boolean');
    expect(t.actual).toEqual(expect.any(String));
    if (!t.met) expect(t.note, `${t.what} is missed and must say why`).toEqual(expect.any(String));
  }
  expect(section.notes.every((n) => typeof n === 'string' && n.length > 0)).toBe(true);
}

describe('bench sections e2e and aws-requests (--quick)', () => {
  it('e2e reports a row per poller setting with throughput and latency columns, and reports progress', async () => {
    const progress: string[] = [];
    const section = await runE2e({ quick: true, progress: (m) => progress.push(m) });
    expectWellFormed(section, 'e2e');
    expect(section.rows.map((r) => r['pollers/stage'])).toEqual([2, 8]);
    expect(Object.keys(section.rows[0])).toEqual(expect.arrayContaining(['events/s', 'p50 ms', 'p95 ms', 'p99 ms']));
    expect(progress.some((m) => /^e2e .*sent \d+\/\d+, acted \d+/.test(m))).toBe(true);
  }, 30_000);

  it('aws-requests reports service, operation, requests/event and $/M events, with the machinery total and two model prices', async () => {
    const section = await runAwsRequests({ quick: true, progress: () => {} });
    expectWellFormed(section, 'aws-requests');
    expect(Object.keys(section.rows[0]).slice(0, 4)).toEqual(['service', 'operation', 'requests/event', '$/M events']);
    const services = new Set(section.rows.map((r) => r.service));
    for (const s of ['API Gateway', 'Lambda', 'SQS', 'S3', 'DynamoDB', 'Total', 'Anthropic']) expect(services).toContain(s);
    expect(section.rows.filter((r) => r.service === 'Anthropic').map((r) => r.operation)).toEqual([
      expect.stringContaining('claude-haiku-4-5'), expect.stringContaining('claude-sonnet-4-5'),
    ]);
  }, 30_000);
});
