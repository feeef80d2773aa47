import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Fixture, IntegrationDefinition } from '../../lambdas/core/integration.js';
import { signRequest } from '../../lambdas/core/signature/index.js';

/** Loads an integration's fixtures, sorted by file name, with a clear error for a malformed one. */
export function loadFixtures(def: IntegrationDefinition): Fixture[] {
  return readdirSync(def.fixturesDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const path = join(def.fixturesDir, f);
      const fx = JSON.parse(readFileSync(path, 'utf8')) as Fixture;
      if (typeof fx.body !== 'string' || !fx.expect || !['valid', 'bad', 'stale', 'none'].includes(fx.signature)) {
        throw new Error(`Fixture ${path} is not a Fixture (needs body string, signature valid|bad|stale|none, expect).`);
      }
      if (fx.headers !== undefined && (typeof fx.headers !== 'object' || Object.entries(fx.headers).some(([k, v]) => k !== k.toLowerCase() || typeof v !== 'string'))) {
        throw new Error(`Fixture ${path} has headers that are not lower-case names with string values.`);
      }
      return fx;
    });
}

/**
 * The headers a vendor would send with this body under the integration's signature scheme, plus
 * the vendor's other headers (`x-github-event`, `x-shopify-topic`…). `bad` signs with a wrong
 * secret, `stale` with a timestamp an hour old (schemes that sign one), `none` not at all.
 * `url` is the URL the request goes to (HubSpot signs it).
 */
export function vendorHeaders(
  def: IntegrationDefinition, body: string, secret: string, mode: Fixture['signature'] = 'valid', now = new Date(),
  extra: { url?: string; headers?: Record<string, string> } = {},
): Record<string, string> {
  return {
    'content-type': 'application/json',
    ...extra.headers,
    ...signRequest(def.source.signature, { body, secret, now, method: 'POST', url: extra.url }, mode),
  };
}

/** Headers that carry a vendor's delivery or event id: `--new-id` and the fuzz test give them fresh values. */
export const DELIVERY_ID_HEADER = /(^|-)(delivery|webhook-id|event-id)$/;

/** Posts one fixture delivery to the webhook URL and returns the status and JSON answer. */
export async function deliver(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: res.status, body: json };
}
