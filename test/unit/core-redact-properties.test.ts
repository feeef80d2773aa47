import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  containsPii,
  IBAN_LENGTHS,
  ipv6Valid,
  luhnValid,
  newRedactionState,
  PII_KINDS,
  redactText,
  restoreTokens,
  type PiiKind,
} from '../../lambdas/core/redact.js';
import { mod97 } from '../../lambdas/core/pii/iban.js';

const digit = fc.integer({ min: 0, max: 9 }).map(String);
const digits = (n: number) => fc.array(digit, { minLength: n, maxLength: n }).map((d) => d.join(''));
const alnum = (n: number) =>
  fc.array(fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'), { minLength: n, maxLength: n }).map((c) => c.join(''));

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

const luhnInvalid16 = digits(15).map((payload) => payload + ((Number(luhnCheckDigit(payload)) + 1) % 10));

/** IBANs with a random BBAN of the country's length and computed check digits, compact or grouped by four. */
const iban = fc
  .tuple(fc.constantFrom(...Object.keys(IBAN_LENGTHS)), fc.integer({ min: 11, max: 30 }), fc.boolean())
  .chain(([country, , grouped]) =>
    fc
      .array(fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'), { minLength: IBAN_LENGTHS[country] - 4, maxLength: IBAN_LENGTHS[country] - 4 })
      .map((chars) => {
        const bban = chars.join('');
        const check = String(98 - mod97(bban + country + '00')).padStart(2, '0');
        const compact = country + check + bban;
        return grouped ? compact.match(/.{1,4}/g)!.join(' ') : compact;
      }),
  );

/** SSNs outside the SSA's never-issued ranges, dashed. */
const ssn = fc
  .tuple(fc.integer({ min: 1, max: 899 }).filter((a) => a !== 666), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 }))
  .map(([a, g, s]) => `${String(a).padStart(3, '0')}-${String(g).padStart(2, '0')}-${String(s).padStart(4, '0')}`);

/** IPv4 addresses that name a host (not loopback, unspecified, broadcast or netmask). */
const ipv4 = fc.ipV4().filter((ip) => !/^(?:127|255)\./.test(ip) && ip !== '0.0.0.0');

/** IPv6 addresses in every text form fast-check writes, within the detector's scope (a digit and two groups). */
const ipv6 = fc.ipV6().filter(ipv6Valid);

const email = fc.emailAddress();

const area = fc.integer({ min: 200, max: 999 }).map(String);
const phone = fc.oneof(
  fc.tuple(area, digits(3), digits(4)).map(([a, b, c]) => `(${a}) ${b}-${c}`),
  fc.tuple(area, digits(3), digits(4)).map(([a, b, c]) => `${a}-${b}-${c}`),
  fc.tuple(area, digits(3), digits(4)).map(([a, b, c]) => `+1 ${a} ${b} ${c}`),
  fc.tuple(fc.integer({ min: 2, max: 99 }), digits(2), digits(4), digits(4)).map(([cc, a, b, c]) => `+${cc} ${a} ${b} ${c}`),
  fc.tuple(digits(1), digits(4), digits(4)).map(([a, b, c]) => `02${a} ${b} ${c}`),
  fc.tuple(fc.integer({ min: 1, max: 9 }), digits(2), digits(2), digits(2), digits(2)).map((p) => `0${p.join(' ')}`),
);

/** Credentials built from vendor prefixes and random bodies. */
const secret = fc.oneof(
  fc.tuple(fc.constantFrom('sk_live_', 'sk_test_', 'rk_live_'), alnum(24)).map(([p, b]) => p + b),
  alnum(36).map((b) => `ghp_${b}`),
  fc.tuple(digits(11), digits(11), alnum(24)).map(([a, b, c]) => `xoxb-${a}-${b}-${c}`),
  fc.array(fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'), { minLength: 16, maxLength: 16 }).map((c) => `AKIA${c.join('')}`),
  fc.tuple(alnum(20), alnum(30), alnum(43)).map(([h, p, s]) => `eyJ${h}.eyJ${p}.${s}`),
);

// Filler never glues onto the injected value, and no separator lets a context word in the filler
// (`order`, `version`, `part`) reach the value: each contains a character those rules stop at.
const separator = fc.constantFrom(', ', ' | ', '\n(', ') ', ' — ');
const filler = fc.string({ maxLength: 40 });

function inject(value: fc.Arbitrary<string>) {
  return fc.tuple(filler, separator, value, separator, filler).map(([a, s1, v, s2, b]) => ({ text: a + s1 + v + s2 + b, value: v }));
}

const restorable: ReadonlyArray<readonly [string, fc.Arbitrary<string>]> = [
  ['email', email],
  ['card', card],
  ['phone number', phone],
  ['IBAN', iban],
  ['SSN', ssn],
  ['IPv4 address', ipv4],
  ['IPv6 address', ipv6],
];

describe('redactText (properties)', () => {
  it.each(restorable)('redacts an injected %s and restores it exactly', (_kind, arbitrary) => {
    fc.assert(
      fc.property(inject(arbitrary), ({ text, value }) => {
        const state = newRedactionState();
        const out = redactText(text, state);
        expect(out).not.toContain(value);
        expect(restoreTokens(out, state.tokens)).toBe(text);
      }),
    );
  });

  it('redacts an injected credential and never restores it, even when asked', () => {
    fc.assert(
      fc.property(inject(secret), ({ text, value }) => {
        const state = newRedactionState();
        const out = redactText(text, state);
        expect(out).not.toContain(value);
        expect(restoreTokens(out, state.tokens, PII_KINDS)).not.toContain(value);
        expect(JSON.stringify(state)).not.toContain(value);
      }),
    );
  });

  it('never redacts Luhn-invalid numbers, dates, versions or timestamps', () => {
    const instant = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true });
    const iso = instant.map((d) => d.toISOString());
    const isoSeconds = instant.map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z'));
    const day = instant.map((d) => d.toISOString().slice(0, 10));
    const european = instant.map((d) => d.toISOString().slice(0, 10).split('-').reverse().join('/'));
    const dotted = instant.map((d) => d.toISOString().slice(0, 10).split('-').reverse().join('.'));
    const clock = instant.map((d) => d.toISOString().slice(11, 19));
    const semver = fc.tuple(fc.nat(99), fc.nat(99), fc.nat(999), fc.boolean()).map(([a, b, c, v]) => `${v ? 'v' : ''}${a}.${b}.${c}`);
    const quad = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
    const version4 = fc.tuple(fc.constantFrom('v', 'version ', 'Version: ', 'build ', 'firmware '), quad).map(([w, q]) => w + q);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(iso, isoSeconds, day, european, dotted, clock, semver, version4, luhnInvalid16), { minLength: 1, maxLength: 6 }),
        (parts) => {
          const text = parts.join(' ');
          expect(redactText(text, newRedactionState())).toBe(text);
        },
      ),
    );
  });

  it('is idempotent: redacting redacted text changes nothing and finds nothing', () => {
    fc.assert(
      fc.property(inject(fc.oneof(email, card, phone, iban, ssn, ipv4, ipv6, secret)), ({ text }) => {
        const state = newRedactionState();
        const once = redactText(text, state);
        const before = structuredClone(state);
        expect(redactText(once, state)).toBe(once);
        expect(state).toEqual(before);
        expect(containsPii(once)).toEqual([]);
      }),
    );
  });

  it('numbers tokens by first appearance and reuses them for repeats, within and across calls', () => {
    // An email with a leading quote keeps the quote outside its token, so it is not a whole-token mention.
    const wholeTokenEmail = email.filter((e) => !e.startsWith("'"));
    const values = fc.uniqueArray(fc.oneof(wholeTokenEmail, iban, ssn, ipv4), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(values, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (distinct, picks) => {
        const mentions = [...distinct, ...picks.map((p) => distinct[p % distinct.length])];
        const state = newRedactionState();
        const half = Math.ceil(mentions.length / 2);
        const out = [redactText(mentions.slice(0, half).join(' ; '), state), redactText(mentions.slice(half).join(' ; '), state)]
          .join(' ; ')
          .split(' ; ');
        const expected = new Map<string, string>();
        const next: Partial<Record<PiiKind, number>> = {};
        mentions.forEach((m, i) => {
          const kind = /^\[([A-Z]+)_/.exec(out[i])![1] as PiiKind;
          if (!expected.has(m)) expected.set(m, `[${kind}_${(next[kind] = (next[kind] ?? 0) + 1)}]`);
          expect(out[i]).toBe(expected.get(m));
        });
      }),
    );
  });
});
