import type { OrderInput } from './contract.js';

/**
 * Order-risk facts derived by fixed rules, shared by the documents the model reads and by the
 * baseline. Pure and deterministic. Everything here reads the order as the contract reduced it:
 * personal data is only touched by the comparison helpers the contract calls while parsing.
 */

/**
 * The store's high-value thresholds, in whole units of the shop currency. An order above it is
 * "high value" for the review rules. A currency not listed has no threshold (never high value).
 */
export const HIGH_VALUE_THRESHOLDS: Readonly<Record<string, string>> = {
  USD: '500.00', EUR: '500.00', GBP: '400.00', CAD: '700.00', AUD: '750.00', NZD: '800.00', CHF: '500.00', JPY: '75000',
};

/** A customer record younger than this (relative to the order) is a new account. */
export const NEW_ACCOUNT_HOURS = 24;

/** One line with at least this many units of the same product counts as a bulk quantity. */
export const BULK_UNITS = 5;

/** Domains of throwaway inboxes, as seen in card-testing and reshipping fraud. Lower case. */
export const DISPOSABLE_EMAIL_DOMAINS: readonly string[] = [
  'mailinator.com', 'guerrillamail.com', 'guerrillamail.net', 'sharklasers.com', 'grr.la', '10minutemail.com', 'temp-mail.org',
  'tempmail.dev', 'yopmail.com', 'trashmail.com', 'getnada.com', 'maildrop.cc', 'dispostable.com', 'throwawaymail.com',
  'fakeinbox.com', 'mintemail.com', 'emailondeck.com', 'tempmailo.com', 'burnermail.io', 'mohmal.com',
];

/** Names and phrases of parcel forwarders and reshippers, matched as whole words in street lines and company. */
export const FREIGHT_FORWARDER_PATTERNS: readonly RegExp[] = [
  /\bmyus\b/i, /\bshipito\b/i, /\bplanet express\b/i, /\bstackry\b/i, /\bforward2me\b/i, /\bborderlinx\b/i, /\busgobuy\b/i,
  /\bbongo\b/i, /\bship7\b/i, /\bshop\s*(?:and|&)\s*ship\b/i, /\bviabox\b/i, /\bcomgateway\b/i, /\bpackage forwarding\b/i,
  /\bparcel forwarding\b/i, /\bfreight forward(?:er|ing)\b/i, /\breship(?:per|ping)\b/i,
];

/** Shipping line titles or codes that mean paying for speed. */
export const EXPRESS_SHIPPING = /\b(?:express|overnight|next[ -]day|same[ -]day|expedited|priority|2[ -]day|two[ -]day)\b/i;

/** Whether an email address uses a throwaway domain (subdomains included). */
export function isDisposableEmail(email: string): boolean {
  const domain = email.trim().toLowerCase().split('@').pop() ?? '';
  return DISPOSABLE_EMAIL_DOMAINS.some((d) => domain === d || domain.endsWith(`.${d}`));
}

/** Whether any of the given address parts names a parcel forwarder. */
export function isFreightForwarder(parts: Array<string | null | undefined>): boolean {
  const text = parts.filter((p): p is string => typeof p === 'string').join(' ');
  return FREIGHT_FORWARDER_PATTERNS.some((re) => re.test(text));
}

const norm = (s: string | null | undefined) => (s ?? '').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();

/** Same street lines, city, postcode and country, ignoring case and punctuation. */
export function sameAddress(
  a: { lines: Array<string | null>; city: string | null; zip: string | null; country: string | null },
  b: { lines: Array<string | null>; city: string | null; zip: string | null; country: string | null },
): boolean {
  const key = (x: typeof a) => [norm(x.lines.filter(Boolean).join(' ')), norm(x.city), norm(x.zip).replace(/ /g, ''), norm(x.country)].join('|');
  return key(a) === key(b);
}

/** Same person's name on both addresses, ignoring case, punctuation and word order. */
export function sameRecipient(a: string, b: string): boolean {
  const words = (s: string) => norm(s).split(' ').filter(Boolean).sort().join(' ');
  return words(a) === words(b);
}

/**
 * A money string as an integer number of ten-thousandths, so comparisons never go through
 * binary floating point ("0.10" + "0.20" is exactly "0.30"). Throws on anything that is not a
 * plain decimal: the contract has already refused those.
 */
export function moneyUnits(amount: string): number {
  const m = /^(\d{1,12})(?:\.(\d{1,4}))?$/.exec(amount);
  if (!m) throw new Error(`not a money string: ${JSON.stringify(amount)}`);
  return Number(m[1]) * 10_000 + Number((m[2] ?? '').padEnd(4, '0'));
}

/** Formats ten-thousandths as a two-decimal money string ("400.00"). */
function formatUnits(units: number): string {
  const cents = Math.round(units / 100);
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** Sums money strings exactly; the result keeps two decimals ("400.00"). */
export function sumMoney(amounts: string[]): string {
  return formatUnits(amounts.reduce((n, a) => n + moneyUnits(a), 0));
}

/** Multiplies a money string by a whole quantity ("100.00" × 3 = "300.00"). */
export function timesMoney(amount: string, quantity: number): string {
  return formatUnits(moneyUnits(amount) * quantity);
}

/** The age of the customer record when the order was placed, or undefined when unknown. */
export function accountAgeMinutes(input: OrderInput): number | undefined {
  if (!input.customer?.createdAt) return undefined;
  const minutes = (Date.parse(input.createdAt) - Date.parse(input.customer.createdAt)) / 60_000;
  return Number.isFinite(minutes) ? Math.max(0, Math.floor(minutes)) : undefined;
}

/** "3 minutes", "5 hours", "812 days": the coarsest unit that keeps a whole number meaningful. */
export function describeAge(minutes: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (minutes < 60) return plural(minutes, 'minute');
  if (minutes < NEW_ACCOUNT_HOURS * 60) return plural(Math.floor(minutes / 60), 'hour');
  return plural(Math.floor(minutes / (24 * 60)), 'day');
}

/** Everything the rules and the documents need to know, derived once. */
export interface OrderSignals {
  /** Total above the store's threshold for the shop currency. */
  highValue: boolean;
  threshold?: string;
  /** Customer record younger than {@link NEW_ACCOUNT_HOURS}. */
  newAccount: boolean;
  /** Customer record at least {@link NEW_ACCOUNT_HOURS} old. */
  establishedAccount: boolean;
  accountAgeMinutes?: number;
  noCustomer: boolean;
  emailVerified: boolean;
  disposableEmail: boolean;
  /** Billing and shipping addresses both present and different. */
  addressMismatch: boolean;
  /** Billing and shipping countries both known and different. */
  countryMismatch: boolean;
  freightForwarder: boolean;
  recipientDiffers: boolean;
  expressShipping: boolean;
  /** Total value of gift cards bought, "0.00" when none. */
  giftCardValue: string;
  /** Largest number of units of one product on one line. */
  maxUnits: number;
  /** Nothing ships and nothing identifies the buyer: no customer, no billing, no shipping address. */
  nothingToAssess: boolean;
  paymentPending: boolean;
  inPerson: boolean;
}

/** Derives the signals of one order. */
export function orderSignals(input: OrderInput): OrderSignals {
  const threshold = HIGH_VALUE_THRESHOLDS[input.currency];
  const age = accountAgeMinutes(input);
  const giftCards = input.lineItems.filter((li) => li.giftCard).map((li) => timesMoney(li.price, li.quantity));
  const countries = [input.billing?.countryCode, input.shipping?.countryCode];
  return {
    highValue: threshold !== undefined && moneyUnits(input.totals.total) > moneyUnits(threshold),
    threshold,
    newAccount: age !== undefined && age < NEW_ACCOUNT_HOURS * 60,
    establishedAccount: age !== undefined && age >= NEW_ACCOUNT_HOURS * 60,
    accountAgeMinutes: age,
    noCustomer: input.customer === null,
    emailVerified: input.customer?.verifiedEmail === true,
    disposableEmail: input.email.disposable,
    addressMismatch: input.addressesMatch === false,
    countryMismatch: Boolean(countries[0] && countries[1] && countries[0] !== countries[1]),
    freightForwarder: Boolean(input.shipping?.freightForwarder),
    recipientDiffers: input.recipientDiffers === true,
    expressShipping: input.shippingLines.some((s) => EXPRESS_SHIPPING.test(`${s.title} ${s.code ?? ''}`)),
    giftCardValue: sumMoney(giftCards),
    maxUnits: Math.max(0, ...input.lineItems.map((li) => li.quantity)),
    nothingToAssess: input.customer === null && input.billing === null && input.shipping === null && !isInPerson(input),
    paymentPending: input.financialStatus === 'pending',
    inPerson: isInPerson(input),
  };
}

/** A known fraud pattern: a combination of signals that fraud teams cancel on unless they know better. */
export interface FraudPattern {
  /** Short name, used as the pattern's label in the documents. */
  name: 'reshipping fraud' | 'throwaway-account fraud' | 'gift-card cash-out';
  /** The fact, as one sentence (no full stop). */
  fact: string;
}

/**
 * The known fraud patterns an order matches, in a fixed order. Shared by the documents (as facts
 * the model weighs) and the baseline (as its cancel rules), so both read the same definitions.
 */
export function fraudPatterns(input: OrderInput, s: OrderSignals = orderSignals(input)): FraudPattern[] {
  const out: FraudPattern[] = [];
  if (s.newAccount && s.freightForwarder && s.highValue) {
    out.push({ name: 'reshipping fraud', fact: 'a customer record under a day old sends a high-value order to a parcel-forwarder address' });
  }
  if (s.newAccount && s.disposableEmail && (s.giftCardValue !== '0.00' || s.freightForwarder || s.highValue)) {
    out.push({ name: 'throwaway-account fraud', fact: 'a customer record under a day old with a throwaway email buys gift cards, ships to a forwarder or spends a high value' });
  }
  if (s.newAccount && s.highValue && s.giftCardValue !== '0.00' && 2 * moneyUnits(s.giftCardValue) >= moneyUnits(input.totals.subtotal)) {
    out.push({ name: 'gift-card cash-out', fact: 'a customer record under a day old spends a high value, at least half of it on gift cards' });
  }
  return out;
}

function isInPerson(input: OrderInput): boolean {
  return input.sourceName === 'pos';
}
