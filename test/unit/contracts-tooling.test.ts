import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { detectDrift } from '../../lambdas/core/contracts/drift.js';
import { inspectContract } from '../../lambdas/core/contracts/inspect.js';
import { loadGolden } from '../../lambdas/core/eval/run.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { driftRows, sparkline } from '../../lib/cli/contracts.js';
import { inferContract, readPayloads } from '../../lib/contracts-infer.js';
import { migrating } from '../../lambdas/core/contracts/migration.js';
import { z as zod } from 'zod';

const tmp = join(process.cwd(), '.seamwork', `test-contracts-${process.pid}`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('inferContract', () => {
  const golden = loadGolden(supportTriage.eval.goldenPath).map((g) => g.body);

  it('drafts a contract that compiles, parses every sample and finds no drift in them', async () => {
    const draft = inferContract(golden, { origin: 'golden.jsonl' });
    mkdirSync(join(tmp, 'lambdas-like', 'x'), { recursive: true });
    // The draft imports observed() relative to lambdas/integrations/<name>/: place it where it resolves.
    const file = join(process.cwd(), 'lambdas', 'integrations', `.draft-${process.pid}.ts`);
    writeFileSync(file, draft.source.replace("'../../core/contracts/observed.js'", "'../core/contracts/observed.js'"));
    try {
      const { DraftContract } = (await import(file)) as { DraftContract: z.ZodType };
      for (const body of golden) {
        expect(DraftContract.safeParse(body).success).toBe(true);
        expect(detectDrift(DraftContract, body, { default: 'reject' }, new Date()).findings).toEqual([]);
      }
      // And it is closed: a field no sample had is drift against the draft.
      const extra = { ...(golden[0] as object), brand_new: 1 };
      expect(detectDrift(DraftContract, extra, { default: 'reject' }, new Date()).findings.map((f) => f.pointer)).toEqual(['/brand_new']);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('marks fields absent from some payloads optional, null-carrying ones nullable, and mixed types', () => {
    const draft = inferContract([{ a: 1, b: 'x', c: null }, { a: 2.5, c: 'y', d: 'z' }, { a: 3, c: 4, d: 'q' }]);
    expect(draft.optionalFields).toEqual(['/b', '/d']);
    expect(draft.mixedFields).toEqual(['/c']);
    expect(draft.source).toContain('a: z.number(),');
    expect(draft.source).toContain('c: z.union([z.string(), z.number().int()]).nullable(),');
  });

  it('notes enum-looking strings but never numeric ids', () => {
    const rows = Array.from({ length: 8 }, (_, i) => ({ status: ['open', 'closed'][i % 2], brand: '8447346621310', kind: 'event.x' }));
    const { source } = inferContract(rows);
    expect(source).toMatch(/status: z\.string\(\) \/\* 2 values in 8 samples: "open", "closed" — an enum\? \*\//);
    expect(source).toMatch(/brand: z\.string\(\),/);
    expect(source).toContain('always "event.x" in 8 samples — a literal?');
  });
});

describe('readPayloads', () => {
  it('reads payloads, arrays, fixtures (by their body) and JSONL golden lines, and reports what it skipped', () => {
    const dir = join(tmp, 'captured');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ id: 1 }));
    writeFileSync(join(dir, 'b.json'), JSON.stringify([{ id: 2 }, { id: 3 }]));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ name: 'f', body: JSON.stringify({ id: 4 }), signature: 'valid', expect: { status: 202 } }));
    writeFileSync(join(dir, 'd.jsonl'), `${JSON.stringify({ id: 'g', body: { id: 5 }, expected: {} })}\n\nnot json\n`);
    writeFileSync(join(dir, 'e.json'), '{ broken');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const { payloads, skipped } = readPayloads(dir);
    expect(payloads).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }, { id: 5 }]);
    expect(skipped.map((s) => s.split(':')[0])).toEqual(['d.jsonl', 'e.json']);
  });

  it('refuses a path that is not a folder', () => {
    expect(() => readPayloads(join(tmp, 'nope'))).toThrow(/not a folder/);
  });
});

describe('inspectContract', () => {
  it('counts strict and observed fields and lists the subtrees not tracked', () => {
    const shape = inspectContract(supportTriage.contract.schema, new Date());
    expect(shape.observed).toBe(13);
    expect(shape.openSubtrees).toEqual(['/detail/via', '/event']);
    expect(shape.windows).toEqual([]);
  });

  it('finds migration windows with their field, days left and expiry', () => {
    const schema = zod.object({
      items: zod.array(zod.object({ state: migrating(zod.enum(['a']), zod.null(), { until: '2026-12-01', reason: 'vendor v2' }) })),
    });
    expect(inspectContract(schema, new Date('2026-11-25T00:00:00Z')).windows).toEqual([
      { field: '/items/*/state', until: '2026-12-01', reason: 'vendor v2', daysLeft: 6, expired: false },
    ]);
    expect(inspectContract(schema, new Date('2026-12-02T00:00:00Z')).windows[0].expired).toBe(true);
  });
});

describe('drift history', () => {
  it('draws one mark per day scaled to the row, with · for none', () => {
    expect(sparkline([0, 1, 2, 4, 8])).toBe('·▁▂▄█');
  });

  it('groups counts per version, field, kind and tolerance over the window, latest first', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    const c = (day: string, field: string, count: number, message = 'm') => ({ contractVersion: 'v1', day, field, kind: 'unknown_field', count, tolerated: false, message });
    const rows = driftRows([c('2026-11-23', '/a', 2), c('2026-11-25', '/a', 1, 'latest'), c('2026-11-24', '/b', 5), c('2026-10-01', '/old', 9)], 3, now);
    expect(rows.map((r) => [r.field, r.perDay, r.total, r.last, r.message])).toEqual([
      ['/a', [2, 0, 1], 3, '2026-11-25', 'latest'],
      ['/b', [0, 5, 0], 5, '2026-11-24', 'm'],
    ]);
  });
});

describe('inferContract and personal data', () => {
  it('never writes a captured SSN, IP, email or card into the draft, as a value note or a key', () => {
    const rows = Array.from({ length: 6 }, () => ({ ssn: '123-45-6789', ip: '203.0.113.7', card: '4111111111111111', contact: 'ana@example.com', byEmail: { 'ana@example.com': 1 } }));
    const { source } = inferContract(rows);
    for (const v of ['123-45-6789', '203.0.113.7', '4111111111111111', 'ana@example.com']) expect(source).not.toContain(v);
    expect(source).toContain('"[15-character key]": z.number().int()');
  });
});
