import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMessageBody, readMessageBody } from '../../lambdas/aws/sqs-queues.js';

/** The characters AWS SQS allows in a body, read one UTF-16 unit at a time as the local emulator reads them. */
const SQS_VALID_UNITS = /^[\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]*$/;

/** Any sequence of UTF-16 units: surrogate pairs, lone and reversed halves, U+FFFE, U+FFFF, controls. */
const anyUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }).map((units) => String.fromCharCode(...units));
/** Any code points, surrogate halves included (fast-check's `binary` unit). */
const anyCodePoints = fc.string({ unit: 'binary', maxLength: 40 });
const anyString = fc.oneof(anyUnits, anyCodePoints);

describe('encodeMessageBody', () => {
  it('writes only units SQS accepts, and JSON.parse reads back the same string (property)', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const text = encodeMessageBody({ s });
        expect(text).toMatch(SQS_VALID_UNITS);
        expect((JSON.parse(text) as { s: string }).s).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips nested envelopes whose keys and values carry any Unicode (property)', () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        anyString, fc.integer(), fc.boolean(), fc.constant(null),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(anyString, tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        const text = encodeMessageBody(v);
        expect(text).toMatch(SQS_VALID_UNITS);
        expect(JSON.parse(text)).toEqual(v);
      }),
    );
  });

  it('escapes an emoji, a CJK Extension B character, U+FFFE, U+FFFF and lone surrogates as JSON escapes', () => {
    const s = '😀 \u{20000} \uFFFE \uFFFF \uD800 \uDFFF é 中';
    const text = encodeMessageBody(s);
    expect(text).toBe('"\\ud83d\\ude00 \\ud840\\udc00 \\ufffe \\uffff \\ud800 \\udfff é 中"');
    expect(JSON.parse(text)).toBe(s);
  });

  it('leaves text that SQS already accepts as JSON.stringify writes it', () => {
    const body = { subject: 'Refund for order #42', note: 'café — 中文 ✓', tab: '\t' };
    expect(encodeMessageBody(body)).toBe(JSON.stringify(body));
  });

  it('refuses a body JSON cannot represent instead of sending "undefined"', () => {
    expect(() => encodeMessageBody(undefined)).toThrow(/JSON-serialisable/);
  });

  it('is what readMessageBody reads back', async () => {
    const envelope = { decisionId: 'dec_1', raw: { body: '{"subject":"Help 🙏 𠀀"}' } };
    expect(await readMessageBody({ body: encodeMessageBody(envelope) })).toEqual(envelope);
  });
});
