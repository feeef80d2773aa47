import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GENESIS_HASH,
  auditKey,
  canonicalJson,
  headOf,
  sealRecord,
  verifyChain,
  type AuditRecord,
} from '../../lambdas/core/audit-record.js';

const base = { decisionId: 'd-1', integration: 'support-triage', attempt: 1, at: '2024-05-01T12:00:00.000Z' };

function chainOf(stages: string[], data: Array<Record<string, unknown>> = []): AuditRecord[] {
  const records: AuditRecord[] = [];
  let head = null;
  for (const [i, stage] of stages.entries()) {
    const record = sealRecord({ ...base, stage, kind: stage, data: data[i] ?? { i } }, head);
    records.push(record);
    head = headOf(record);
  }
  return records;
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}');
  });

  it('follows JSON.stringify for undefined, non-finite numbers and toJSON', () => {
    expect(canonicalJson({ a: undefined, b: [undefined], c: Number.NaN, d: new Date(0) })).toBe(
      '{"b":[null],"c":null,"d":"1970-01-01T00:00:00.000Z"}',
    );
  });

  it('refuses circular structures', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => canonicalJson(loop)).toThrow(TypeError);
  });

  it('is stable under key order and survives a JSON round trip (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(text);
      }),
    );
  });
});

describe('sealRecord', () => {
  it('starts a chain at seq 0 from the genesis hash', () => {
    const record = sealRecord({ ...base, stage: 'ingest', kind: 'accepted', data: { size: 10 } }, null);
    expect(record.seq).toBe(0);
    expect(record.prevHash).toBe(GENESIS_HASH);
    expect(GENESIS_HASH).toMatch(/^0{64}$/);
    const { hash, ...content } = record;
    expect(hash).toBe(createHash('sha256').update(canonicalJson(content)).digest('hex'));
  });

  it('links to the head it is given', () => {
    const [first, second] = chainOf(['ingest', 'validate']);
    expect(second.seq).toBe(1);
    expect(second.prevHash).toBe(first.hash);
    expect(headOf(second)).toEqual({ seq: 1, hash: second.hash });
  });
});

describe('auditKey', () => {
  it('pads seq to four digits and names stage, attempt and the record hash', () => {
    const record = sealRecord({ ...base, stage: 'infer', attempt: 2, kind: 'model_call', data: {} }, { seq: 2, hash: 'a'.repeat(64) });
    expect(auditKey(record)).toBe(`decisions/support-triage/d-1/0003-infer-2-${record.hash.slice(0, 12)}.json`);
  });

  it('gives two deliveries of the same stage attempt different keys', () => {
    const head = { seq: 2, hash: 'a'.repeat(64) };
    const first = sealRecord({ ...base, stage: 'act', kind: 'acted', data: { n: 1 } }, head);
    const second = sealRecord({ ...base, stage: 'act', kind: 'acted', data: { n: 2 } }, head);
    expect(auditKey(first)).not.toBe(auditKey(second));
  });
});

describe('verifyChain', () => {
  it('accepts an intact chain given in any order and returns it in seq order', () => {
    const records = chainOf(['ingest', 'validate', 'infer', 'verify', 'act']);
    const result = verifyChain([...records].reverse());
    expect(result).toEqual({ ok: true, problems: [], chain: records, retries: [] });
  });

  it('survives a JSON round trip (as stored in S3)', () => {
    const records = chainOf(['ingest', 'validate'], [{ when: new Date(0), nested: { b: 1, a: undefined } }]);
    expect(verifyChain(JSON.parse(JSON.stringify(records))).ok).toBe(true);
  });

  it('allows retries as siblings, reports them, and follows the branch that continues', () => {
    const [ingest, validate] = chainOf(['ingest', 'validate']);
    const failed = sealRecord({ ...base, stage: 'infer', attempt: 1, kind: 'model_error', data: {} }, headOf(validate));
    const retried = sealRecord({ ...base, stage: 'infer', attempt: 2, kind: 'model_call', data: {} }, headOf(validate));
    const verify = sealRecord({ ...base, stage: 'verify', kind: 'verified', data: {} }, headOf(retried));
    const result = verifyChain([verify, failed, ingest, retried, validate]);
    expect(result.ok).toBe(true);
    expect(result.chain.map((r) => `${r.stage}-${r.attempt}`)).toEqual(['ingest-1', 'validate-1', 'infer-2', 'verify-1']);
    expect(result.retries).toEqual([
      {
        seq: 2,
        prevHash: validate.hash,
        records: [
          { stage: 'infer', attempt: 1, hash: failed.hash },
          { stage: 'infer', attempt: 2, hash: retried.hash },
        ],
      },
    ]);
  });

  it('names a tampered record and the successor that no longer links', () => {
    const records = chainOf(['ingest', 'validate', 'infer']);
    records[1] = { ...records[1], data: { i: 'edited' } };
    const result = verifyChain(records);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      'Record 1 (validate, attempt 1): its hash does not match its contents (tampered or corrupted).',
      `Record 2 (infer, attempt 1): links to ${records[2].prevHash.slice(0, 12)}…, which is not a valid record in the log (missing or tampered).`,
    ]);
    expect(result.chain.map((r) => r.stage)).toEqual(['ingest']);
  });

  it('detects a re-sealed record through its successor', () => {
    const records = chainOf(['ingest', 'validate', 'infer']);
    const { hash: _old, prevHash: _p, seq: _s, ...content } = records[1];
    records[1] = sealRecord({ ...content, data: { i: 'forged' } }, headOf(records[0]));
    const result = verifyChain(records);
    expect(result.ok).toBe(false);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^Record 2 \(infer, attempt 1\): links to/);
  });

  it('detects a missing record in the middle', () => {
    const records = chainOf(['ingest', 'validate', 'infer']);
    expect(verifyChain([records[0], records[2]]).ok).toBe(false);
  });

  it('rejects an empty log and a record from another decision', () => {
    expect(verifyChain([])).toMatchObject({ ok: false, problems: ['There are no audit records.'] });
    const records = chainOf(['ingest']);
    const stranger = sealRecord({ ...base, decisionId: 'd-2', stage: 'validate', kind: 'x', data: {} }, headOf(records[0]));
    expect(verifyChain([...records, stranger]).problems[0]).toMatch(/belongs to support-triage\/d-2/);
  });

  const mutation = fc.oneof(
    fc.constant((r: AuditRecord) => ({ ...r, decisionId: `${r.decisionId}x` })),
    fc.constant((r: AuditRecord) => ({ ...r, integration: `${r.integration}x` })),
    fc.constant((r: AuditRecord) => ({ ...r, seq: r.seq + 1 })),
    fc.constant((r: AuditRecord) => ({ ...r, stage: `${r.stage}x` })),
    fc.constant((r: AuditRecord) => ({ ...r, attempt: r.attempt + 1 })),
    fc.constant((r: AuditRecord) => ({ ...r, kind: `${r.kind}x` })),
    fc.constant((r: AuditRecord) => ({ ...r, at: '2099-01-01T00:00:00.000Z' })),
    fc.constant((r: AuditRecord) => ({ ...r, prevHash: 'f'.repeat(64) })),
    fc.constant((r: AuditRecord) => ({ ...r, hash: 'e'.repeat(64) })),
    fc.constant((r: AuditRecord) => ({ ...r, data: { ...r.data, injected: r.data.injected === 1 ? 2 : 1 } })),
    fc.constant((r: AuditRecord) => ({ ...r, data: {} })),
    fc.constant((r: AuditRecord) => ({ ...r, extra: 'field' }) as AuditRecord),
  );

  it('detects tampering with any field of any record (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        mutation,
        (data, at, mutate) => {
          const records = chainOf(data.map((_, i) => `stage${i}`), data);
          expect(verifyChain(records).ok).toBe(true);
          const i = at % records.length;
          const tampered = [...records];
          tampered[i] = mutate(records[i]);
          expect(verifyChain(tampered).ok).toBe(false);
        },
      ),
    );
  });
});
