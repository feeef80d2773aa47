import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Fixture } from '../../lambdas/core/integration.js';
import { getIntegration } from '../../lambdas/integrations/index.js';
import { deliver, vendorHeaders } from '../local/fixtures.js';
import { localSecret } from './start.js';
import { useLocalState } from './state.js';

/** `seamwork send <integration> <file>`: posts a payload (or a fixture's body) signed as the vendor would. */
export async function sendCommand(integration: string, file: string, opts: { newId: boolean; signature: Fixture['signature'] }): Promise<number> {
  const def = getIntegration(integration);
  if (!def) throw new Error(`No integration named "${integration}".`);
  const state = useLocalState();
  const text = readFileSync(file, 'utf8');
  let body = text;
  const json = JSON.parse(text) as Partial<Fixture> & Record<string, unknown>;
  if (typeof json.body === 'string' && json.expect) body = json.body; // a fixture file: send its body
  if (opts.newId) {
    const payload = JSON.parse(body) as Record<string, unknown>;
    if (typeof payload.id !== 'string') throw new Error('--new-id rewrites the top-level "id" (the vendor event id), and this payload has none.');
    payload.id = randomUUID();
    body = JSON.stringify(payload);
  }
  const url = `${state.apiUrl}/webhooks/${integration}`;
  const res = await deliver(url, body, vendorHeaders(def, body, localSecret({ env: state.env }, def), opts.signature));
  console.log(`${res.status} ${JSON.stringify(res.body)}`);
  if (res.body.decisionId) console.log(`trace it:  npm run seamwork -- trace ${res.body.decisionId}`);
  return res.status < 400 ? 0 : 1;
}
