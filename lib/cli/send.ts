import { randomUUID } from 'node:crypto';
import { S3AuditStore } from '../../lambdas/aws/s3-audit-store.js';
import type { Fixture } from '../../lambdas/core/integration.js';
import { summariseDecision } from '../../lambdas/core/trace.js';
import { getIntegration, INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { DELIVERY_ID_HEADER, deliver, vendorHeaders } from '../local/fixtures.js';
import { describeChecks, describeDecision } from './format.js';
import { readJsonFile } from './read-json.js';
import { localSecret } from './start.js';
import { useLocalState } from './state.js';

/**
 * `seamwork send <integration> <file>`: posts a payload, or a fixture's body signed the way the
 * fixture says (`--signature` overrides), then waits for the decision's outcome.
 */
export async function sendCommand(
  integration: string,
  file: string,
  opts: { newId: boolean; signature?: Fixture['signature']; wait: boolean },
): Promise<number> {
  const def = getIntegration(integration);
  if (!def) throw new Error(`No integration named "${integration}" (known: ${Object.keys(INTEGRATIONS).join(', ')}).`);
  const state = useLocalState();
  const json = readJsonFile(file, 'payload file') as Partial<Fixture> & Record<string, unknown>;
  const isFixture = typeof json.body === 'string' && json.expect !== undefined;
  let body = isFixture ? (json.body as string) : JSON.stringify(json);
  const headers: Record<string, string> = { ...(isFixture ? json.headers : undefined) };
  const signature = opts.signature ?? (isFixture ? json.signature : undefined) ?? 'valid';
  if (opts.newId) {
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(body) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`--new-id needs a JSON body, and the body in ${file} is not JSON (${(err as Error).message}); send it without --new-id.`);
    }
    const idHeaders = Object.keys(headers).filter((h) => DELIVERY_ID_HEADER.test(h));
    if (typeof payload.id !== 'string' && idHeaders.length === 0) {
      throw new Error('--new-id rewrites the event id (a top-level string "id", or a delivery-id header such as x-github-delivery), and this payload has neither.');
    }
    if (typeof payload.id === 'string') payload.id = randomUUID();
    for (const h of idHeaders) headers[h] = randomUUID();
    body = JSON.stringify(payload);
  }
  const url = `${state.apiUrl}/webhooks/${integration}`;
  const res = await deliver(url, body, vendorHeaders(def, body, localSecret({ env: state.env }, def), signature, new Date(), { url, headers }));
  console.log(`${res.status} ${JSON.stringify(res.body)}${signature !== 'valid' ? `   (signed: ${signature})` : ''}`);
  const decisionId = res.body.decisionId as string | undefined;
  if (!decisionId) return res.status < 400 ? 0 : 1;
  if (opts.wait) {
    const audit = new S3AuditStore(process.env.SEAMWORK_AUDIT_BUCKET!);
    const until = Date.now() + 30_000;
    for (;;) {
      const s = summariseDecision(await audit.listDecision(def.name, decisionId));
      if (s.outcome) {
        console.log(`${s.outcome}${s.path ? ` (path ${s.path})` : ''}: ${describeDecision(s)}${s.checks.length ? `   checks ${describeChecks(s)}` : ''}`);
        break;
      }
      if (Date.now() > until) {
        console.log('still in flight after 30 s (a rate-limited call waits on its queue); trace it later.');
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  console.log(`trace it:  npm run seamwork -- trace ${decisionId}`);
  return res.status < 400 ? 0 : 1;
}
