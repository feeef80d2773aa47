import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CheckResult } from '../../lambdas/core/envelope.js';
import type { ReviewItem } from '../../lambdas/core/stage-runner.js';
import { summariseDecision } from '../../lambdas/core/trace.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { reviewCommand } from '../../lib/cli/review.js';
import { localSecret } from '../../lib/cli/start.js';
import { deliver, loadFixtures, vendorHeaders } from '../../lib/local/fixtures.js';
import { startTestStack } from '../support/local-stack.js';

/** Runs a CLI command function and returns its exit code and everything it printed. */
async function capture(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    const code = await run();
    return { code, out: lines.join('\n') };
  } finally {
    vi.restoreAllMocks();
  }
}

/** So small that every inference is refused at infer until a person raises it. */
const TINY_TENANT_CAP_USD = '0.0001';

let nextAccount = 71_000_000;
let nextTicket = 91_000;

/** A fixture ticket with fresh ids (its own tenant, its own ticket number). */
function ticket(fixture: string): { body: string; ticketId: string } {
  const b = JSON.parse(loadFixtures(supportTriage).find((f) => f.name === fixture)!.body);
  const ticketId = String(nextTicket++);
  b.id = randomUUID();
  b.detail.id = ticketId;
  b.subject = `zen:ticket:${ticketId}`;
  b.account_id = nextAccount++;
  return { body: JSON.stringify(b), ticketId };
}

describe('seamwork review against the local stack', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let sqs: SQSClient;
  const operator = process.env.SEAMWORK_OPERATOR;

  const send = async (fixture: string) => {
    const t = ticket(fixture);
    const res = await deliver(stack.webhookUrl('support-triage'), t.body, vendorHeaders(supportTriage, t.body, localSecret(stack, supportTriage)));
    expect(res.status).toBe(202);
    return { decisionId: String(res.body.decisionId), ticketId: t.ticketId };
  };
  const chain = (decisionId: string) => stack.records('support-triage', decisionId);
  const zendeskUpdates = (ticketId: string) => stack.connectors.requests().filter((q) => q.target === 'zendesk' && q.path === `/api/v2/tickets/${ticketId}.json` && q.status === 200);
  /** The review items waiting for a decision, read without consuming them. */
  const waiting = async (decisionId: string): Promise<ReviewItem[]> => {
    const { readMessageBody } = await import('../../lambdas/aws/sqs-queues.js');
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.emulators.queueUrls.review.url, MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 0 }));
    const items = await Promise.all((res.Messages ?? []).map((m) => readMessageBody<ReviewItem>({ body: m.Body ?? '{}' })));
    return items.filter((i) => i.decisionId === decisionId);
  };

  beforeAll(async () => {
    stack = await startTestStack({ env: { SEAMWORK_TENANT_DAILY_CAP_USD: TINY_TENANT_CAP_USD } });
    sqs = new SQSClient({ endpoint: stack.emulators.endpoints.sqs, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, useQueueUrlAsEndpoint: false });
    process.env.SEAMWORK_OPERATOR = 'ana';
  }, 120_000);
  afterAll(async () => {
    if (operator === undefined) delete process.env.SEAMWORK_OPERATOR;
    else process.env.SEAMWORK_OPERATOR = operator;
    sqs?.destroy();
    await stack?.stop();
  });
  afterEach(() => vi.restoreAllMocks());

  it('approves a cost-cap refusal with a one-off raise: the ticket is acted on, and the approval and the override are in its audit chain', async () => {
    const { decisionId, ticketId } = await send('clean-billing-duplicate-charge');
    await stack.drain();
    const list = await capture(() => reviewCommand(['list', '--code', 'COST_CAP_EXCEEDED']));
    expect(list.out).toMatch(new RegExp(`${decisionId}\\s+support-triage\\s+infer\\s+COST_CAP_EXCEEDED\\s+\\d+s\\s+Reserving the worst case`));
    const [original] = await waiting(decisionId);
    expect(original).toBeDefined();

    // A raise is required for a cost cap, and must be sane.
    await expect(reviewCommand(['approve', decisionId, '--reason', 'VIP customer'])).rejects.toThrow(/COST_CAP_EXCEEDED needs --extra-usd <USD>.*The refused worst case was \$/);
    await expect(reviewCommand(['approve', decisionId, '--reason', 'VIP customer', '--extra-usd', '5000'])).rejects.toThrow(/--extra-usd is a positive number of dollars, at most 100; got "5000"/);
    expect(await waiting(decisionId)).toHaveLength(1);

    const run = await capture(() => reviewCommand(['approve', decisionId, '--reason', 'VIP customer', '--extra-usd', '1']));
    expect(run.code).toBe(0);
    expect(run.out).toContain(`${decisionId}: approved by ana → infer.`);
    await stack.drain();

    expect(zendeskUpdates(ticketId)).toHaveLength(1);
    const records = await chain(decisionId);
    const summary = summariseDecision(records);
    expect(summary).toMatchObject({ outcome: 'acted', chainOk: true });
    const kinds = summary.stages.map((s) => s.split(':')[1]);
    expect(kinds.slice(kinds.indexOf('cost_refused'))).toEqual(['cost_refused', 'review_approved', 'inferred', 'verified', 'acted']);
    const approval = records.find((r) => r.kind === 'review_approved')!;
    expect(approval.data).toMatchObject({ approvedBy: 'ana', reason: 'VIP customer', code: 'COST_CAP_EXCEEDED', to: 'infer', override: { capOverride: { approvedBy: 'ana', extraUsd: 1 } } });
    const inferred = records.find((r) => r.kind === 'inferred')!;
    expect((inferred.data.caps as { override: unknown }).override).toMatchObject({ approvedBy: 'ana', reason: 'VIP customer', extraUsd: 1 });
    expect(await waiting(decisionId)).toHaveLength(0);

    // A run that stopped after sending but before deleting leaves the copy behind: the next run
    // sees the audit chain went on and removes it instead of sending it again.
    await stack.enqueue('review', original);
    const again = await capture(() => reviewCommand(['approve', decisionId, '--reason', 'VIP customer', '--extra-usd', '1']));
    expect(again.out).toContain(`${decisionId}: already handled (its audit chain went on to review_approved, inferred, verified, acted); removed this stale copy, sent nothing.`);
    await stack.drain();
    expect(await waiting(decisionId)).toHaveLength(0);
    expect((await chain(decisionId)).filter((r) => r.kind === 'review_approved')).toHaveLength(1);
    expect(zendeskUpdates(ticketId)).toHaveLength(1);
  });

  it('approves an abstention as it stands: shown with the proposed decision and its checks, then acted on with the check overridden', async () => {
    const { decisionId, ticketId } = await send('insufficient-information');
    await stack.drain();
    // The tiny cap holds it first; once raised, the model abstains and verify sends it back to review.
    expect((await capture(() => reviewCommand(['approve', decisionId, '--reason', 'look at it', '--extra-usd', '1']))).code).toBe(0);
    await stack.drain();
    const [blocked] = await waiting(decisionId);
    expect(blocked).toMatchObject({ stage: 'verify', code: 'INSUFFICIENT_INFORMATION' });
    expect(blocked.envelope.capOverride).toBeUndefined();

    const show = await capture(() => reviewCommand(['show', decisionId]));
    expect(show.code).toBe(0);
    expect(show.out).toContain('code       INSUFFICIENT_INFORMATION');
    expect(show.out).toMatch(/proposed\s+outcome\s+insufficient_information/);
    expect(show.out).toMatch(/check\s+abstain\s+fail\s+The model answered insufficient_information; missing: \S/);
    expect(show.out).toContain('approve    Back to verify, accepted as it stands (INSUFFICIENT_INFORMATION recorded as overridden); act runs no actions.');
    expect(await waiting(decisionId)).toHaveLength(1);

    await expect(reviewCommand(['approve', decisionId, '--reason', 'x', '--extra-usd', '1'])).rejects.toThrow(/--extra-usd is for COST_CAP_EXCEEDED items only/);
    const run = await capture(() => reviewCommand(['approve', decisionId, '--reason', 'the customer called: nothing to triage']));
    expect(run.code).toBe(0);
    expect(run.out).toContain(`${decisionId}: approved by ana → verify.`);
    await stack.drain();

    const records = await chain(decisionId);
    const summary = summariseDecision(records);
    expect(summary).toMatchObject({ outcome: 'acted', chainOk: true });
    expect(summary.stages.slice(-3)).toEqual(['review:review_approved', 'verify:verified', 'act:acted']);
    const abstain = summary.checks.find((c: CheckResult) => c.check === 'abstain')!;
    expect(abstain).toMatchObject({ verdict: 'overridden', data: { approvedBy: 'ana', reason: 'the customer called: nothing to triage', code: 'INSUFFICIENT_INFORMATION' } });
    expect(zendeskUpdates(ticketId)).toHaveLength(0);
    expect(await waiting(decisionId)).toHaveLength(0);
  });

  it('rejects an item: nothing is executed, it leaves the queue, and the decision ends in review with the rejection recorded', async () => {
    const { decisionId, ticketId } = await send('clean-technical-urgent-outage');
    await stack.drain();
    expect(await waiting(decisionId)).toHaveLength(1);

    const run = await capture(() => reviewCommand(['reject', decisionId, '--reason', 'duplicate of an open incident']));
    expect(run.code).toBe(0);
    expect(run.out).toContain(`${decisionId}: rejected by ana. Nothing was executed`);
    await stack.drain();

    expect(await waiting(decisionId)).toHaveLength(0);
    expect(stack.connectors.requests().filter((q) => q.path.includes(ticketId) || JSON.stringify(q.body ?? '').includes(ticketId))).toHaveLength(0);
    const records = await chain(decisionId);
    expect(records.at(-1)).toMatchObject({ kind: 'review_rejected', data: { outcome: 'review', rejectedBy: 'ana', rejectReason: 'duplicate of an open incident' } });
    expect(summariseDecision(records)).toMatchObject({ outcome: 'review', code: 'COST_CAP_EXCEEDED', reason: 'Rejected by ana: duplicate of an open incident', chainOk: true });

    // Once handled, it is gone from the queue, and the command says where the decision went.
    const twice = await capture(() => reviewCommand(['approve', decisionId, '--reason', 'changed my mind', '--extra-usd', '1']));
    expect(twice.code).toBe(1);
    expect(twice.out).toContain(`No review item for decision ${decisionId}: it is not in the review queue. Its audit chain ends with review_rejected`);
  });

  it('says clearly when a decision is not in the review queue at all', async () => {
    const res = await capture(() => reviewCommand(['show', 'dec_nosuchdecision']));
    expect(res.code).toBe(1);
    expect(res.out).toContain('No review item for decision dec_nosuchdecision, and no audit records for it either');
  });

  it('refuses an approval without a reason, before touching the queue, with a usage error (exit 2 from the CLI)', async () => {
    await expect(reviewCommand(['approve', 'dec_any'])).rejects.toThrow(/review approve needs --reason/);
    await expect(reviewCommand(['approve', 'dec_any', '--reason', '  '])).rejects.toThrow(/review approve needs --reason/);
    await expect(reviewCommand(['list', '--code', 'NOPE'])).rejects.toThrow(/--code is one of COST_CAP_EXCEEDED, INSUFFICIENT_INFORMATION/);
    const bin = await promisify(execFile)(join(process.cwd(), 'node_modules/.bin/tsx'), ['bin/seamwork.ts', 'review', 'approve', 'dec_any'], { env: { ...process.env } }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );
    expect(bin.code).toBe(2);
    expect(bin.stderr).toContain('seamwork: review approve needs --reason');
  });
});
