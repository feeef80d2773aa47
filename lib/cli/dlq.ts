import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { ChangeMessageVisibilityBatchCommand, ChangeMessageVisibilityCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../../lambdas/aws/clients.js';
import { holdEvery } from './held-messages.js';
import { SqsQueueSender } from '../../lambdas/aws/sqs-queues.js';
import { ENV, QUARANTINE_QUEUE, QUEUE_STAGES, type QueueStage } from '../../lambdas/core/config-keys.js';
import type { DriftFinding } from '../../lambdas/core/contracts/drift.js';
import { headOf } from '../../lambdas/core/audit-record.js';
import type { AuditStore } from '../../lambdas/core/ports.js';
import {
  classifyDlqBody, explainUnreadable, explainUnrecorded, planRedrive, recordsAfterParking, redriveEnvelope, type ParkedItem,
} from '../../lambdas/core/redrive.js';
import { getIntegration, INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { QUEUES, STAGE_SPECS, dlqName } from '../topology.js';
import { UsageError } from './contracts.js';
import { cell } from './format.js';
import { cliAuditStore, useLocalState } from './state.js';

/** The queues `seamwork dlq` works on: every DLQ, and quarantine. */
export const PARKED_QUEUES: string[] = [...QUEUES.map(dlqName), QUARANTINE_QUEUE];

/** One parked message, held invisible while the command looks at it. */
interface Held {
  queue: string;
  url: string;
  receiptHandle: string;
  item: ParkedItem;
  sentAt: Date;
}

/**
 * `seamwork dlq list | show <decision-id> | redrive [--queue Q] [--integration I] [--id D]… [--dry-run]`
 *
 * Works on every DLQ and the quarantine queue of the local stack (or a deployed one when the
 * SEAMWORK_QUEUE_URL_* / SEAMWORK_DLQ_URL_* variables are exported, with your AWS credentials).
 * Looking never consumes: messages are held invisible while read and released right after.
 * A message SQS moved to a DLQ by itself (no rejection record) is explained from the decision's
 * audit log (`SQS_REDRIVEN`, `CRASHED_OR_TIMED_OUT`) and redriven like any other.
 */
export async function dlqCommand(args: string[], now = new Date()): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest, allowPositionals: true,
    options: { queue: { type: 'string' }, integration: { type: 'string' }, id: { type: 'string', multiple: true }, 'dry-run': { type: 'boolean' }, bucket: { type: 'string' } },
  });
  if (values.queue && !PARKED_QUEUES.includes(values.queue)) throw new UsageError(`--queue is one of ${PARKED_QUEUES.join(', ')}; got "${values.queue}"`);
  if (values.integration && !getIntegration(values.integration)) throw new UsageError(`--integration names no deployed integration: "${values.integration}" (known: ${Object.keys(INTEGRATIONS).join(', ')})`);
  if (!process.env[ENV.dlqUrl('validate')]) useLocalState();
  const queues = values.queue ? [values.queue] : PARKED_QUEUES;
  const held = await holdAll(queues, values.bucket);
  const selected = held.filter((h) => (!values.integration || h.item.integration === values.integration) && (!values.id?.length || values.id.includes(h.item.decisionId)));
  const release = held.filter((h) => !selected.includes(h));
  try {
    switch (sub) {
      case undefined:
      case 'list':
        list(selected, now);
        return 0;
      case 'show': {
        if (positionals.length !== 1) throw new UsageError('dlq show needs <decision-id>');
        const match = selected.filter((h) => h.item.decisionId === positionals[0]);
        if (match.length === 0) {
          console.error(`No parked message for decision ${positionals[0]} in ${queues.join(', ')}.`);
          return 1;
        }
        for (const h of match) await show(h, now);
        return 0;
      }
      case 'redrive':
        return await redrive(selected, Boolean(values['dry-run']), values.bucket, now);
      default:
        throw new UsageError(`unknown dlq command "${sub}" (list, show, redrive)`);
    }
  } finally {
    await releaseAll([...release, ...selected.filter((h) => !redriven.has(h))]);
  }
}

const redriven = new WeakSet<Held>();

/** How long a recorded redrive may wait to be picked up before a rerun treats it as never sent. */
export const STALE_REDRIVE_MINUTES = 15;

function urlOf(queue: string): string {
  const key = queue.endsWith('-dlq') ? ENV.dlqUrl(queue.slice(0, -4)) : ENV.queueUrl(queue);
  const url = process.env[key];
  if (!url) throw new Error(`${key} is not set: no URL for ${queue}.`);
  return url;
}

/**
 * Receives every message of each queue, holding each invisible for five minutes, and turns each
 * body into a parked item: a rejection record as it is, anything SQS moved by itself explained
 * from the audit log. If explaining fails, every message is released before the error is thrown.
 */
async function holdAll(queues: string[], bucket: string | undefined): Promise<Held[]> {
  const raw: Array<{ queue: string; url: string; receiptHandle: string; body: unknown; sentAt: Date }> = [];
  try {
    for (const queue of queues) {
      for (const h of await holdEvery<unknown>(urlOf(queue), { unreadable: (text) => text })) raw.push({ ...h, queue, body: h.item });
    }
    let audit: AuditStore | undefined;
    const store = () => (audit ??= cliAuditStore(bucket ?? process.env[ENV.AUDIT_BUCKET]));
    const out: Held[] = [];
    for (const { body, ...h } of raw) out.push({ ...h, item: await parkedItemOf(body, h.queue, h.sentAt, store) });
    return out;
  } catch (err) {
    await releaseAll(raw);
    throw err;
  }
}

/** One DLQ body as a parked item; a bare envelope's reason comes from its audit records. */
async function parkedItemOf(body: unknown, queue: string, sentAt: Date, audit: () => AuditStore): Promise<ParkedItem> {
  const found = classifyDlqBody(body);
  if (found.kind === 'parked') return found.item;
  const at = sentAt.toISOString();
  if (found.kind === 'unreadable') {
    const stage = (QUEUE_STAGES as readonly string[]).find((s) => queue === `${s}-dlq`) as QueueStage | undefined;
    return explainUnreadable(found, { stage: stage ?? 'validate', at });
  }
  const { envelope } = found;
  const records = await audit().listDecision(envelope.integration, envelope.decisionId);
  return explainUnrecorded(envelope, records, { maxReceiveCount: STAGE_SPECS[envelope.stage].maxReceiveCount, at });
}

/** Makes held messages visible again, ten at a time. */
async function releaseAll(held: Array<Pick<Held, 'url' | 'receiptHandle'>>): Promise<void> {
  for (let i = 0; i < held.length; i += 10) {
    const batch = held.slice(i, i + 10);
    const byUrl = new Map<string, typeof batch>();
    for (const h of batch) byUrl.set(h.url, [...(byUrl.get(h.url) ?? []), h]);
    for (const [url, hs] of byUrl) {
      await sqsClient().send(new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url, Entries: hs.map((h, n) => ({ Id: String(n), ReceiptHandle: h.receiptHandle, VisibilityTimeout: 0 })),
      }));
    }
  }
}

const age = (from: Date, now: Date): string => {
  const s = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86400)}d`;
};

function list(held: Held[], now: Date): void {
  if (held.length === 0) {
    console.log('Nothing parked: every DLQ and the quarantine queue are empty.');
    return;
  }
  // Wide enough for every id: a truncated id cannot be pasted into `dlq show`.
  const idWidth = Math.max(26, ...held.map((h) => h.item.decisionId.length));
  console.log(`${cell('QUEUE', 15)} ${cell('DECISION', idWidth)} ${cell('INTEGRATION', 20)} ${cell('CODE', 22)} ${cell('POINTER', 24)} ${cell('AGE', 5)} REASON`);
  for (const h of held.sort((a, b) => a.sentAt.getTime() - b.sentAt.getTime())) {
    const i = h.item;
    console.log(`${cell(h.queue, 15)} ${cell(i.decisionId, idWidth)} ${cell(i.integration, 20)} ${cell(i.code, 22)} ${cell(i.pointer ?? '', 24)} ${cell(age(h.sentAt, now), 5)} ${(i.reason ?? '').replace(/\s+/g, ' ').slice(0, 160)}`);
  }
  console.log(`\n${held.length} parked. \`seamwork dlq show <decision-id>\` for one; \`seamwork dlq redrive --dry-run\` to see what would pass now.`);
}

async function show(h: Held, now: Date): Promise<void> {
  const i = h.item;
  console.log(`${i.decisionId}   ${i.integration}   in ${h.queue} for ${age(h.sentAt, now)}`);
  console.log(`  stage      ${i.stage}${i.contractVersion ? `   contract ${i.contractVersion}` : ''}`);
  console.log(`  code       ${i.code}${i.pointer !== undefined ? `   at ${i.pointer || '/'}` : ''}`);
  console.log(`  reason     ${i.reason}`);
  if (i.parkedBy === 'sqs') console.log('  parked by  SQS itself: the message carries no rejection record; the reason above comes from the audit log');
  const drift = ((i.detail?.drift as { findings?: DriftFinding[] } | undefined)?.findings ?? []);
  for (const f of drift) console.log(`  drift      ${cell(f.kind, 20)} ${cell(f.pointer, 30)} ${f.message}`);
  const plan = await planRedrive(i, getIntegration(i.integration), now);
  console.log(`  redrive    ${plan.verdict === 'redrive' ? `would go back to ${plan.to}` : 'would stay'}: ${plan.why}`);
  console.log(`  trace      npm run seamwork -- trace ${i.decisionId}`);
}

async function redrive(held: Held[], dryRun: boolean, bucket: string | undefined, now: Date): Promise<number> {
  if (held.length === 0) {
    console.log('Nothing to redrive.');
    return 0;
  }
  const audit = cliAuditStore(bucket ?? process.env[ENV.AUDIT_BUCKET]);
  const sender = new SqsQueueSender(Object.fromEntries(['validate', 'infer', 'verify', 'act'].map((s) => [s, process.env[ENV.queueUrl(s)]!])), process.env[ENV.PAYLOAD_BUCKET]);
  const by = safeUser();
  let sent = 0;
  let kept = 0;
  for (const [n, h] of held.entries()) {
    const progress = `[${n + 1}/${held.length}]`;
    // Each message is held for five more minutes from the moment its turn comes, so a long run
    // cannot let one reappear on the queue while it is being redriven.
    await sqsClient().send(new ChangeMessageVisibilityCommand({ QueueUrl: h.url, ReceiptHandle: h.receiptHandle, VisibilityTimeout: 300 }));
    const envelope = h.item.envelope;
    // A copy whose decision's audit chain has moved past its rejection was redriven already.
    const records = envelope?.auditHead ? await audit.listDecision(h.item.integration, h.item.decisionId) : [];
    const later = recordsAfterParking(h.item, records);
    if (h.item.parkedBy === 'sqs' && envelope && later[0] && later[0].stage === envelope.stage && later[0].kind !== 'redriven') {
      // SQS parked it although its stage committed at this position (it died, or could not hand
      // on, on the last delivery): it goes back exactly as it was, and the stage ledger finishes
      // the commit — or, if it was handed on after all, does nothing. No new record: a new chain
      // position would make the stage run again.
      if (dryRun) {
        sent += 1;
        console.log(`${progress} would go ${h.item.decisionId}  ${h.queue} → ${envelope.stage}: parked by SQS after its stage committed; sent back as it was.`);
        continue;
      }
      await sender.send(envelope.stage, envelope);
      await sqsClient().send(new DeleteMessageCommand({ QueueUrl: h.url, ReceiptHandle: h.receiptHandle }));
      redriven.add(h);
      sent += 1;
      console.log(`${progress} redriven ${h.item.decisionId}  ${h.queue} → ${envelope.stage}: parked by SQS after its stage committed (${later[0].kind}); sent back as it was, to hand that commit on.`);
      continue;
    }
    if (envelope && later.length === 1 && later[0].kind === 'redriven') {
      // Only our own record follows: a run stopped after writing it, before or after sending. If
      // nothing picked the decision up in 15 minutes, the send did not happen: send it now,
      // linked to that record (not a second one).
      const ageMinutes = (now.getTime() - Date.parse(later[0].at)) / 60_000;
      if (ageMinutes < STALE_REDRIVE_MINUTES) {
        kept += 1;
        console.log(`${progress} kept     ${h.item.decisionId}  ${h.queue}: redriven ${Math.round(ageMinutes)} min ago and not picked up yet; run again after ${STALE_REDRIVE_MINUTES} min if it stays.`);
        continue;
      }
      if (dryRun) {
        sent += 1;
        console.log(`${progress} would go ${h.item.decisionId}  ${h.queue} → ${envelope.stage}: an earlier redrive recorded but never delivered it; it would be sent now.`);
        continue;
      }
      await sender.send(envelope.stage, { ...envelope, auditHead: headOf(later[0]) });
      await sqsClient().send(new DeleteMessageCommand({ QueueUrl: h.url, ReceiptHandle: h.receiptHandle }));
      redriven.add(h);
      sent += 1;
      console.log(`${progress} redriven ${h.item.decisionId}  ${h.queue} → ${envelope.stage}: completed an earlier redrive that recorded but never delivered it.`);
      continue;
    }
    if (later.length > 0) {
      // The decision went on after the redrive (a run that stopped between sending and deleting):
      // remove the copy, never send it twice.
      if (!dryRun) {
        await sqsClient().send(new DeleteMessageCommand({ QueueUrl: h.url, ReceiptHandle: h.receiptHandle }));
        redriven.add(h);
      }
      console.log(`${progress} ${dryRun ? 'stale    ' : 'removed  '}${h.item.decisionId}  ${h.queue}: already redriven (its audit chain went on to ${later.map((r) => r.kind).join(', ')}); ${dryRun ? 'would remove' : 'removed'} this stale copy.`);
      continue;
    }
    const plan = await planRedrive(h.item, getIntegration(h.item.integration), now);
    if (plan.verdict === 'keep' || !envelope) {
      kept += 1;
      console.log(`${progress} kept     ${h.item.decisionId}  ${h.queue}: ${plan.why}`);
      continue;
    }
    if (dryRun) {
      sent += 1;
      console.log(`${progress} would go ${h.item.decisionId}  ${h.queue} → ${plan.to}: ${plan.why}`);
      continue;
    }
    const { record, envelope: linked } = redriveEnvelope({ ...h.item, envelope }, h.queue, by, new Date());
    await audit.append(record);
    await sender.send(plan.to, linked);
    await sqsClient().send(new DeleteMessageCommand({ QueueUrl: h.url, ReceiptHandle: h.receiptHandle }));
    redriven.add(h);
    sent += 1;
    console.log(`${progress} redriven ${h.item.decisionId}  ${h.queue} → ${plan.to}: ${plan.why}`);
  }
  console.log(`\n${dryRun ? 'would redrive' : 'redriven'} ${sent}, kept ${kept}.${sent && !dryRun ? ' Follow one with `npm run seamwork -- trace <decision-id>`.' : ''}`);
  return 0;
}

/** Who redrove, for the audit record; never fails the command. */
function safeUser(): string {
  try {
    return process.env.SEAMWORK_OPERATOR ?? userInfo().username;
  } catch {
    return 'unknown';
  }
}
