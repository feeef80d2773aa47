import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GENESIS_HASH } from '../../lambdas/core/audit-record.js';
import type { Envelope, RejectionRecord } from '../../lambdas/core/envelope.js';
import { renderTrace, summariseDecision } from '../../lambdas/core/trace.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { contractsCommand } from '../../lib/cli/contracts.js';
import { dlqCommand } from '../../lib/cli/dlq.js';
import { localSecret } from '../../lib/cli/start.js';
import { deliver, loadFixtures, vendorHeaders } from '../../lib/local/fixtures.js';
import { startTestStack } from '../support/local-stack.js';

/** Runs a CLI command function and returns its exit code and everything it printed. */
async function capture(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const code = await run();
  vi.restoreAllMocks();
  return { code, out: lines.join('\n') };
}

const clean = () => {
  const b = JSON.parse(loadFixtures(supportTriage).find((f) => f.name === 'clean-billing-duplicate-charge')!.body);
  b.id = randomUUID();
  return b;
};

describe('seamwork dlq and contracts against the local stack', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  const send = async (body: unknown) => {
    const text = JSON.stringify(body);
    const res = await deliver(stack.webhookUrl('support-triage'), text, vendorHeaders(supportTriage, text, localSecret(stack, supportTriage)));
    expect(res.status).toBe(202);
    return res.body.decisionId as string;
  };

  beforeAll(async () => {
    stack = await startTestStack();
  }, 120_000);
  afterAll(async () => stack?.stop());
  afterEach(() => vi.restoreAllMocks());

  it('lists a contract violation in the validate DLQ with its code and pointer, and shows why a redrive would not help yet', async () => {
    const body = clean();
    delete body.detail.description;
    const decisionId = await send(body);
    await stack.drain();
    const list = await capture(() => dlqCommand(['list']));
    expect(list.code).toBe(0);
    expect(list.out).toMatch(new RegExp(`validate-dlq\\s+${decisionId}\\s+support-triage\\s+CONTRACT_VIOLATION\\s+/detail/description`));
    const show = await capture(() => dlqCommand(['show', decisionId]));
    expect(show.out).toContain('/detail/description is missing; the contract requires it (a string).');
    expect(show.out).toMatch(/would stay: The contract and its drift policy are unchanged since this was parked \(zendesk\.ticket\.created\/2022-11-06#2, fingerprint [0-9a-f]{12}\)/);
    // Looking consumed nothing.
    expect(await stack.depth('validate-dlq')).toBe(1);
    const redrive = await capture(() => dlqCommand(['redrive', '--id', decisionId]));
    expect(redrive.out).toContain(`kept     ${decisionId}`);
    expect(await stack.depth('validate-dlq')).toBe(1);
  });

  it('redrives what passes today\'s contract and the decision completes, with the redrive in its audit chain', async () => {
    // A delivery rejected under an older contract that the current one accepts: the state after an
    // engineer fixed the contract. Its envelope is what validate parked, raw body included.
    const accepted = await send(clean());
    await stack.drain();
    const decisionId = `dec_redrive${Date.now().toString(36)}`;
    const records = await stack.records('support-triage', accepted);
    const first = records[0];
    const envelope: Envelope = {
      v: 1, decisionId, integration: 'support-triage', tenant: 't', vendorEventId: randomUUID(), receivedAt: new Date().toISOString(), stage: 'validate',
      auditHead: { seq: -1, hash: GENESIS_HASH }, raw: { body: JSON.stringify(clean()), headers: first.data.headers as Record<string, string> },
    };
    const parked: RejectionRecord = {
      stage: 'validate', integration: 'support-triage', decisionId, code: 'CONTRACT_VIOLATION', reason: 'rejected by contract #1', retryable: false,
      pointer: '/detail/priority', contractVersion: 'zendesk.ticket.created/2022-11-06#1', at: new Date().toISOString(), envelope,
    };
    const { SqsQueueSender } = await import('../../lambdas/aws/sqs-queues.js');
    await new SqsQueueSender({ 'validate-dlq': stack.emulators.queueUrls.validate.dlqUrl }).send('validate-dlq', parked);

    const dry = await capture(() => dlqCommand(['redrive', '--id', decisionId, '--dry-run']));
    expect(dry.out).toContain(`would go ${decisionId}  validate-dlq → validate: Passes contract ${supportTriage.contract.version} now (fingerprint`);
    expect(await stack.depth('validate-dlq')).toBe(2);

    const run = await capture(() => dlqCommand(['redrive', '--id', decisionId]));
    expect(run.out).toContain('redriven 1, kept 0.');
    await stack.drain();
    expect(await stack.depth('validate-dlq')).toBe(1);
    const chain = await stack.records('support-triage', decisionId);
    expect(chain.map((r) => r.kind).slice(0, 2)).toEqual(['redriven', 'validated']);
    expect(chain[0].data).toMatchObject({ from: 'validate-dlq', previous: { code: 'CONTRACT_VIOLATION' } });
    expect(renderTrace(chain)).toContain('redriven by');
    expect(summariseDecision(chain).outcome).toMatch(/acted|baseline|review/);

    // A run that stopped after sending but before deleting leaves the copy behind: the next run
    // sees the audit chain has moved on and removes it instead of sending it again.
    await new SqsQueueSender({ 'validate-dlq': stack.emulators.queueUrls.validate.dlqUrl }).send('validate-dlq', parked);
    const again = await capture(() => dlqCommand(['redrive', '--id', decisionId]));
    expect(again.out).toContain(`removed  ${decisionId}  validate-dlq: already redriven`);
    await stack.drain();
    expect((await stack.records('support-triage', decisionId)).filter((r) => r.kind === 'redriven')).toHaveLength(1);
    expect(await stack.depth('validate-dlq')).toBe(1);
  });

  it('finishes a redrive that recorded but never sent (a run that died between the two), and never loses the message', async () => {
    const accepted = await send(clean());
    await stack.drain();
    const headers = (await stack.records('support-triage', accepted))[0].data.headers as Record<string, string>;
    const { redriveEnvelope } = await import('../../lambdas/core/redrive.js');
    const { S3AuditStore } = await import('../../lambdas/aws/s3-audit-store.js');
    const { SqsQueueSender } = await import('../../lambdas/aws/sqs-queues.js');
    const audit = new S3AuditStore(stack.env.SEAMWORK_AUDIT_BUCKET);
    const park = async (decisionId: string, recordedMinutesAgo: number) => {
      const parked: RejectionRecord = {
        stage: 'validate', integration: 'support-triage', decisionId, code: 'CONTRACT_VIOLATION', reason: 'rejected by an older contract', retryable: false,
        at: new Date().toISOString(), envelope: {
          v: 1, decisionId, integration: 'support-triage', tenant: 't', vendorEventId: randomUUID(), receivedAt: new Date().toISOString(), stage: 'validate',
          auditHead: { seq: -1, hash: GENESIS_HASH }, raw: { body: JSON.stringify(clean()), headers },
        },
      };
      // The earlier run wrote its `redriven` record, then died before sending.
      await audit.append(redriveEnvelope(parked, 'validate-dlq', 'someone', new Date(Date.now() - recordedMinutesAgo * 60_000)).record);
      await new SqsQueueSender({ 'validate-dlq': stack.emulators.queueUrls.validate.dlqUrl }).send('validate-dlq', parked);
    };
    const recent = `dec_recent${Date.now().toString(36)}`;
    const old = `dec_unsent${Date.now().toString(36)}`;
    await park(recent, 2);
    await park(old, 30);
    const before = await stack.depth('validate-dlq');
    const res = await capture(() => dlqCommand(['redrive', '--id', recent, '--id', old]));
    expect(res.out).toContain(`kept     ${recent}  validate-dlq: redriven 2 min ago and not picked up yet`);
    expect(res.out).toContain(`redriven ${old}  validate-dlq → validate: completed an earlier redrive that recorded but never delivered it.`);
    await stack.drain();
    expect(await stack.depth('validate-dlq')).toBe(before - 1);
    const chain = await stack.records('support-triage', old);
    expect(chain.map((r) => r.kind).slice(0, 2)).toEqual(['redriven', 'validated']);
    expect(summariseDecision(chain).chainOk).toBe(true);
  });

  it('refuses to redrive a decision older than its idempotency keys and vault tokens', async () => {
    const { planRedrive } = await import('../../lambdas/core/redrive.js');
    const old = { stage: 'act' as const, integration: 'support-triage', decisionId: 'dec_old', code: 'CONNECTOR_UNAVAILABLE', reason: 'r', at: '', envelope: {
      v: 1 as const, decisionId: 'dec_old', integration: 'support-triage', tenant: 't', vendorEventId: 'e', receivedAt: new Date(Date.now() - 20 * 86_400_000).toISOString(), stage: 'act' as const, auditHead: { seq: 4, hash: 'x' },
    } };
    const plan = await planRedrive(old, supportTriage, new Date());
    expect(plan).toMatchObject({ verdict: 'keep' });
    expect(plan.why).toContain('Received 20 days ago');
    const fresh = await planRedrive({ ...old, envelope: { ...old.envelope, receivedAt: new Date().toISOString() } }, supportTriage, new Date());
    expect(fresh).toMatchObject({ verdict: 'redrive', to: 'act' });
  });

  it('counts pass-and-report drift per field for `seamwork contracts drift`, and trace shows it', async () => {
    const body = clean();
    body.detail.sla_policy = { id: 3, title: 'Premium' };
    body.detail.status = 'ARCHIVED';
    const drifted = await send(body);
    await send({ ...clean(), detail: { ...clean().detail, sla_policy: { id: 4 } } });
    await stack.drain();
    const res = await capture(() => contractsCommand(['drift', 'support-triage', '--days', '7']));
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/2\s+unknown_field\s+\/detail\/sla_policy/);
    expect(res.out).toMatch(/1\s+new_enum_value\s+\/detail\/status/);
    expect(res.out).toContain('/detail/status is "ARCHIVED", a value the contract does not list');
    expect(renderTrace(await stack.records('support-triage', drifted))).toContain('drift unknown_field /detail/sla_policy');
  });

  it('holds drift in quarantine under a quarantine policy, and redrives it once the policy is loosened', async () => {
    // The stack runs the handlers in this process, so changing the policy here is what deploying
    // a changed integration definition does in AWS.
    const policy = supportTriage.contract.drift;
    supportTriage.contract.drift = { default: 'pass-and-report', byKind: { new_enum_value: 'quarantine' } };
    try {
      const body = clean();
      body.detail.status = 'ESCALATED';
      const decisionId = await send(body);
      await stack.drain();
      expect(await stack.depth('quarantine')).toBe(1);
      const list = await capture(() => dlqCommand(['list', '--queue', 'quarantine']));
      expect(list.out).toMatch(new RegExp(`quarantine\\s+${decisionId}\\s+support-triage\\s+CONTRACT_DRIFT\\s+/detail/status`));
      const kept = await capture(() => dlqCommand(['redrive', '--queue', 'quarantine', '--dry-run']));
      expect(kept.out).toContain('The contract and its drift policy are unchanged');

      supportTriage.contract.drift = { default: 'pass-and-report' };
      const run = await capture(() => dlqCommand(['redrive', '--queue', 'quarantine']));
      expect(run.out).toContain('redriven 1, kept 0.');
      await stack.drain();
      expect(await stack.depth('quarantine')).toBe(0);
      const chain = await stack.records('support-triage', decisionId);
      expect(chain.map((r) => r.kind).slice(0, 4)).toEqual(['accepted', 'quarantined', 'redriven', 'validated']);
      expect(summariseDecision(chain).outcome).toMatch(/acted|baseline|review/);
    } finally {
      supportTriage.contract.drift = policy;
    }
  });

  it('explains a bare envelope SQS moved to the DLQ from the audit log, redrives it, and it completes', async () => {
    // What SQS moves by itself when deliveries crash or time out: the envelope as it was sent,
    // with no rejection record. One decision failed twice (recorded by the real runner) and its
    // third delivery crashed; the other crashed on every delivery and recorded nothing.
    const accepted = await send(clean());
    await stack.drain();
    const headers = (await stack.records('support-triage', accepted))[0].data.headers as Record<string, string>;
    const { sealRecord, headOf } = await import('../../lambdas/core/audit-record.js');
    const { S3AuditStore } = await import('../../lambdas/aws/s3-audit-store.js');
    const { SqsQueueSender } = await import('../../lambdas/aws/sqs-queues.js');
    const { runStage } = await import('../../lambdas/core/stage-runner.js');
    const { MemoryMetrics, MemoryQueues } = await import('../../lambdas/core/memory-ports.js');
    const { SeamworkError } = await import('../../lambdas/core/errors.js');
    const audit = new S3AuditStore(stack.env.SEAMWORK_AUDIT_BUCKET);
    const bareEnvelope = async (decisionId: string): Promise<Envelope> => {
      const first = sealRecord({ decisionId, integration: 'support-triage', stage: 'ingest', attempt: 1, kind: 'accepted', at: new Date().toISOString(), data: { headers } }, null);
      await audit.append(first);
      return {
        v: 1, decisionId, integration: 'support-triage', tenant: 't', vendorEventId: randomUUID(), receivedAt: new Date().toISOString(), stage: 'validate',
        auditHead: headOf(first), raw: { body: JSON.stringify(clean()), headers },
      };
    };
    const failed = await bareEnvelope(`dec_sqsfail${Date.now().toString(36)}`);
    for (const attempt of [1, 2]) {
      const res = await runStage('validate', failed, { attempt, maxReceiveCount: 3 }, async () => {
        throw new SeamworkError('SECRETS_UNAVAILABLE', 'Secrets Manager did not answer', true);
      }, { audit, queues: new MemoryQueues(), metrics: new MemoryMetrics(), now: () => new Date() });
      expect(res.status).toBe('retry');
    }
    const crashed = await bareEnvelope(`dec_sqscrash${Date.now().toString(36)}`);
    const dlq = new SqsQueueSender({ 'validate-dlq': stack.emulators.queueUrls.validate.dlqUrl });
    await dlq.send('validate-dlq', failed);
    await dlq.send('validate-dlq', crashed);
    const before = await stack.depth('validate-dlq');

    const list = await capture(() => dlqCommand(['list', '--id', failed.decisionId, '--id', crashed.decisionId]));
    expect(list.out).toMatch(new RegExp(`validate-dlq\\s+${failed.decisionId}\\s+support-triage\\s+SQS_REDRIVEN\\s+\\S+\\s+SQS moved it to the validate DLQ after 3 deliveries`));
    expect(list.out).toMatch(new RegExp(`validate-dlq\\s+${crashed.decisionId}\\s+support-triage\\s+CRASHED_OR_TIMED_OUT\\s+\\S+\\s+No outcome recorded at validate after 3 deliveries: the function crashed or timed out`));
    const shown = await capture(() => dlqCommand(['show', failed.decisionId]));
    expect(shown.out).toContain('The last failure recorded was SECRETS_UNAVAILABLE on delivery 2 of 3: Secrets Manager did not answer; delivery 3 recorded nothing: the function crashed or timed out.');
    expect(shown.out).toContain('parked by  SQS itself');
    const show = await capture(() => dlqCommand(['show', crashed.decisionId]));
    expect(show.out).toMatch(/code\s+CRASHED_OR_TIMED_OUT/);
    expect(show.out).toMatch(/would go back to validate: Passes contract/);
    expect(await stack.depth('validate-dlq')).toBe(before);

    const run = await capture(() => dlqCommand(['redrive', '--id', failed.decisionId, '--id', crashed.decisionId]));
    expect(run.out).toContain('redriven 2, kept 0.');
    await stack.drain();
    expect(await stack.depth('validate-dlq')).toBe(before - 2);
    for (const { decisionId } of [failed, crashed]) {
      const chain = await stack.records('support-triage', decisionId);
      const summary = summariseDecision(chain);
      expect(summary.chainOk).toBe(true);
      expect(summary.outcome).toMatch(/acted|baseline|review/);
      expect(chain.find((r) => r.kind === 'redriven')?.data).toMatchObject({ from: 'validate-dlq', previous: { code: decisionId === failed.decisionId ? 'SQS_REDRIVEN' : 'CRASHED_OR_TIMED_OUT' } });
    }
    expect(renderTrace(await stack.records('support-triage', failed.decisionId))).toContain('parked with SQS_REDRIVEN');

    // A leftover copy of a decision that went on is removed, not sent again.
    await dlq.send('validate-dlq', failed);
    const again = await capture(() => dlqCommand(['redrive', '--id', failed.decisionId]));
    expect(again.out).toContain(`removed  ${failed.decisionId}  validate-dlq: already redriven`);
    expect((await stack.records('support-triage', failed.decisionId)).filter((r) => r.kind === 'redriven')).toHaveLength(1);
  });

  it('lists a body no delivery could read, which SQS moved to the DLQ by itself, and keeps it', async () => {
    const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
    const { sqsClient } = await import('../../lambdas/aws/clients.js');
    const before = await stack.depth('validate-dlq');
    const poison = `not json ${randomUUID()}`;
    await sqsClient().send(new SendMessageCommand({ QueueUrl: stack.emulators.queueUrls.validate.url, MessageBody: poison }));
    // Every delivery fails to read it; after maxReceiveCount the queue's redrive policy moves it.
    for (let i = 0; i < 150 && (await stack.depth('validate-dlq')) === before; i++) await new Promise((r) => setTimeout(r, 200));
    expect(await stack.depth('validate-dlq')).toBe(before + 1);
    const list = await capture(() => dlqCommand(['list', '--queue', 'validate-dlq']));
    expect(list.code).toBe(0);
    expect(list.out).toMatch(new RegExp(`validate-dlq\\s+\\?\\s+\\?\\s+UNREADABLE_MESSAGE\\s.*"${poison}"`));
    const run = await capture(() => dlqCommand(['redrive', '--queue', 'validate-dlq', '--id', '?']));
    expect(run.out).toContain('kept     ?  validate-dlq: The message carries no pipeline envelope to redrive.');
    expect(await stack.depth('validate-dlq')).toBe(before + 1);
  });

  it('refuses a queue that is not parked, or an integration that does not exist, naming the choices', async () => {
    await expect(dlqCommand(['list', '--queue', 'infer'])).rejects.toThrow(/--queue is one of validate-dlq, .*quarantine/);
    await expect(dlqCommand(['redrive', '--integration', 'nosuch'])).rejects.toThrow(/names no deployed integration: "nosuch" \(known: support-triage/);
  });
});
