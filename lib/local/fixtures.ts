import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Fixture, IntegrationDefinition } from '../../lambdas/core/integration.js';
import { signZendesk } from '../../lambdas/core/signature/zendesk.js';

/** Loads an integration's fixtures, sorted by file name, with a clear error for a malformed one. */
export function loadFixtures(def: IntegrationDefinition): Fixture[] {
  return readdirSync(def.fixturesDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const path = join(def.fixturesDir, f);
      const fx = JSON.parse(readFileSync(path, 'utf8')) as Fixture;
      if (typeof fx.body !== 'string' || !fx.expect || !['valid', 'bad', 'stale'].includes(fx.signature)) {
        throw new Error(`Fixture ${path} is not a Fixture (needs body string, signature valid|bad|stale, expect).`);
      }
      return fx;
    });
}

/**
 * Signs a body as the vendor would. `bad` signs with a wrong secret, `stale` with a timestamp
 * an hour old — both must be refused at the door.
 */
export function vendorHeaders(def: IntegrationDefinition, body: string, secret: string, mode: Fixture['signature'] = 'valid', now = new Date()): Record<string, string> {
  if (def.source.signature !== 'zendesk') throw new Error(`No signer for scheme ${def.source.signature}.`);
  const at = mode === 'stale' ? new Date(now.getTime() - 3600_000) : now;
  const timestamp = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const key = mode === 'bad' ? `${secret}-not-the-right-one` : secret;
  return {
    'content-type': 'application/json',
    'x-zendesk-webhook-signature': signZendesk(body, timestamp, key),
    'x-zendesk-webhook-signature-timestamp': timestamp,
    'x-zendesk-webhook-id': '01HZX0SEAMWORKLOCAL',
    'user-agent': 'Zendesk Webhook',
  };
}

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
