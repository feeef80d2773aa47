import { z } from 'zod';
import { observed } from '../../core/contracts/observed.js';
import { isDisposableEmail, isFreightForwarder, sameAddress, sameRecipient } from './signals.js';

/**
 * Layer 1 contract for the Shopify `orders/create` webhook, Admin API version 2025-07, declared
 * field by field as Shopify sends the REST order resource (https://shopify.dev/docs/api/webhooks,
 * topic `orders/create`).
 *
 * - Strict where the integration reads amounts, ids, quantities and address shape: a money field
 *   that is not a decimal string ("1249.00") stops the event (DLQ), because every rule and every
 *   fact the model reads depends on it.
 * - Observed (`observed()`) where it only reads a descriptive value (financial status, source,
 *   customer state) or does not read at all: a change there is reported as drift with a pointer
 *   and never stops an order.
 * - Closed everywhere: an order field Shopify adds shows up as `unknown_field` drift the first day.
 *   `.loose()` marks subtrees the integration does not track (money bags it never reads,
 *   company, payment terms), whose inner fields are not drift.
 *
 * Since 2025-01 the customer embedded in webhooks no longer carries tags, marketing consent or
 * purchase totals (Shopify moved them to `customers/purchasing_summary` and other topics), so
 * "first order" is read from the age of the customer record instead.
 *
 * Personal data (names, street addresses, email, phone, browser IP) is read only here, to derive
 * facts (countries, "addresses are the same", "looks like a freight forwarder", "disposable email
 * domain"); the transform drops it, so it is never in the input, the audit log or the prompt.
 *
 * Bump the `#n` suffix on any change here so audit records say which contract an input was
 * checked against.
 */
export const CONTRACT_VERSION = 'shopify.orders.create/2025-07#1';

/** The webhook topic this contract describes. */
export const ORDERS_CREATE_TOPIC = 'orders/create';

/** Shopify's order financial statuses (REST `financial_status`). */
export const FINANCIAL_STATUSES = ['pending', 'authorized', 'partially_paid', 'paid', 'partially_refunded', 'refunded', 'voided', 'expired'] as const;

/** Shopify's customer account states. */
export const CUSTOMER_STATES = ['disabled', 'invited', 'enabled', 'declined'] as const;

/** A decimal amount as Shopify sends money: a string such as "1249.00" (up to 4 decimals). */
export const MoneyString = z.string().regex(/^\d{1,12}(?:\.\d{1,4})?$/, 'expected a decimal money string such as "1249.00"');

const CurrencyCode = z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 currency code such as "USD"');
const CountryCode = z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166 alpha-2 country code such as "US"');
const Timestamp = z.iso.datetime({ offset: true });

const Money = z.object({ amount: MoneyString, currency_code: CurrencyCode });
/** A Shopify money bag: the amount in the shop's currency and in the buyer's (presentment) currency. */
const MoneyBag = z.object({ shop_money: Money, presentment_money: Money });
/** A money bag the integration does not read: declared so it is not drift, never enforced. */
const moneyBag = (opts: { nullable?: boolean } = {}) => observed(opts.nullable ? MoneyBag.nullable() : MoneyBag);
/** A list the integration does not read; its items are a subtree it does not track. */
const untrackedList = () => observed(z.array(z.object({}).loose()));
const nullableString = z.string().nullable();
const nullableId = z.number().int().nullable();

/** A postal address. Read only to derive countries and comparisons; never passed on. */
const Address = z.object({
  first_name: nullableString,
  last_name: nullableString,
  name: nullableString,
  company: nullableString,
  address1: nullableString,
  address2: nullableString,
  city: nullableString,
  zip: nullableString,
  province_code: nullableString,
  country_code: CountryCode.nullable(),
  phone: observed(nullableString),
  province: observed(nullableString),
  country: observed(nullableString),
  latitude: observed(z.number().nullable()),
  longitude: observed(z.number().nullable()),
});
type Address = z.output<typeof Address>;

const Customer = z.object({
  id: z.number().int().positive(),
  email: nullableString,
  created_at: Timestamp.nullable(),
  state: observed(z.enum(CUSTOMER_STATES)),
  verified_email: observed(z.boolean()),
  updated_at: observed(Timestamp.nullable()),
  first_name: observed(nullableString),
  last_name: observed(nullableString),
  note: observed(nullableString),
  multipass_identifier: observed(nullableString),
  tax_exempt: observed(z.boolean()),
  phone: observed(nullableString),
  currency: observed(CurrencyCode),
  tax_exemptions: observed(z.array(z.string())),
  admin_graphql_api_id: observed(z.string()),
  default_address: observed(z.object({}).loose().nullable(), { optional: true }),
});

const ClientDetails = z.object({
  accept_language: nullableString,
  browser_ip: nullableString,
  user_agent: observed(nullableString),
  browser_height: observed(nullableId),
  browser_width: observed(nullableId),
  session_hash: observed(nullableString),
});

const LineItem = z.object({
  id: z.number().int().positive(),
  title: z.string(),
  variant_title: nullableString,
  quantity: z.number().int().positive(),
  price: MoneyString,
  gift_card: z.boolean(),
  requires_shipping: z.boolean(),
  admin_graphql_api_id: observed(z.string()),
  attributed_staffs: untrackedList(),
  current_quantity: observed(z.number().int()),
  fulfillable_quantity: observed(z.number().int()),
  fulfillment_service: observed(z.string()),
  fulfillment_status: observed(nullableString),
  grams: observed(z.number()),
  name: observed(z.string()),
  price_set: moneyBag(),
  product_exists: observed(z.boolean()),
  product_id: observed(nullableId),
  properties: untrackedList(),
  sales_line_item_group_id: observed(nullableId, { optional: true }),
  sku: observed(nullableString),
  taxable: observed(z.boolean()),
  total_discount: observed(MoneyString),
  total_discount_set: moneyBag(),
  variant_id: observed(nullableId),
  variant_inventory_management: observed(nullableString),
  vendor: observed(nullableString),
  tax_lines: untrackedList(),
  duties: untrackedList(),
  discount_allocations: untrackedList(),
});

const ShippingLine = z.object({
  title: z.string(),
  code: nullableString,
  price: MoneyString,
  id: observed(z.number().int()),
  carrier_identifier: observed(nullableString),
  current_discounted_price_set: moneyBag(),
  discounted_price: observed(MoneyString),
  discounted_price_set: moneyBag(),
  is_removed: observed(z.boolean()),
  phone: observed(nullableString),
  price_set: moneyBag(),
  requested_fulfillment_service_id: observed(nullableString),
  source: observed(z.string()),
  tax_lines: untrackedList(),
  discount_allocations: untrackedList(),
});

const DiscountCode = z.object({
  code: z.string(),
  amount: MoneyString,
  type: observed(z.enum(['fixed_amount', 'percentage', 'shipping'])),
});

/** Checkout attributes (`note_attributes`): free name/value pairs written by the storefront or apps. */
const NoteAttribute = z.object({
  name: z.string(),
  value: z.union([z.string(), z.number(), z.boolean(), z.null()]),
});

/** The raw `orders/create` body, checked but not yet trimmed. */
export const ShopifyOrderCreatedEvent = z
  .object({
    // Read by the integration: strict.
    id: z.number().int().positive(),
    admin_graphql_api_id: z.string().regex(/^gid:\/\/shopify\/Order\/\d+$/, 'expected gid://shopify/Order/<id>'),
    name: z.string().min(1),
    created_at: Timestamp,
    currency: CurrencyCode,
    presentment_currency: CurrencyCode,
    total_price: MoneyString,
    subtotal_price: MoneyString,
    total_discounts: MoneyString,
    total_tax: MoneyString,
    total_price_set: MoneyBag,
    total_shipping_price_set: MoneyBag,
    payment_gateway_names: z.array(z.string()),
    test: z.boolean(),
    note: nullableString,
    note_attributes: z.array(NoteAttribute),
    tags: z.string(),
    discount_codes: z.array(DiscountCode),
    email: nullableString,
    contact_email: nullableString,
    customer: Customer.nullable(),
    billing_address: Address.nullable(),
    shipping_address: Address.nullable(),
    client_details: ClientDetails.nullable(),
    line_items: z.array(LineItem).min(1),
    shipping_lines: z.array(ShippingLine),
    // Read as descriptive facts only: observed, read defensively.
    financial_status: observed(z.enum(FINANCIAL_STATUSES).nullable()),
    source_name: observed(z.string()),
    // Not read: observed for drift, never enforced.
    app_id: observed(nullableId),
    browser_ip: observed(nullableString),
    buyer_accepts_marketing: observed(z.boolean()),
    cancel_reason: observed(nullableString),
    cancelled_at: observed(Timestamp.nullable()),
    cart_token: observed(nullableString),
    checkout_id: observed(nullableId),
    checkout_token: observed(nullableString),
    closed_at: observed(Timestamp.nullable()),
    company: observed(z.object({}).loose().nullable()),
    confirmation_number: observed(nullableString),
    confirmed: observed(z.boolean()),
    current_shipping_price_set: moneyBag(),
    current_subtotal_price: observed(MoneyString),
    current_subtotal_price_set: moneyBag(),
    current_total_additional_fees_set: moneyBag({ nullable: true }),
    current_total_discounts: observed(MoneyString),
    current_total_discounts_set: moneyBag(),
    current_total_duties_set: moneyBag({ nullable: true }),
    current_total_price: observed(MoneyString),
    current_total_price_set: moneyBag(),
    current_total_tax: observed(MoneyString),
    current_total_tax_set: moneyBag(),
    customer_locale: observed(nullableString),
    device_id: observed(nullableId),
    duties_included: observed(z.boolean()),
    estimated_taxes: observed(z.boolean()),
    fulfillment_status: observed(nullableString),
    landing_site: observed(nullableString),
    landing_site_ref: observed(nullableString),
    location_id: observed(nullableId),
    merchant_business_entity_id: observed(z.string()),
    merchant_of_record_app_id: observed(nullableId),
    number: observed(z.number().int()),
    order_number: observed(z.number().int()),
    order_status_url: observed(z.string()),
    original_total_additional_fees_set: moneyBag({ nullable: true }),
    original_total_duties_set: moneyBag({ nullable: true }),
    phone: observed(nullableString),
    po_number: observed(nullableString),
    processed_at: observed(Timestamp),
    reference: observed(nullableString),
    referring_site: observed(nullableString),
    source_identifier: observed(nullableString),
    source_url: observed(nullableString),
    subtotal_price_set: moneyBag(),
    tax_exempt: observed(z.boolean()),
    tax_lines: untrackedList(),
    taxes_included: observed(z.boolean()),
    token: observed(z.string()),
    total_cash_rounding_payment_adjustment_set: moneyBag(),
    total_cash_rounding_refund_adjustment_set: moneyBag(),
    total_discounts_set: moneyBag(),
    total_line_items_price: observed(MoneyString),
    total_line_items_price_set: moneyBag(),
    total_outstanding: observed(MoneyString),
    total_tax_set: moneyBag(),
    total_tip_received: observed(MoneyString),
    total_weight: observed(z.number()),
    updated_at: observed(Timestamp),
    user_id: observed(nullableId),
    discount_applications: untrackedList(),
    fulfillments: untrackedList(),
    payment_terms: observed(z.object({}).loose().nullable()),
    refunds: untrackedList(),
    returns: untrackedList(),
    line_item_groups: untrackedList(),
  })
  .superRefine((body, ctx) => {
    if (body.admin_graphql_api_id !== `gid://shopify/Order/${body.id}`) {
      ctx.addIssue({ code: 'custom', path: ['admin_graphql_api_id'], message: 'the order gid does not name the order in /id' });
    }
    if (body.total_price_set.shop_money.currency_code !== body.currency) {
      ctx.addIssue({ code: 'custom', path: ['total_price_set', 'shop_money', 'currency_code'], message: 'shop money is not in the shop currency (/currency)' });
    }
  });
export type ShopifyOrderCreatedEvent = z.input<typeof ShopifyOrderCreatedEvent>;

/** What the integration keeps of an address: its country. No street, no name, no postcode. */
export interface AddressFacts {
  countryCode: string | null;
  /** Whether the street lines or company name look like a parcel forwarder's warehouse. */
  freightForwarder: boolean;
}

/**
 * The trimmed input the rest of the pipeline uses. It holds no personal data except what the
 * customer or staff typed as free text (`note`, `noteAttributes`, `tags`, titles), which is
 * redacted before anything else reads it.
 */
export interface OrderInput {
  orderId: number;
  /** `gid://shopify/Order/<id>`, what the Admin GraphQL API (and the tag connector) takes. */
  orderGid: string;
  /** The order's display name, e.g. `#1001`. */
  name: string;
  createdAt: string;
  /** `web`, `pos`, `shopify_draft_order`, a channel app's id… as Shopify reports it. */
  sourceName: string;
  test: boolean;
  /** The shop's currency; every amount below is in it, as the exact string Shopify sent. */
  currency: string;
  totals: { total: string; subtotal: string; shipping: string; discounts: string; tax: string };
  /** The buyer's currency and the total in it (equal to the shop's when they did not convert). */
  presentment: { currency: string; total: string };
  /** `paid`, `pending`… or `unknown` when Shopify sent something else. */
  financialStatus: string;
  gateways: string[];
  lineItems: Array<{ title: string; variantTitle: string | null; quantity: number; price: string; giftCard: boolean; requiresShipping: boolean }>;
  shippingLines: Array<{ title: string; code: string | null; price: string }>;
  discountCodes: Array<{ code: string; amount: string }>;
  /** The customer's note at checkout ('' when none). Redacted. */
  note: string;
  /** Checkout attributes. Redacted. */
  noteAttributes: Array<{ name: string; value: string }>;
  /** Order tags present at creation. Redacted. */
  tags: string[];
  /** The customer record, reduced to what risk depends on; null when the order has none. */
  customer: null | { id: number; createdAt: string | null; state: string; verifiedEmail: boolean };
  /** Whether an email was given and whether its domain is a throwaway one; the address is dropped. */
  email: { given: boolean; disposable: boolean };
  billing: AddressFacts | null;
  shipping: AddressFacts | null;
  /** Same street, city, postcode and country on both; null when either address is missing. */
  addressesMatch: boolean | null;
  /** Whether the shipping recipient's name differs from the billing name; null when unknown. */
  recipientDiffers: boolean | null;
  /** Browser facts from the checkout; null when the order did not come through one. */
  client: null | { acceptLanguage: string | null; browserIpRecorded: boolean };
}

function addressFacts(a: Address | null): AddressFacts | null {
  if (!a) return null;
  return { countryCode: a.country_code, freightForwarder: isFreightForwarder([a.company, a.address1, a.address2]) };
}

const FINANCIAL = new Set<string>(FINANCIAL_STATUSES);
const STATES = new Set<string>(CUSTOMER_STATES);

/** Contract schema: parses a raw body into an {@link OrderInput}, or fails with issue paths. */
export const OrderCreatedContract = ShopifyOrderCreatedEvent.transform((body): OrderInput => {
  const email = body.customer?.email || body.email || body.contact_email || null;
  const streets = (a: Address) => ({ lines: [a.address1, a.address2], city: a.city, zip: a.zip, country: a.country_code });
  const names = (a: Address) => a.name ?? [a.first_name, a.last_name].filter(Boolean).join(' ');
  return {
    orderId: body.id,
    orderGid: body.admin_graphql_api_id,
    name: body.name,
    createdAt: body.created_at,
    sourceName: typeof body.source_name === 'string' && body.source_name ? body.source_name : 'unknown',
    test: body.test,
    currency: body.currency,
    totals: {
      total: body.total_price,
      subtotal: body.subtotal_price,
      shipping: body.total_shipping_price_set.shop_money.amount,
      discounts: body.total_discounts,
      tax: body.total_tax,
    },
    presentment: { currency: body.presentment_currency, total: body.total_price_set.presentment_money.amount },
    financialStatus: typeof body.financial_status === 'string' && FINANCIAL.has(body.financial_status) ? body.financial_status : 'unknown',
    gateways: body.payment_gateway_names,
    lineItems: body.line_items.map((li) => ({
      title: li.title, variantTitle: li.variant_title, quantity: li.quantity, price: li.price, giftCard: li.gift_card, requiresShipping: li.requires_shipping,
    })),
    shippingLines: body.shipping_lines.map((s) => ({ title: s.title, code: s.code, price: s.price })),
    discountCodes: body.discount_codes.map((d) => ({ code: d.code, amount: d.amount })),
    note: body.note ?? '',
    noteAttributes: body.note_attributes.map((a) => ({ name: a.name, value: a.value === null ? '' : String(a.value) })),
    tags: body.tags.split(',').map((t) => t.trim()).filter((t) => t.length > 0),
    customer: body.customer
      ? {
          id: body.customer.id,
          createdAt: body.customer.created_at,
          state: typeof body.customer.state === 'string' && STATES.has(body.customer.state) ? body.customer.state : 'unknown',
          verifiedEmail: body.customer.verified_email === true,
        }
      : null,
    email: { given: Boolean(email), disposable: email ? isDisposableEmail(email) : false },
    billing: addressFacts(body.billing_address),
    shipping: addressFacts(body.shipping_address),
    addressesMatch: body.billing_address && body.shipping_address ? sameAddress(streets(body.billing_address), streets(body.shipping_address)) : null,
    recipientDiffers: body.billing_address && body.shipping_address ? !sameRecipient(names(body.billing_address), names(body.shipping_address)) : null,
    client: body.client_details
      ? { acceptLanguage: body.client_details.accept_language, browserIpRecorded: Boolean(body.client_details.browser_ip || body.browser_ip) }
      : null,
  };
});
