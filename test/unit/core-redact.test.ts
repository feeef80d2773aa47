import { describe, expect, it } from 'vitest';
import {
  containsPii,
  ibanValid,
  ipv6Valid,
  luhnValid,
  newRedactionState,
  PII_KINDS,
  redactFields,
  redactText,
  restoreTokens,
  ssnValid,
  type PiiKind,
} from '../../lambdas/core/redact.js';

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
    expect(state.counts).toEqual({ EMAIL: 1, PHONE: 4, CARD: 1, IBAN: 0, SSN: 0, IP: 0, SECRET: 0 });
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

/** The tokens `text` gets, as [kind, original] pairs in token order. */
function detected(text: string): Array<[string, string]> {
  const state = newRedactionState();
  redactText(text, state);
  return Object.entries(state.tokens).map(([token, original]) => [/^\[([A-Z]+)_/.exec(token)![1], original]);
}

describe('the detectors', () => {
  it.each([
    ['UK international', '+44 20 7946 0958', 'PHONE'],
    ['UK national landline', '020 7946 0958', 'PHONE'],
    ['UK national landline, area code in parentheses', '(020) 7946 0958', 'PHONE'],
    ['UK national mobile', '07700 900123', 'PHONE'],
    ['French national', '01 23 45 67 89', 'PHONE'],
    ['German national', '030 12345678', 'PHONE'],
    ['German national with a slash', '030/12345678', 'PHONE'],
    ['00 international prefix', '0044 20 7946 0123', 'PHONE'],
    ['North American', '(555) 123-4567', 'PHONE'],
    ['IBAN grouped by four', 'GB82 WEST 1234 5698 7654 32', 'IBAN'],
    ['IBAN compact', 'DE89370400440532013000', 'IBAN'],
    ['IBAN irregularly grouped', 'DE89 370400440532013000', 'IBAN'],
    ['SSN', '123-45-6789', 'SSN'],
    ['IPv4', '192.0.2.10', 'IP'],
    ['IPv6 compressed', '2001:db8::1', 'IP'],
    ['IPv6 full', '2001:0db8:0000:0000:0000:ff00:0042:8329', 'IP'],
    ['IPv4-mapped IPv6', '::ffff:192.0.2.128', 'IP'],
    ['Stripe live key', 'sk_live_FAKE0123456789abcdef', 'SECRET'],
    ['Stripe test key', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc', 'SECRET'],
    ['Stripe restricted key', 'rk_live_FAKE0123456789abcdef', 'SECRET'],
    ['Anthropic key', 'sk-ant-api03-FAKEexampleKey0123456789', 'SECRET'],
    ['GitHub classic token', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a', 'SECRET'],
    ['GitHub OAuth token', 'gho_FAKE0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q', 'SECRET'],
    ['GitHub fine-grained token', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnop', 'SECRET'],
    ['Slack bot token', 'xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy', 'SECRET'],
    ['Slack user token', 'xoxp-1234567890-0987654321-FAKEuserToken00', 'SECRET'],
    ['AWS access key id', 'AKIAIOSFODNN7EXAMPLE', 'SECRET'],
    ['Shopify token', 'shpat_0123456789abcdef0123456789abcdef', 'SECRET'],
    [
      'JWT',
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
      'SECRET',
    ],
  ] as const)('finds a %s as %s', (_name, value, kind) => {
    expect(detected(`before ${value} after`)).toEqual([[kind, kind === 'SECRET' ? expect.stringMatching(/^sha256:/) : value]]);
  });

  it('redacts the token after Bearer but keeps the scheme word', () => {
    expect(redactText('Authorization: Bearer 8f3b2c1d9e7a6b5c4d3e2f1a0b9c8d7e', newRedactionState())).toBe('Authorization: Bearer [SECRET_1]');
  });

  it.each([
    ['an order number that fails Luhn', 'order 7310045589102266'],
    ['an ISO timestamp and a clock time', '2025-04-02T07:07:13Z and 07:07:13'],
    ['dates', '2025-04-02, 02/04/2025, 31.03.2025'],
    ['versions', 'v2.3.1, 1.24.3, v1.2.3.4, version 1.2.3.4, firmware 10.0.0.1, Chrome/120.0.0.0'],
    ['a price and a percentage', '1,249.00 at 19%'],
    ['invoice, ticket and issue ids', 'INV-20931, ticket #48222, issue #31337'],
    ['a UUID', '550e8400-e29b-41d4-a716-446655440000'],
    ['a 40-hex commit SHA', '9fceb02d0ae598e95dc970b74767f19372d61af8'],
    ['a UPS tracking number', '1Z999AA10123456784'],
    ['ISBNs', '978-0-306-40615-7 and 0-306-40615-2'],
    ['a ZIP+4 code', '94107-1234'],
    ['Zendesk numeric ids', 'requester 10023000007717, brand 8447346621310'],
    ['HTTP status codes', 'HTTP 429 then 503'],
    ['SSNs in never-issued ranges', '000-12-3456, 666-12-3456, 987-65-4321, 123-00-4567, 123-45-0000'],
    ['an IBAN with a wrong check digit', 'GB82 WEST 1234 5698 7654 33'],
    ['loopback, unspecified and netmask addresses', '::1, 127.0.0.1, 0.0.0.0, 255.255.255.0'],
    ['a MAC address and a Ruby constant path', '00:1A:2B:3C:4D:5E ActiveRecord::Base Foo::Bar'],
    ['a Stripe publishable key', 'pk_test_TYooMQauvdEDq54NiTphI7jx'],
    ['Bearer in prose and as a placeholder', 'Bearer authentication uses Bearer <token> or Bearer YOUR_API_KEY'],
    ['a 3-3-4 SKU whose area code starts with 1', 'SKU 100-200-3000'],
  ])('leaves %s alone', (_name, text) => {
    expect(redactText(text, newRedactionState())).toBe(text);
  });

  it('checks IBANs, SSNs, IPv6 and Luhn by their published rules', () => {
    expect(ibanValid('GB82 WEST 1234 5698 7654 32')).toBe(true);
    expect(ibanValid('GB82 WEST 1234 5698 7654 3')).toBe(false); // length for GB is 22
    expect(ibanValid('XX82 WEST 1234 5698 7654 32')).toBe(false); // unknown country
    expect(ssnValid('123-45-6789')).toBe(true);
    expect(['000-12-3456', '666-12-3456', '900-12-3456', '123-00-4567', '123-45-0000'].some(ssnValid)).toBe(false);
    expect(ipv6Valid('2001:db8::1')).toBe(true);
    expect(ipv6Valid('2001:db8::1::2')).toBe(false);
    expect(luhnValid('4242424242424242')).toBe(true);
    expect(luhnValid('4242424242424241')).toBe(false);
  });

  it('runs the kinds in an order that settles overlaps', () => {
    // The IBAN's digit groups would pass as a card and a phone; the Slack token's digit runs as phones.
    const out = redactText('FR76 3000 6000 0112 3456 7890 189 / xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy', newRedactionState());
    expect(out).toBe('[IBAN_1] / [SECRET_1]');
  });
});

describe('SECRET tokens', () => {
  it('keep a fingerprint, never the credential, and give a repeat the same token', () => {
    const state = newRedactionState();
    const out = redactText('key sk_live_FAKE0123456789abcdef, again sk_live_FAKE0123456789abcdef', state);
    expect(out).toBe('key [SECRET_1], again [SECRET_1]');
    expect(JSON.stringify(state)).not.toContain('sk_live_FAKE0123456789abcdef');
  });

  it('are never restored, even when SECRET is asked for', () => {
    const state = newRedactionState();
    const out = redactText('mail ana@example.com with sk_live_FAKE0123456789abcdef', state);
    const tokens = { ...state.tokens, '[SECRET_1]': 'sk_live_FAKE0123456789abcdef' }; // even a vault that holds it
    expect(restoreTokens(out, tokens, PII_KINDS)).toBe('mail ana@example.com with [SECRET_1]');
  });
});

describe('restoreTokens kinds', () => {
  const state = newRedactionState();
  const out = redactText('ana@example.com 123-45-6789 192.0.2.1 GB82WEST12345698765432 4242424242424242 +44 20 7946 0958', state);

  it('restores every personal-data kind by default', () => {
    expect(restoreTokens(out, state.tokens)).toBe('ana@example.com 123-45-6789 192.0.2.1 GB82WEST12345698765432 4242424242424242 +44 20 7946 0958');
  });

  it('restores only the kinds an action names', () => {
    const kinds: PiiKind[] = ['EMAIL', 'PHONE'];
    expect(restoreTokens(out, state.tokens, kinds)).toBe('ana@example.com [SSN_1] [IP_1] [IBAN_1] [CARD_1] +44 20 7946 0958');
  });
});

describe('redactText on long adversarial input', () => {
  // Shapes that would make a backtracking regex quadratic or worse: long runs that almost match.
  const fill = (unit: string, size = 200_000) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

  it.each([
    ['digit groups', fill('1 ')],
    ['trunk-0 groups', fill('0 ')],
    ['plus and digits', '+' + fill('1')],
    ['dotted digits', fill('1.')],
    ['hex and colons', fill('ab:cd::')],
    ['IBAN prefixes', fill('GB82 ')],
    ['email local part without a domain', fill('a.') + '@'],
    ['email domain without a TLD', 'a@' + fill('a-')],
    ['Bearer without a token', fill('Bearer ')],
    ['assignments without values', fill('api_key=')],
    ['PEM header without a footer', fill('-----BEGIN RSA PRIVATE KEY-----\n')],
    ['JWT prefixes', fill('eyJa.eyJa.')],
  ])('finishes on 200 KB of %s and still finds the PII after it', (_name, noise) => {
    const text = `${noise} ana@example.com`;
    const out = redactText(text, newRedactionState());
    expect(out.endsWith(' [EMAIL_1]')).toBe(true);
    expect(out.length).toBeGreaterThan(150_000); // the noise itself was not swallowed into one token
  });
});
