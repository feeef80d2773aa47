import { randomUUID } from 'node:crypto';
import { S3AuditStore } from '../../lambdas/aws/s3-audit-store.js';
import type { Fixture } from '../../lambdas/core/integration.js';
import { summariseDecision } from '../../lambdas/core/trace.js';
import { getIntegration, INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { deliver, vendorHeaders } from '../local/fixtures.js';
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
  const signature = opts.signature ?? (isFixture ? json.signature : undefined) ?? 'valid';
  if (opts.newId) {
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(body) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`--new-id needs a JSON body, and the body in ${file} is not JSON (${(err as Error).message}); send it without --new-id.`);
    }
    if (typeof payload.id !== 'string') throw new Error('--new-id rewrites the top-level "id" (the vendor event id), and this payload has none.');
    payload.id = randomUUID();
    body = JSON.stringify(payload);
  }
  const url = `${state.apiUrl}/webhooks/${integration}`;
  const res = await deliver(url, body, vendorHeaders(def, body, localSecret({ env: state.env }, def), signature));
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
