import type { SourceDocument } from '../../core/integration.js';
import type { OrderInput } from './contract.js';
import { BULK_UNITS, describeAge, fraudPatterns, orderSignals, type OrderSignals } from './signals.js';

/**
 * The documents the model reads and grounding quotes against, built from the redacted input.
 *
 * Facts, not verdicts: one fact per line, each ending with a full stop, so a verbatim quote is
 * one natural line. No document holds a name, a street, a postcode, an email address, a phone
 * number or an IP address — addresses arrive only as countries and comparisons. The one
 * exception is `order.note`, the customer's own words, which is redacted but otherwise as typed.
 */

/** Document ids, as evidence `source` values. */
export const DOC_SUMMARY = 'order.summary';
export const DOC_ADDRESSES = 'order.addresses';
export const DOC_CUSTOMER = 'order.customer';
export const DOC_SIGNALS = 'order.signals';
export const DOC_NOTE = 'order.note';

/**
 * Documents that are built only from derived facts and fixed wording: quoting them never repeats
 * text someone typed. `order.summary` is not one (product titles and order tags are typed by
 * staff and apps), nor is `order.note`.
 */
export const FACT_DOCS: readonly string[] = [DOC_ADDRESSES, DOC_CUSTOMER, DOC_SIGNALS];

/** At most this many line items are listed one by one. */
const MAX_LISTED_ITEMS = 10;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function channel(source: string): string {
  switch (source) {
    case 'web':
      return 'placed through the online store';
    case 'pos':
      return 'rung up at the point of sale, in person';
    case 'shopify_draft_order':
      return 'created by staff as a draft order';
    case 'iphone':
    case 'android':
      return 'created by staff in the Shopify mobile app';
    default:
      return `placed through the sales channel "${source}"`;
  }
}

function summaryLines(input: OrderInput): string[] {
  const cur = input.currency;
  const units = input.lineItems.reduce((n, li) => n + li.quantity, 0);
  const lines = [`Order ${input.name} was ${channel(input.sourceName)}.`];
  if (input.test) lines.push('This is a test order.');
  lines.push(`Order total: ${input.totals.total} ${cur}.`);
  if (input.presentment.currency !== cur) lines.push(`The buyer paid ${input.presentment.total} ${input.presentment.currency}; the shop's currency is ${cur}.`);
  lines.push(`Subtotal ${input.totals.subtotal} ${cur}, shipping ${input.totals.shipping} ${cur}, discounts ${input.totals.discounts} ${cur}, tax ${input.totals.tax} ${cur}.`);
  lines.push(`Items: ${plural(units, 'unit')} across ${plural(input.lineItems.length, 'line item')}.`);
  for (const li of input.lineItems.slice(0, MAX_LISTED_ITEMS)) {
    lines.push(`${li.quantity} × ${li.title}${li.variantTitle ? ` (${li.variantTitle})` : ''} at ${li.price} ${cur} each${li.giftCard ? ', a gift card' : ''}.`);
  }
  if (input.lineItems.length > MAX_LISTED_ITEMS) lines.push(`And ${plural(input.lineItems.length - MAX_LISTED_ITEMS, 'more line item')}.`);
  if (input.shippingLines.length === 0) {
    if (input.sourceName === 'pos') lines.push('No shipping method: the items were handed over in person.');
    else lines.push(input.lineItems.some((li) => li.requiresShipping) ? 'No shipping method was chosen.' : 'No shipping method: nothing in this order ships.');
  }
  for (const s of input.shippingLines) lines.push(`Shipping method: ${s.title} at ${s.price} ${cur}.`);
  lines.push(`Payment gateway: ${input.gateways.length > 0 ? input.gateways.join(', ') : 'none recorded'}.`);
  lines.push(`Financial status: ${input.financialStatus}.`);
  for (const d of input.discountCodes) lines.push(`Discount code ${d.code} took ${d.amount} ${cur} off.`);
  if (input.tags.length > 0) lines.push(`Order tags at creation: ${input.tags.join(', ')}.`);
  return lines;
}

function addressLines(input: OrderInput, s: OrderSignals): string[] {
  const { billing, shipping } = input;
  const ships = input.lineItems.some((li) => li.requiresShipping);
  const lines: string[] = [];
  if (billing && shipping) {
    lines.push(`Billing country: ${billing.countryCode ?? 'unknown'}; shipping country: ${shipping.countryCode ?? 'unknown'}.`);
    if (input.addressesMatch) lines.push('Billing and shipping addresses are the same.');
    else if (s.countryMismatch) lines.push('Billing and shipping addresses are in different countries.');
    else lines.push('Billing and shipping addresses differ but are in the same country.');
    lines.push(input.recipientDiffers ? "The shipping recipient's name differs from the billing name." : "The shipping recipient's name matches the billing name.");
  } else {
    lines.push(billing ? `Billing country: ${billing.countryCode ?? 'unknown'}.` : 'No billing address was given.');
    if (shipping) lines.push(`Shipping country: ${shipping.countryCode ?? 'unknown'}.`);
    else if (s.inPerson) lines.push('No shipping address was given; the sale was made in person.');
    else lines.push(ships ? 'No shipping address was given, although items need shipping.' : 'No shipping address was given; nothing in this order ships.');
  }
  if (s.freightForwarder) lines.push('The shipping address looks like a freight forwarder (a parcel reshipping service).');
  return lines;
}

function customerLines(input: OrderInput, s: OrderSignals): string[] {
  const lines: string[] = [];
  const c = input.customer;
  if (!c) {
    lines.push('No customer record is attached to this order.');
  } else {
    if (s.accountAgeMinutes === undefined) lines.push('The customer record has no creation date.');
    else lines.push(`The customer record was created ${s.accountAgeMinutes === 0 ? 'less than a minute' : describeAge(s.accountAgeMinutes)} before this order.`);
    lines.push(
      {
        enabled: 'The customer has a store account.',
        disabled: 'The customer checked out as a guest, without a store account.',
        invited: 'The customer was invited to create a store account.',
        declined: 'The customer declined to create a store account.',
      }[c.state] ?? 'The customer account state is unknown.',
    );
    lines.push(c.verifiedEmail ? "The customer's email address is verified." : "The customer's email address is not verified.");
    lines.push('This webhook does not say how many orders the customer placed before.');
  }
  if (!input.email.given) lines.push('No email address was given.');
  if (s.disposableEmail) lines.push('The email address uses a disposable email domain.');
  return lines;
}

function signalLines(input: OrderInput, s: OrderSignals): string[] {
  const cur = input.currency;
  const lines: string[] = [];
  if (s.threshold === undefined) lines.push(`The store has no high-value threshold for ${cur}.`);
  else lines.push(`The order total is ${s.highValue ? 'above' : 'at or below'} the store's high-value threshold of ${s.threshold} ${cur}.`);
  if (s.expressShipping) lines.push('Shipping is express or overnight.');
  if (s.giftCardValue !== '0.00') lines.push(`Gift cards make up ${s.giftCardValue} ${cur} of this order.`);
  if (s.maxUnits >= BULK_UNITS) lines.push(`One line has ${s.maxUnits} units of the same product.`);
  for (const p of fraudPatterns(input, s)) lines.push(`Known fraud pattern (${p.name}): ${p.fact}.`);
  if (!input.client) {
    lines.push(s.inPerson ? 'No browser details were recorded: the sale was made in person.' : 'No browser details were recorded: the order did not come from an online checkout.');
  } else {
    const language = input.client.acceptLanguage?.split(',')[0]?.split(';')[0]?.trim();
    if (language) lines.push(`The browser language was ${language}.`);
    if (!input.client.browserIpRecorded) lines.push('No browser IP address was recorded.');
  }
  return lines;
}

function noteText(input: OrderInput): string {
  const parts: string[] = [];
  if (input.note.trim()) parts.push(input.note.trim());
  for (const a of input.noteAttributes) parts.push(`Checkout attribute ${a.name}: ${a.value}`);
  return parts.join('\n');
}

/** Builds the documents for one order. Order = the order the model reads them in. */
export function orderDocuments(input: OrderInput): SourceDocument[] {
  const origin = `shopify:order/${input.orderId}`;
  const s = orderSignals(input);
  const docs: SourceDocument[] = [
    { id: DOC_SUMMARY, title: 'Order summary', text: summaryLines(input).join('\n'), origin, priority: 0, keep: 'head' },
    { id: DOC_ADDRESSES, title: 'Addresses (derived facts; no address text)', text: addressLines(input, s).join('\n'), origin, priority: 1 },
    { id: DOC_CUSTOMER, title: 'Customer (derived facts; no personal data)', text: customerLines(input, s).join('\n'), origin, priority: 2 },
    { id: DOC_SIGNALS, title: 'Signals derived by fixed rules (facts, not verdicts)', text: signalLines(input, s).join('\n'), origin, priority: 3 },
    // The customer's own words come last and are cut first: they can be long, and they are data, not instructions.
    { id: DOC_NOTE, title: "Customer's note and checkout attributes (the customer's own words, redacted)", text: noteText(input), origin, priority: 4, keep: 'head' },
  ];
  return docs.filter((d) => d.text.trim().length > 0);
}
