import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { ChangeMessageVisibilityBatchCommand, ChangeMessageVisibilityCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { holdEvery } from './held-messages.js';
import { sqsClient } from '../../lambdas/aws/clients.js';
import { SqsQueueSender } from '../../lambdas/aws/sqs-queues.js';
import type { AuditRecord } from '../../lambdas/core/audit-record.js';
import { ENV, REVIEW_QUEUE } from '../../lambdas/core/config-keys.js';
import {
  approvalRecord, copyState, MAX_EXTRA_USD, planApproval, refusedWorstCaseUsd, rejectionRecord, resumeApproval, REVIEW_CODES, STALE_APPROVAL_MINUTES,
} from '../../lambdas/core/review.js';
import type { ReviewItem } from '../../lambdas/core/stage-runner.js';
import { summariseDecision } from '../../lambdas/core/trace.js';
import { getIntegration, INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { UsageError } from './contracts.js';
import { cell } from './format.js';
import { cliAuditStore, useLocalState } from './state.js';

/** One review message, held invisible while the command looks at it. */
interface Held {
  url: string;
  receiptHandle: string;
  item: ReviewItem;
  sentAt: Date;
}

/** The parsed command line of `seamwork review`. */
interface ReviewOptions {
  integration?: string;
  code?: string;
  reason?: string;
  extraUsd?: number;
  bucket?: string;
}

/**
 * `seamwork review list [--integration I] [--code C] | show <decision-id> |
 * approve <decision-id> --reason "…" [--extra-usd N] | reject <decision-id> --reason "…"`
 *
 * Works the review queue of the local stack (or a deployed one when SEAMWORK_QUEUE_URL_REVIEW,
 * the infer and verify queue URLs and SEAMWORK_AUDIT_BUCKET are exported, with your AWS
 * credentials). Looking never consumes: messages are held invisible while read and released right
 * after. Approving and rejecting write an audit record chained to the item's head first, then
 * send (approve) and delete the message; a copy whose decision already went on is removed, never
 * sent again.
 */
export async function reviewCommand(args: string[], now = new Date()): Promise<number> {
  const [sub, ...rest] = args;
  const opts = parseOptions(sub, rest);
  if (!process.env[ENV.queueUrl(REVIEW_QUEUE)]) useLocalState();
  const url = process.env[ENV.queueUrl(REVIEW_QUEUE)]!;
  const held = await holdAll(url);
  const consumed = new WeakSet<Held>();
  try {
    if (sub === undefined || sub === 'list') {
      list(held.filter((h) => (!opts.integration || h.item.integration === opts.integration) && (!opts.code || h.item.code === opts.code)), now);
      return 0;
    }
    const decisionId = opts.decisionId!;
    const copies = held.filter((h) => h.item.decisionId === decisionId);
    // Release everything else now: other reviewers may be working the queue.
    await releaseAll(held.filter((h) => !copies.includes(h)));
    held.splice(0, held.length, ...copies);
    const audit = cliAuditStore(opts.bucket ?? process.env[ENV.AUDIT_BUCKET]);
    if (copies.length === 0) return await notFound(decisionId, audit);
    switch (sub) {
      case 'show':
        for (const h of copies) await show(h, await audit.listDecision(h.item.integration, decisionId), now);
        return 0;
      case 'approve':
        return await approve(copies, opts, audit, consumed, now);
      default:
        return await reject(copies, opts, audit, consumed, now);
    }
  } finally {
    await releaseAll(held.filter((h) => !consumed.has(h)));
  }
}

/** Checks the command line before any message is touched. */
function parseOptions(sub: string | undefined, rest: string[]): ReviewOptions & { decisionId?: string } {
  const { values, positionals } = parseArgs({
    args: rest, allowPositionals: true,
    options: { integration: { type: 'string' }, code: { type: 'string' }, reason: { type: 'string' }, 'extra-usd': { type: 'string' }, bucket: { type: 'string' } },
  });
  if (sub !== undefined && !['list', 'show', 'approve', 'reject'].includes(sub)) throw new UsageError(`unknown review command "${sub}" (list, show, approve, reject)`);
  if (values.integration && !getIntegration(values.integration)) throw new UsageError(`--integration names no deployed integration: "${values.integration}" (known: ${Object.keys(INTEGRATIONS).join(', ')})`);
  if (values.code && !REVIEW_CODES.includes(values.code)) throw new UsageError(`--code is one of ${REVIEW_CODES.join(', ')}; got "${values.code}"`);
  const base = { integration: values.integration, code: values.code, bucket: values.bucket };
  if (sub === undefined || sub === 'list') {
    if (positionals.length > 0 || values.reason !== undefined || values['extra-usd'] !== undefined) throw new UsageError('review list takes only --integration and --code');
    return base;
  }
  if (positionals.length !== 1) throw new UsageError(`review ${sub} needs <decision-id>`);
  if (sub === 'show') {
    if (values.reason !== undefined || values['extra-usd'] !== undefined) throw new UsageError('review show takes only <decision-id>');
    return { ...base, decisionId: positionals[0] };
  }
  const reason = values.reason?.trim();
  if (!reason) throw new UsageError(`review ${sub} needs --reason "…": why, in a sentence, for the audit log`);
  if (sub === 'reject' && values['extra-usd'] !== undefined) throw new UsageError('review reject takes no --extra-usd: nothing is executed');
  let extraUsd: number | undefined;
  if (values['extra-usd'] !== undefined) {
    extraUsd = /^(\d+(\.\d*)?|\.\d+)$/.test(values['extra-usd'].trim()) ? Number(values['extra-usd']) : Number.NaN;
    if (!(extraUsd > 0 && extraUsd <= MAX_EXTRA_USD)) throw new UsageError(`--extra-usd is a positive number of dollars, at most ${MAX_EXTRA_USD}; got "${values['extra-usd']}"`);
  }
  return { ...base, decisionId: positionals[0], reason, extraUsd };
}

/** Receives every message of the review queue, holding each invisible for five minutes. */
async function holdAll(url: string): Promise<Held[]> {
  return holdEvery<ReviewItem>(url);
}

/** Makes held messages visible again, ten at a time. */
async function releaseAll(held: Held[]): Promise<void> {
  for (let i = 0; i < held.length; i += 10) {
    const batch = held.slice(i, i + 10);
    await sqsClient().send(new ChangeMessageVisibilityBatchCommand({
      QueueUrl: batch[0].url, Entries: batch.map((h, n) => ({ Id: String(n), ReceiptHandle: h.receiptHandle, VisibilityTimeout: 0 })),
    }));
  }
}

async function remove(h: Held, consumed: WeakSet<Held>): Promise<void> {
  await sqsClient().send(new DeleteMessageCommand({ QueueUrl: h.url, ReceiptHandle: h.receiptHandle }));
  consumed.add(h);
}

const age = (from: Date, now: Date): string => {
  const s = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86400)}d`;
};

const oneLine = (v: unknown, n = 160): string => {
  const s = (typeof v === 'string' ? v : JSON.stringify(v) ?? '').replace(/\s+/g, ' ');
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
};

function list(held: Held[], now: Date): void {
  if (held.length === 0) {
    console.log('The review queue is empty.');
    return;
  }
  console.log(`${cell('DECISION', 28)} ${cell('INTEGRATION', 20)} ${cell('STAGE', 7)} ${cell('CODE', 25)} ${cell('AGE', 5)} REASON`);
  for (const h of held.sort((a, b) => a.sentAt.getTime() - b.sentAt.getTime())) {
    const i = h.item;
    console.log(`${cell(i.decisionId, 28)} ${cell(i.integration, 20)} ${cell(i.stage, 7)} ${cell(i.code, 25)} ${cell(age(h.sentAt, now), 5)} ${oneLine(i.reason ?? '')}`);
  }
  console.log(`\n${held.length} waiting. \`seamwork review show <decision-id>\` for one; then approve or reject it with --reason.`);
}

async function notFound(decisionId: string, audit: ReturnType<typeof cliAuditStore>): Promise<number> {
  for (const name of Object.keys(INTEGRATIONS)) {
    const records = await audit.listDecision(name, decisionId);
    if (records.length === 0) continue;
    const last = summariseDecision(records);
    const tail = records.sort((a, b) => a.seq - b.seq).at(-1)!;
    console.error(`No review item for decision ${decisionId}: it is not in the review queue. Its audit chain ends with ${tail.kind} at ${tail.at}${last.outcome ? ` (outcome ${last.outcome})` : ' (in flight)'}; \`seamwork trace ${decisionId}\` shows why.`);
    return 1;
  }
  console.error(`No review item for decision ${decisionId}, and no audit records for it either: check the id (\`seamwork review list\`).`);
  return 1;
}

async function show(h: Held, records: AuditRecord[], now: Date): Promise<void> {
  const i = h.item;
  const s = summariseDecision(records);
  console.log(`${i.decisionId}   ${i.integration}   in review for ${age(h.sentAt, now)}`);
  console.log(`  stage      ${i.stage}   path ${i.envelope?.path ?? '?'}   tenant ${i.envelope?.tenant ?? '?'}`);
  console.log(`  code       ${i.code}`);
  console.log(`  reason     ${i.reason}`);
  const worst = refusedWorstCaseUsd(i, records);
  if (worst !== undefined) console.log(`  cost       worst case $${worst.toFixed(6)}: refused before the model was called`);
  if (s.decision) {
    for (const [k, v] of Object.entries(s.decision)) console.log(`  proposed   ${cell(k, 20)} ${oneLine(v, 200)}`);
  } else {
    console.log('  proposed   nothing yet: no model answer is on record for this decision');
  }
  for (const c of s.checks) console.log(`  check      ${cell(c.check, 20)} ${cell(c.verdict, 10)} ${c.detail}`);
  const plan = planApproval(i, getIntegration(i.integration), { approvedBy: 'you', reason: '(your reason)', at: now, extraUsd: i.code === 'COST_CAP_EXCEEDED' ? worst : undefined }, records);
  if (plan.verdict === 'approve') console.log(`  approve    ${plan.why}${i.code === 'COST_CAP_EXCEEDED' && worst !== undefined ? ` (--extra-usd ${Number(worst.toFixed(6))} covers any cap)` : ''}`);
  else console.log(`  approve    ${plan.usage ? 'needs ' : 'not possible: '}${plan.why}`);
  console.log('  reject     closes it: nothing is executed; the outcome stays review, with who rejected it and why in the audit log');
  console.log(`  trace      npm run seamwork -- trace ${i.decisionId}`);
}

async function approve(copies: Held[], opts: ReviewOptions, audit: ReturnType<typeof cliAuditStore>, consumed: WeakSet<Held>, now: Date): Promise<number> {
  const sender = new SqsQueueSender({ infer: process.env[ENV.queueUrl('infer')]!, verify: process.env[ENV.queueUrl('verify')]! }, process.env[ENV.PAYLOAD_BUCKET]);
  const by = safeUser();
  let code = 0;
  for (const h of copies) {
    const i = h.item;
    // Held for five more minutes from now, so it cannot reappear while it is being handled.
    await sqsClient().send(new ChangeMessageVisibilityCommand({ QueueUrl: h.url, ReceiptHandle: h.receiptHandle, VisibilityTimeout: 300 }));
    const records = await audit.listDecision(i.integration, i.decisionId);
    const state = copyState(i, records, now);
    if (state.state === 'rejected') {
      await remove(h, consumed);
      console.error(`${i.decisionId}: rejected by ${state.record.data.rejectedBy} at ${state.record.at}; it cannot be approved. Removed this stale copy.`);
      code = 1;
      continue;
    }
    if (state.state === 'moved-on') {
      await remove(h, consumed);
      console.log(`${i.decisionId}: already handled (its audit chain went on to ${state.kinds.join(', ')}); removed this stale copy, sent nothing.`);
      continue;
    }
    if (state.state === 'approved-pending') {
      // Only an approval follows: a run stopped after writing it, before or after sending. If
      // nothing picked the decision up in 15 minutes, the send did not happen: send it now, as
      // that record says (not a second approval).
      if (state.ageMinutes < STALE_APPROVAL_MINUTES) {
        console.log(`${i.decisionId}: approved by ${state.record.data.approvedBy} ${Math.round(state.ageMinutes)} min ago and not picked up yet; run again after ${STALE_APPROVAL_MINUTES} min if it stays.`);
        continue;
      }
      const envelope = resumeApproval(i, state.record);
      await sender.send(envelope.stage, envelope);
      await remove(h, consumed);
      console.log(`${i.decisionId}: completed ${state.record.data.approvedBy}'s approval of ${state.record.at}, recorded but never delivered → ${envelope.stage} (this run's --reason and --extra-usd were not used).`);
      continue;
    }
    const plan = planApproval(i, getIntegration(i.integration), { approvedBy: by, reason: opts.reason!, extraUsd: opts.extraUsd, at: now }, records);
    if (plan.verdict === 'refuse') {
      if (plan.usage) throw new UsageError(`${i.decisionId} (${i.code}): ${plan.why}`);
      console.error(`${i.decisionId}: cannot approve: ${plan.why}`);
      code = 1;
      continue;
    }
    const { record, envelope } = approvalRecord(i, plan, now);
    await audit.append(record);
    await sender.send(plan.to, envelope);
    await remove(h, consumed);
    console.log(`${i.decisionId}: approved by ${by} → ${plan.to}. ${plan.why}`);
    if (plan.warning) console.log(`  warning: ${plan.warning}`);
    console.log(`  follow it with \`npm run seamwork -- trace ${i.decisionId}\``);
  }
  return code;
}

async function reject(copies: Held[], opts: ReviewOptions, audit: ReturnType<typeof cliAuditStore>, consumed: WeakSet<Held>, now: Date): Promise<number> {
  const by = safeUser();
  let code = 0;
  for (const h of copies) {
    const i = h.item;
    await sqsClient().send(new ChangeMessageVisibilityCommand({ QueueUrl: h.url, ReceiptHandle: h.receiptHandle, VisibilityTimeout: 300 }));
    const state = copyState(i, await audit.listDecision(i.integration, i.decisionId), now);
    if (state.state === 'rejected') {
      await remove(h, consumed);
      console.log(`${i.decisionId}: already rejected by ${state.record.data.rejectedBy} at ${state.record.at}; removed this stale copy.`);
      continue;
    }
    if (state.state === 'approved-pending') {
      // The approval is on record and may not have been delivered yet: this copy is what delivers it.
      console.error(`${i.decisionId}: approved by ${state.record.data.approvedBy} at ${state.record.at}, which is on record and cannot be undone; run \`seamwork review approve ${i.decisionId} --reason …\` to complete it if it was never picked up.`);
      code = 1;
      continue;
    }
    if (state.state === 'moved-on') {
      await remove(h, consumed);
      console.error(`${i.decisionId}: already handled (its audit chain went on to ${state.kinds.join(', ')}); nothing to reject. Removed this stale copy.`);
      code = 1;
      continue;
    }
    await audit.append(rejectionRecord(i, by, opts.reason!, now));
    await remove(h, consumed);
    console.log(`${i.decisionId}: rejected by ${by}. Nothing was executed; its outcome stays review, with the rejection in its audit chain.`);
  }
  return code;
}

/** Who approved or rejected, for the audit record; never fails the command. */
function safeUser(): string {
  try {
    return process.env.SEAMWORK_OPERATOR ?? userInfo().username;
  } catch (err) {
    console.error(`seamwork: could not tell who you are (${(err as Error).message}); recording "unknown". Set SEAMWORK_OPERATOR.`);
    return 'unknown';
  }
}
