import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  containsPii,
  luhnValid,
  newRedactionState,
  redactFields,
  redactText,
  restoreTokens,
} from '../../lambdas/core/redact.js';

const digit = fc.integer({ min: 0, max: 9 }).map(String);
const digits = (n: number) => fc.array(digit, { minLength: n, maxLength: n }).map((d) => d.join(''));

function luhnCheckDigit(payload: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(payload + d)) return String(d);
  throw new Error('unreachable');
}

/** Luhn-valid 16-digit cards, written contiguously or in groups of four with spaces or dashes. */
const card = fc
  .tuple(fc.constantFrom('4', '5', '3', '6'), digits(14), fc.constantFrom('', ' ', '-'))
  .map(([first, rest, sep]) => {
    const number = first + rest + luhnCheckDigit(first + rest);
    return number.match(/.{4}/g)!.join(sep);
  });

const luhnInvalid16 = fc.tuple(digits(15)).map(([payload]) => {
  const check = (Number(luhnCheckDigit(payload)) + 1) % 10;
  return payload + check;
});

const area = fc.integer({ min: 200, max: 999 }).map(String);
const phone = fc.oneof(
  fc.tuple(area, digits(3), digits(4)).map(([a, b, c]) => `(${a}) ${b}-${c}`),
  fc.tuple(area, digits(3), digits(4)).map(([a, b, c]) => `${a}-${b}-${c}`),
  fc.tuple(area, digits(3), digits(4)).map(([a, b, c]) => `+1 ${a} ${b} ${c}`),
  fc
    .tuple(fc.integer({ min: 2, max: 99 }), digits(2), digits(4), digits(4))
    .map(([cc, a, b, c]) => `+${cc} ${a} ${b} ${c}`),
);

const email = fc.emailAddress();
// Filler never glues onto the injected value: separators always contain a non-digit, non-atext character.
const separator = fc.constantFrom(', ', ': ', '\n(', ') ', ' — ');
const filler = fc.string({ maxLength: 40 });

function inject(value: fc.Arbitrary<string>) {
  return fc.tuple(filler, separator, value, separator, filler).map(([a, s1, v, s2, b]) => ({
    text: a + s1 + v + s2 + b,
    value: v,
  }));
}

describe('redactText', () => {
  it('replaces each kind by a numbered token', () => {
    const state = newRedactionState();
    const out = redactText(
      'Mail ana@example.com or call +44 20 7946 0958, (555) 123-4567, 555-123-4567 or +1 555 123 4567. Card 4111 1111 1111 1111.',
      state,
    );
    expect(out).toBe(
      'Mail [EMAIL_1] or call [PHONE_1], [PHONE_2], [PHONE_3] or [PHONE_4]. Card [CARD_1].',
    );
    expect(state.counts).toEqual({ EMAIL: 1, PHONE: 4, CARD: 1 });
    expect(state.tokens['[PHONE_1]']).toBe('+44 20 7946 0958');
  });

  it('gives the same original the same token across calls with one state', () => {
    const state = newRedactionState();
    const a = redactText('from ana@example.com', state);
    const b = redactText('cc bob@example.com and ana@example.com', state);
    expect(a).toBe('from [EMAIL_1]');
    expect(b).toBe('cc [EMAIL_2] and [EMAIL_1]');
  });

  it('redacts Amex, dashed and contiguous cards but keeps a Luhn-invalid order number', () => {
    const out = redactText('378282246310005 / 4111-1111-1111-1111 / order 4111111111111112', newRedactionState());
    expect(out).toBe('[CARD_1] / [CARD_2] / order 4111111111111112');
  });

  it('finds a card that directly follows a phone number in one run of digits', () => {
    const out = redactText('call 555-123-4567 4111 1111 1111 1111', newRedactionState());
    expect(out).toBe('call [PHONE_1] [CARD_1]');
  });

  it('does not reuse a token number whose text already occurs literally', () => {
    const state = newRedactionState();
    const out = redactText('see [EMAIL_1] and ana@example.com', state);
    expect(out).toBe('see [EMAIL_1] and [EMAIL_2]');
    expect(restoreTokens(out, state.tokens)).toBe('see [EMAIL_1] and ana@example.com');
  });

  it('leaves dates, times, versions, order numbers and prices alone', () => {
    const text =
      'At 2024-05-01T12:00:00Z (2024-05-01 12:00:00, 12:30) v1.2.3 shipped ORD-2024-000123 for $1,234.56; ref 4111111111111112, id 1234567890, ext 555-1234.';
    expect(redactText(text, newRedactionState())).toBe(text);
    expect(containsPii(text)).toEqual([]);
  });

  it.each([
    ['email', email],
    ['card', card],
    ['phone number', phone],
  ] as const)('never leaves an injected %s in the output (property)', (_kind, arbitrary) => {
    fc.assert(
      fc.property(inject(arbitrary), ({ text, value }) => {
        expect(redactText(text, newRedactionState())).not.toContain(value);
      }),
    );
  });

  it('is reversed exactly by restoreTokens (property)', () => {
    fc.assert(
      fc.property(fc.oneof(filler, inject(fc.oneof(email, card, phone)).map((x) => x.text)), (text) => {
        const state = newRedactionState();
        expect(restoreTokens(redactText(text, state), state.tokens)).toBe(text);
      }),
    );
  });

  it('is idempotent on already-redacted text (property)', () => {
    fc.assert(
      fc.property(inject(fc.oneof(email, card, phone)), ({ text }) => {
        const state = newRedactionState();
        const once = redactText(text, state);
        expect(redactText(once, state)).toBe(once);
        expect(containsPii(once)).toEqual([]);
      }),
    );
  });

  it('leaves tricky non-PII numbers alone (property)', () => {
    const iso = fc
      .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString());
    const version = fc.tuple(fc.nat(99), fc.nat(99), fc.nat(999)).map(([a, b, c]) => `v${a}.${b}.${c}`);
    const order = fc.tuple(fc.integer({ min: 2000, max: 2099 }), digits(6)).map(([y, n]) => `ORD-${y}-${n}`);
    const price = fc.integer({ min: 0, max: 99_999_999 }).map(
      (cents) => `$${Math.floor(cents / 100).toLocaleString('en-US')}.${String(cents % 100).padStart(2, '0')}`,
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(iso, version, order, price, luhnInvalid16), { minLength: 1, maxLength: 6 }), (parts) => {
        const text = parts.join(' ');
        expect(redactText(text, newRedactionState())).toBe(text);
      }),
    );
  });
});

describe('redactFields', () => {
  const input = {
    ticket: { id: 7, description: 'I am ana@example.com', subject: 'Refund for ORD-2024-000123' },
    requester: { phone: '555-123-4567', name: 'Ana' },
    comments: [{ body: 'card 4111 1111 1111 1111' }, { body: 'thanks' }],
  };

  it('redacts the named string fields in a deep clone', () => {
    const state = newRedactionState();
    const out = redactFields(input, ['ticket.description', 'requester.phone', 'comments.*.body'], state);
    expect(out.ticket.description).toBe('I am [EMAIL_1]');
    expect(out.requester.phone).toBe('[PHONE_1]');
    expect(out.comments[0].body).toBe('card [CARD_1]');
    expect(out.comments[1].body).toBe('thanks');
    expect(out.ticket.subject).toBe('Refund for ORD-2024-000123');
    expect(input.ticket.description).toBe('I am ana@example.com');
  });

  it('ignores missing paths and non-string values', () => {
    const out = redactFields(input, ['ticket.nope.deeper', 'ticket.id', 'nothing'], newRedactionState());
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
  });

  it('redacts every string under a path that names an object', () => {
    const out = redactFields(input, ['requester'], newRedactionState());
    expect(out.requester).toEqual({ phone: '[PHONE_1]', name: 'Ana' });
  });

  it('supports numeric indexes into arrays', () => {
    const out = redactFields(input, ['comments.0.body'], newRedactionState());
    expect(out.comments[0].body).toBe('card [CARD_1]');
  });
});

describe('restoreTokens', () => {
  it('leaves unknown tokens visible as tokens', () => {
    expect(restoreTokens('[EMAIL_1] and [EMAIL_9]', { '[EMAIL_1]': 'a@b.co' })).toBe('a@b.co and [EMAIL_9]');
  });
});

describe('containsPii', () => {
  it('lists the kinds present', () => {
    expect(containsPii('a@b.co 4111 1111 1111 1111')).toEqual(['EMAIL', 'CARD']);
    expect(containsPii('nothing here')).toEqual([]);
  });
});

describe('redactText with apostrophes', () => {
  it("keeps a quote around an email outside the token but redacts o'brien whole", () => {
    const state = newRedactionState();
    expect(redactText("'ana@example.com' and o'brien@example.com", state)).toBe("'[EMAIL_1]' and [EMAIL_2]");
    expect(state.tokens['[EMAIL_2]']).toBe("o'brien@example.com");
  });
});
