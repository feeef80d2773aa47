import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { S3AuditStore } from '../../lambdas/aws/s3-audit-store.js';
import { SecretsDocumentSchema } from '../../lambdas/aws/secrets.js';
import type { IntegrationDefinition } from '../../lambdas/core/integration.js';
import { summariseDecision, type DecisionSummary } from '../../lambdas/core/trace.js';
import { INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { deliver, loadFixtures, vendorHeaders } from '../local/fixtures.js';
import { ALL_QUEUES, startLocalStack, type LocalStack, type LocalStackOptions } from '../local/stack.js';
import { cell, describeChecks, describeDecision, describeTokens } from './format.js';

/** One fixture delivery and what became of it. */
export interface SampleResult {
  integration: string;
  fixture: string;
  statuses: number[];
  decisionId?: string;
  rejected?: string;
  /** Acknowledged but not processed (an event type the integration does not handle). */
  ignored?: string;
  summary?: DecisionSummary;
  expect: { status: number; outcome?: string };
}

/** Signing secret of an integration from the local secrets document. */
export function localSecret(stack: Pick<LocalStack, 'env'>, def: IntegrationDefinition): string {
  const doc = SecretsDocumentSchema.parse(JSON.parse(readFileSync(stack.env.SEAMWORK_SECRETS_FILE, 'utf8')));
  const secret = doc.webhooks[def.source.secretName]?.[0];
  if (!secret) throw new Error(`config/secrets.local.json has no webhook secret "${def.source.secretName}".`);
  return secret;
}

/** Sends every fixture of every integration, signed as the vendor would, and waits for the pipeline. */
export async function sendSamples(stack: LocalStack, log: (s: string) => void = () => {}): Promise<SampleResult[]> {
  const results: SampleResult[] = [];
  for (const def of Object.values(INTEGRATIONS)) {
    const secret = localSecret(stack, def);
    for (const fx of loadFixtures(def)) {
      const statuses: number[] = [];
      let decisionId: string | undefined;
      let rejected: string | undefined;
      let ignored: string | undefined;
      for (let i = 0; i < (fx.deliveries ?? 1); i++) {
        const url = stack.webhookUrl(def.name);
        const res = await deliver(url, fx.body, vendorHeaders(def, fx.body, secret, fx.signature, new Date(), { url, headers: fx.headers }));
        statuses.push(res.status);
        decisionId ??= res.body.decisionId as string | undefined;
        if (res.status >= 400) rejected = `${res.body.code}: ${res.body.reason}`;
        if (res.body.status === 'ignored') ignored = String(res.body.reason);
      }
      log(`  sent ${fx.name} → ${statuses.join(', ')}`);
      results.push({ integration: def.name, fixture: fx.name, statuses, decisionId, rejected, ignored, expect: fx.expect });
    }
  }
  await stack.drain(120_000);
  const audit = new S3AuditStore(stack.env.SEAMWORK_AUDIT_BUCKET);
  for (const r of results) {
    if (r.decisionId) r.summary = summariseDecision(await audit.listDecision(r.integration, r.decisionId));
  }
  return results;
}

/** Renders the sample run as a table a newcomer can read. */
export function renderSamples(results: SampleResult[]): string {
  const lines = [
    `${cell('fixture', 40)} ${cell('http', 8)} ${cell('decision id', 28)} ${cell('path', 8)} ${cell('outcome', 9)} ${cell('checks', 40)} ${cell('tokens in/out +cache', 20)} ${cell('cost', 9)} what happened`,
  ];
  let integration: string | undefined;
  for (const r of results) {
    if (r.integration !== integration) {
      integration = r.integration;
      lines.push(`── ${integration} ${'─'.repeat(Math.max(0, 36 - integration.length))}`);
    }
    const s = r.summary;
    const tokens = s ? describeTokens(s) : '';
    const cost = s?.costUsd !== undefined ? `$${s.costUsd.toFixed(5)}` : '';
    const what = s ? describeDecision(s) : r.rejected ?? r.ignored ?? '';
    const outcome = s?.outcome ?? (r.rejected ? 'refused' : r.ignored ? 'ignored' : '');
    lines.push(
      `${cell(r.fixture, 40)} ${cell(r.statuses.join(','), 8)} ${cell(r.decisionId ?? '—', 28)} ${cell(s?.path ?? '', 8)} ${cell(outcome, 9)} ${cell(s ? describeChecks(s) : '', 40)} ${cell(tokens, 20)} ${cell(cost, 9)} ${what}`,
    );
  }
  const count = (o: string) => results.filter((r) => r.summary?.outcome === o).length;
  const accepted = results.filter((r) => r.decisionId).length;
  const spent = results.reduce((a, r) => a + (r.summary?.costUsd ?? 0), 0);
  const saved = results.reduce((a, r) => a + (r.summary?.cacheSavingUsd ?? 0), 0);
  lines.push('');
  lines.push(
    `accepted ${accepted}: acted ${count('acted')}, baseline ${count('baseline')}, review ${count('review')}, dlq ${count('dlq')}, quarantine ${count('quarantine')}; ` +
      `refused at the door ${results.filter((r) => r.rejected).length}; acknowledged, not processed ${results.filter((r) => r.ignored).length}; model spend $${spent.toFixed(5)} (prompt caching saved $${saved.toFixed(5)}, ${spent + saved > 0 ? Math.round((saved / (spent + saved)) * 100) : 0}% of the uncached cost)`,
  );
  return lines.join('\n');
}

/** `seamwork start`: the local stack, the samples, then serve until Ctrl-C. */
export async function startCommand(opts: LocalStackOptions & { samples: boolean }): Promise<void> {
  const t0 = Date.now();
  console.log('Starting the local Seamwork stack (emulators, reference model, flags agent, connectors, handlers)…');
  const stack = await startLocalStack(opts);
  console.log(`  ready in ${Date.now() - t0} ms`);
  console.log(stack.model ? `  model: local reference model at ${stack.model.url} (deterministic, extractive — not an LLM)` : '  model: the real Anthropic API');
  if (opts.samples) {
    console.log('\nSending the bundled sample webhooks, signed as the vendor would:');
    const results = await sendSamples(stack, (s) => console.log(s));
    console.log('');
    console.log(renderSamples(results));
    const depths = await Promise.all(ALL_QUEUES.map(async (q) => `${q}=${await stack.depth(q)}`));
    console.log(`queues: ${depths.join(' ')}`);
    const reqs = stack.connectors.requests();
    const targets = ['zendesk', 'slack', 'github', 'shopify'] as const;
    console.log(`connector targets received: ${targets.map((t) => `${t} ${reqs.filter((r) => r.target === t).length}`).join(', ')}`);
    const first = results.find((r) => r.summary?.outcome === 'acted');
    if (first?.decisionId) console.log(`\nThe whole story of one decision:  npm run seamwork -- trace ${first.decisionId}`);
  }
  const example = Object.values(INTEGRATIONS)[0];
  const exampleFixture = example ? loadFixtures(example).find((f) => f.signature === 'valid' && f.expect.outcome === 'acted') : undefined;
  const fixturePath = example && exampleFixture ? join(relative(process.cwd(), example.fixturesDir), `${exampleFixture.name}.json`) : '<file>';
  console.log(`
Serving. Webhooks:     POST ${stack.webhookUrl('<integration>')}   (integrations: ${Object.keys(INTEGRATIONS).join(', ')})
Model server:          ${stack.model?.url ?? 'api.anthropic.com'}
Flags (AppConfig agent): ${stack.flags.url}   file: ${opts.flagsFile ?? join('config', 'flags.local.json')}
Stand-ins:             Zendesk ${stack.connectors.zendeskUrl}   Slack ${stack.connectors.slackUrl}   GitHub ${stack.connectors.githubUrl}   Shopify ${stack.connectors.shopifyUrl}
Send another:          npm run seamwork -- send ${example?.name} ${fixturePath} --new-id
Flip to baseline:      npm run seamwork -- flags set ${example?.name} enabled=false
Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.log('\nStopping…');
  await stack.stop();
}
