import { ConnectorRejected, ConnectorUnavailable } from '../core/errors.js';
import { callConnector } from './http.js';

/** The Admin API version every request pins (part of the URL). */
export const SHOPIFY_API_VERSION = '2025-07';

/** Shopify credentials: an Admin API access token with `write_orders`. */
export interface ShopifyCredentials {
  accessToken: string;
}

/** Parameters of `shopify.add_order_tags`. */
export interface ShopifyAddOrderTagsParams {
  /** The order's global id, `gid://shopify/Order/<id>`. */
  orderGid: string;
  tags: string[];
}

/** The mutation `shopify.add_order_tags` sends; `tagsAdd` keeps the order's existing tags. */
export const TAGS_ADD_MUTATION = `mutation tagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}`;

/** Options of one Shopify call. */
export interface ShopifyCallOptions {
  /** @default CONNECTOR_TIMEOUT_MS */
  timeoutMs?: number;
}

/** A Shopify tag holds at most 255 characters. */
export const SHOPIFY_TAG_MAX = 255;

interface GraphQlAnswer {
  data?: { tagsAdd?: { node?: { id?: string } | null; userErrors?: Array<{ field?: string[] | null; message?: string }> } | null } | null;
  errors?: Array<{ message?: string; extensions?: { code?: string } }> | string;
}

/**
 * Adds tags to an order through the Admin GraphQL API (`POST {shop}/admin/api/2025-07/graphql.json`,
 * `X-Shopify-Access-Token`). GraphQL reports most failures with HTTP 200: `THROTTLED` (the
 * cost-based rate limit) is retryable; `userErrors` and other errors are rejections.
 *
 * Exactly once by nature: `tagsAdd` adds to the order's tag set, so a re-run after a commit
 * changes nothing (and `tagsAdd` takes no idempotency key).
 */
export async function addShopifyOrderTags(
  shopUrl: string, creds: ShopifyCredentials, params: ShopifyAddOrderTagsParams, opts: ShopifyCallOptions = {},
): Promise<Record<string, unknown>> {
  if (typeof params.orderGid !== 'string' || !params.orderGid.startsWith('gid://shopify/Order/')) {
    throw new ConnectorRejected(`"${params.orderGid}" is not an order global id (gid://shopify/Order/<id>).`);
  }
  const tags = params.tags;
  if (!Array.isArray(tags) || tags.length === 0 || tags.some((t) => typeof t !== 'string' || t.trim() === '' || t.length > SHOPIFY_TAG_MAX)) {
    throw new ConnectorRejected(`shopify.add_order_tags needs a non-empty list of tags of 1 to ${SHOPIFY_TAG_MAX} characters.`);
  }
  const res = await callConnector('shopify', `${shopUrl.replace(/\/$/, '')}/admin/api/${SHOPIFY_API_VERSION}/graphql.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-shopify-access-token': creds.accessToken },
    body: JSON.stringify({ query: TAGS_ADD_MUTATION, variables: { id: params.orderGid, tags } }),
  }, { timeoutMs: opts.timeoutMs });

  let answer: GraphQlAnswer;
  try {
    answer = JSON.parse(res.body) as GraphQlAnswer;
  } catch (err) {
    throw new ConnectorUnavailable(`shopify answered ${res.status} with a body that is not JSON; will retry.`, { cause: err, detail: { status: res.status } });
  }
  const errors = typeof answer.errors === 'string' ? [{ message: answer.errors }] : (answer.errors ?? []);
  if (errors.some((e) => e.extensions?.code === 'THROTTLED')) {
    throw new ConnectorUnavailable('shopify throttled the request (GraphQL cost limit); will retry.', { detail: { status: res.status, code: 'THROTTLED' } });
  }
  if (errors.length > 0) {
    throw new ConnectorRejected(`shopify refused tagsAdd: ${errors.map((e) => e.message ?? e.extensions?.code ?? 'error').join('; ').slice(0, 200)}`, { detail: { status: res.status } });
  }
  const result = answer.data?.tagsAdd;
  const userErrors = result?.userErrors ?? [];
  if (userErrors.length > 0) {
    const first = userErrors.map((e) => `${(e.field ?? []).join('.') || 'input'}: ${e.message ?? 'invalid'}`).join('; ');
    throw new ConnectorRejected(`shopify refused tagsAdd on ${params.orderGid}: ${first.slice(0, 200)}`, { detail: { status: res.status, userErrors } });
  }
  if (!result?.node?.id) throw new ConnectorRejected(`shopify answered tagsAdd on ${params.orderGid} without the order.`, { detail: { status: res.status } });
  return { status: res.status, orderGid: result.node.id, tags };
}
