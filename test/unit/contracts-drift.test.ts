import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { detectDrift, type DriftPolicy } from '../../lambdas/core/contracts/drift.js';
import { daysLeft, migrating, windowOpen } from '../../lambdas/core/contracts/migration.js';
import { observed } from '../../lambdas/core/contracts/observed.js';
import { containsPii } from '../../lambdas/core/redact.js';

// A small contract with every construct the detector must understand: closed objects, a loose
// subtree, a record, enums, literals, nullable, optional, defaults, arrays, an observed field, a
// migration window and a transform on top (the shape integrations actually declare).
const Order = z
  .object({
    type: z.literal('order.created'),
    id: z.number().int(),
    status: z.enum(['open', 'closed']),
    note: z.string().nullable(),
    total: z.string().regex(/^\d+\.\d{2}$/),
    currency: z.string().default('USD'),
    tags: z.array(z.string()).optional(),
    lines: z.array(z.object({ sku: z.string(), qty: z.number().int() })),
    customer: z.object({ id: z.number() }).loose(),
    attributes: z.record(z.string(), z.string()),
    fulfillment: observed(z.enum(['fulfilled', 'partial']).nullable()),
    channel: migrating(z.enum(['web', 'pos']), z.null(), { until: '2026-12-31', reason: 'Vendor changelog 2026-11: channel may be null for API orders' }),
  })
  .transform((o) => ({ id: o.id, total: o.total }));

const valid = () => ({
  type: 'order.created', id: 1001, status: 'open', note: null, total: '12.50', lines: [{ sku: 'A-1', qty: 2 }],
  customer: { id: 7, anything: { else: true } }, attributes: { gift: 'yes' }, fulfillment: 'partial', channel: 'web',
});

const NOW = new Date('2026-11-25T12:00:00Z');
const report = (payload: unknown, policy: DriftPolicy = { default: 'pass-and-report' }, now = NOW) => detectDrift(Order, payload, policy, now);
const kinds = (payload: unknown) => report(payload).findings.map((f) => [f.kind, f.pointer]);

describe('detectDrift', () => {
  it('finds nothing in a payload that matches the contract (loose subtree and record keys included)', () => {
    expect(report(valid()).findings).toEqual([]);
    expect(report(valid()).action).toBeUndefined();
  });

  it('names an unknown field with its pointer', () => {
    const p = { ...valid(), risk_level: 'high' };
    expect(kinds(p)).toEqual([['unknown_field', '/risk_level']]);
    expect(report(p).findings[0].message).toBe('/risk_level (string) is not in the contract.');
  });

  it('names unknown fields inside closed nested objects and array items, counted per field', () => {
    const p = { ...valid(), lines: [{ sku: 'A', qty: 1, gift: true }, { sku: 'B', qty: 1, gift: false }] };
    const [f] = report(p).findings;
    expect(f).toMatchObject({ kind: 'unknown_field', pointer: '/lines/0/gift', field: '/lines/*/gift', occurrences: 2 });
  });

  it('names a missing field', () => {
    const { note: _n, ...p } = valid();
    expect(kinds(p)).toEqual([['missing_field', '/note']]);
  });

  it('does not report a missing optional or defaulted field', () => {
    const p = valid() as Record<string, unknown>;
    delete p.tags;
    delete p.currency;
    expect(report(p).findings).toEqual([]);
  });

  it('quotes a new value only when it is cased like the contract\'s own members', () => {
    expect(report({ ...valid(), status: 'archived' }).findings[0].actual).toBe('"archived"');
    for (const v of ['JaneDoe', 'Jane.Doe', 'ARCHIVED', 'jane_doe1984', 'SW1A1AA', 'p4ss0rd99']) {
      expect(report({ ...valid(), status: v }).findings[0].actual, v).toBe(`a ${v.length}-character string`);
    }
  });

  it('names a new enum value, quoting an enum-like value and never free text', () => {
    expect(report({ ...valid(), status: 'archived' }).findings[0]).toMatchObject({ kind: 'new_enum_value', pointer: '/status', actual: '"archived"' });
    const freeText = report({ ...valid(), status: 'call me on 07700 900123 please' }).findings[0];
    expect(freeText.kind).toBe('new_enum_value');
    expect(freeText.message).not.toContain('07700');
    expect(freeText.actual).toBe('a 30-character string');
  });

  it('names a changed literal as a new enum value', () => {
    expect(kinds({ ...valid(), type: 'order.updated' })).toEqual([['new_enum_value', '/type']]);
  });

  it('names null where a value is required', () => {
    expect(kinds({ ...valid(), status: null })).toEqual([['null_where_required', '/status']]);
    expect(kinds({ ...valid(), lines: [{ sku: null, qty: 1 }] })).toEqual([['null_where_required', '/lines/0/sku']]);
  });

  it('names a type change, and an integer field receiving a fraction', () => {
    expect(report({ ...valid(), id: '1001' }).findings[0]).toMatchObject({ kind: 'type_changed', pointer: '/id', expected: 'an integer', actual: 'string' });
    expect(kinds({ ...valid(), id: 10.5 })).toEqual([['type_changed', '/id']]);
    expect(kinds({ ...valid(), lines: { sku: 'A', qty: 1 } })).toEqual([['type_changed', '/lines']]);
  });

  it('accepts null on a nullable field and reports another type against the non-null branch', () => {
    expect(report({ ...valid(), note: null }).findings).toEqual([]);
    expect(report({ ...valid(), note: 5 }).findings[0]).toMatchObject({ kind: 'type_changed', pointer: '/note' });
  });

  it('checks record values but not record keys', () => {
    expect(kinds({ ...valid(), attributes: { anything: 'x', other: 3 } })).toEqual([['type_changed', '/attributes/other']]);
  });

  it('names a payload key that does not look like a field name by its shape only, never verbatim or by a reversible hash', () => {
    expect(report({ ...valid(), 'a/b~c': 1 }).findings[0].pointer).toBe('/[5-character key]');
    expect(report({ ...valid(), '4111111111111111': 1 }).findings[0].pointer).toBe('/[16-digit key]');
    expect(kinds({ ...valid(), riskLevel: 1, 'x-request.id': 2, 42: 3 })).toEqual([['unknown_field', '/42'], ['unknown_field', '/riskLevel'], ['unknown_field', '/x-request.id']]);
  });

  it('never puts personal data from the labelled PII corpus into a finding, as a value, a number or a key', () => {
    const corpus = readFileSync(join(process.cwd(), 'test/fixtures/pii-corpus.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { pii: Array<{ value: string }> });
    // Findings apply the redactor's own detectors plus a digit rule; a value neither can recognise
    // on its own (a bare `hunter2` password) is indistinguishable from an enum member, and is the
    // redactor's documented miss rather than the drift detector's.
    const all = [...new Set(corpus.flatMap((c) => c.pii.map((p) => p.value)))];
    const values = all.filter((v) => containsPii(v).length > 0 || (v.match(/\d/g)?.length ?? 0) > 4);
    expect(values.length).toBeGreaterThan(150);
    expect(all.length - values.length).toBeLessThan(all.length / 20);
    for (const v of values) {
      const digits = v.replace(/\D/g, '');
      const payloads = [
        { ...valid(), status: v },
        { ...valid(), [v]: 'x' },
        { ...valid(), attributes: { [v]: 5 } },
        ...(digits.length >= 6 && digits.length <= 15 ? [{ ...valid(), status: Number(digits) }] : []),
      ];
      for (const p of payloads) {
        const text = JSON.stringify(report(p).findings);
        expect(text, `a finding quotes ${v}`).not.toContain(v);
        if (digits.length >= 6) expect(text, `a finding quotes the digits of ${v}`).not.toContain(digits);
      }
    }
  });

  describe('observed fields', () => {
    it('report drift at an observed field while the parse still succeeds', () => {
      const p = { ...valid(), fulfillment: 'restocked' };
      expect(kinds(p)).toEqual([['new_enum_value', '/fulfillment']]);
      expect(Order.safeParse(p).success).toBe(true);
      const typeChange = { ...valid(), fulfillment: 3 };
      expect(kinds(typeChange)).toEqual([['type_changed', '/fulfillment']]);
      expect(Order.safeParse(typeChange).success).toBe(true);
    });

    it('report a missing observed field as drift, without failing the parse', () => {
      const { fulfillment: _f, ...p } = valid();
      expect(kinds(p)).toEqual([['missing_field', '/fulfillment']]);
      expect(Order.safeParse(p).success).toBe(true);
    });
  });

  describe('migration windows', () => {
    it('tolerate the widened shape while open, and say so', () => {
      const r = report({ ...valid(), channel: null });
      expect(r.findings).toHaveLength(1);
      expect(r.tolerated).toHaveLength(1);
      expect(r.action).toBeUndefined();
      expect(r.findings[0].message).toContain('Accepted under a migration window until 2026-12-31 (36 days left)');
    });

    it('turn the widened shape back into drift the day after `until`, loudly', () => {
      const r = report({ ...valid(), channel: null }, { default: 'reject' }, new Date('2027-01-01T00:00:00Z'));
      expect(r.tolerated).toEqual([]);
      expect(r.expiredMigrations).toHaveLength(1);
      expect(r.findings[0]).toMatchObject({ kind: 'null_where_required', pointer: '/channel', migration: { expired: true } });
      expect(r.findings[0].message).toContain('EXPIRED on 2026-12-31');
      expect(r.action).toBe('reject');
    });

    it('still report a value outside both shapes as ordinary drift', () => {
      const r = report({ ...valid(), channel: 'kiosk' });
      expect(r.findings[0]).toMatchObject({ kind: 'new_enum_value', pointer: '/channel' });
      expect(r.findings[0].migration).toBeUndefined();
    });

    it('close at the end of the until day (UTC)', () => {
      const w = { until: '2026-12-31', reason: 'r' };
      expect(windowOpen(w, new Date('2026-12-31T23:59:59Z'))).toBe(true);
      expect(windowOpen(w, new Date('2027-01-01T00:00:00Z'))).toBe(false);
      expect(daysLeft(w, new Date('2026-12-31T12:00:00Z'))).toBe(0);
      expect(daysLeft(w, new Date('2027-01-01T12:00:00Z'))).toBe(-1);
    });

    it('refuse a malformed date or an empty reason when declared', () => {
      expect(() => migrating(z.string(), z.null(), { until: '31/12/2026', reason: 'r' })).toThrow(/YYYY-MM-DD/);
      expect(() => migrating(z.string(), z.null(), { until: '2026-12-31', reason: ' ' })).toThrow(/reason/);
    });
  });

  describe('policy', () => {
    const p = { ...valid(), risk_level: 'high', status: 'archived' };
    it('takes the strictest action over the findings', () => {
      expect(report(p, { default: 'pass-and-report' }).action).toBe('pass-and-report');
      expect(report(p, { default: 'pass-and-report', byKind: { new_enum_value: 'quarantine' } }).action).toBe('quarantine');
      expect(report(p, { default: 'reject', byKind: { new_enum_value: 'quarantine', unknown_field: 'pass-and-report' } }).action).toBe('quarantine');
      expect(report(p, { default: 'quarantine', byKind: { unknown_field: 'reject' } }).action).toBe('reject');
    });
  });

  it('never throws and always yields pointers that resolve in the payload or its parent (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(...Object.keys(valid())), (junk, key) => {
        const payload = { ...valid(), [key]: junk };
        const r = report(payload);
        for (const f of r.findings) {
          expect(f.pointer.startsWith('/')).toBe(true);
          const parent = f.pointer.split('/').slice(1, -1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
          let at: unknown = payload;
          for (const seg of parent) at = (at as Record<string, unknown>)[seg];
          expect(at !== undefined && at !== null && typeof at === 'object').toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
