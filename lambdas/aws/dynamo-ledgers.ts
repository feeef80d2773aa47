import { createHash, randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SeamworkError } from '../core/errors.js';
import type { ActionLedger, ActionState, ActionTake, StageClaim, StageCommit, StageLedger } from '../core/ports.js';
import { RETENTION_SECONDS } from '../core/time-budgets.js';
import { dynamoClient, s3Client } from './clients.js';

/**
 * The stage and action ledgers on the idempotency table. Keys carry an explicit, versioned prefix
 * (`seamwork/v1/…`), never a function name, so replacing a function (a deploy) keeps every key:
 * a redrive after a deploy finds the same records and runs nothing twice. Items live as long as a
 * message can (4 days queued + 14 in a DLQ); expiry is compared in code, TTL only cleans up.
 */

const epoch = (d: Date) => Math.floor(d.getTime() / 1000);
const isConditionFailure = (err: unknown) => err instanceof ConditionalCheckFailedException || (err as Error)?.name === 'ConditionalCheckFailedException';
const storeError = (what: string, err: unknown) => new SeamworkError('STORE_UNAVAILABLE', `${what}: ${(err as Error).message}`, true, { cause: err });

/** DynamoDB items hold 400 KB; a commit (records + messages) is kept gzipped well below that. */
const MAX_COMMIT_BYTES = 350 * 1024;

const pack = (value: unknown): string => gzipSync(Buffer.from(JSON.stringify(value), 'utf8')).toString('base64');
const unpack = <T>(text: string): T => JSON.parse(gunzipSync(Buffer.from(text, 'base64')).toString('utf8')) as T;

/** The steps kept on a stage item. */
function memoOf(item: Record<string, unknown> | undefined): Record<string, unknown> {
  const memo = (item?.memo ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(memo).map(([k, v]) => [k, unpack(v)]));
}

/** Options of {@link DynamoStageLedger}. */
export interface DynamoStageLedgerOptions {
  /**
   * Where a commit too large for a DynamoDB item goes (a webhook body near the 256 KiB limit is in
   * its commit twice: sealed in the record, as text in the message). @default none: such a commit is refused
   */
  payloadBucket?: string;
}

/**
 * The stage ledger on DynamoDB: conditional writes on one item per (decision, stage, position).
 * Every conditional write carries this delivery's token and, when its condition fails, the item
 * is read back: a write the SDK retried after it had in fact been applied is recognised as ours.
 */
export class DynamoStageLedger implements StageLedger {
  constructor(private readonly table: string, private readonly options: DynamoStageLedgerOptions = {}) {}

  private pk = (key: string) => `seamwork/v1/stage#${key}`;

  async claim(key: string, opts: { leaseSeconds: number; now: Date }): Promise<StageClaim> {
    const token = randomUUID();
    const now = opts.now.getTime();
    try {
      const res = await dynamoClient().send(new UpdateCommand({
        TableName: this.table, Key: { pk: this.pk(key) },
        UpdateExpression: 'SET #token = :token, leaseUntil = :lease, claims = if_not_exists(claims, :zero) + :one, expiresAt = if_not_exists(expiresAt, :exp)',
        // Free, or held by a lease that ran out (its holder crashed or timed out); never once committed.
        ConditionExpression: 'attribute_not_exists(#commit) AND (attribute_not_exists(#token) OR leaseUntil < :now)',
        ExpressionAttributeNames: { '#token': 'token', '#commit': 'commit' },
        ExpressionAttributeValues: { ':token': token, ':lease': now + opts.leaseSeconds * 1000, ':now': now, ':zero': 0, ':one': 1, ':exp': epoch(opts.now) + RETENTION_SECONDS },
        ReturnValues: 'ALL_NEW',
      }));
      return { kind: 'claimed', token, memo: memoOf(res.Attributes) };
    } catch (err) {
      if (!isConditionFailure(err)) throw storeError(`Stage claim of ${key} failed`, err);
    }
    const item = await this.get(key);
    if (!item?.commit) {
      if (item?.token === token) return { kind: 'claimed', token, memo: memoOf(item) };
      return { kind: 'busy', leaseUntil: Number(item?.leaseUntil ?? now) };
    }
    const commit = await this.commitOf(key, item);
    if (item.handedOn === true || Number(item.leaseUntil ?? 0) > now) return { kind: 'completed', commit, handedOn: item.handedOn === true };
    // The delivery that committed died (or gave up) before applying it all: take the applying over, once.
    try {
      await dynamoClient().send(new UpdateCommand({
        TableName: this.table, Key: { pk: this.pk(key) }, UpdateExpression: 'SET #token = :token, leaseUntil = :lease',
        ConditionExpression: 'handedOn = :f AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
        ExpressionAttributeNames: { '#token': 'token' }, ExpressionAttributeValues: { ':token': token, ':lease': now + opts.leaseSeconds * 1000, ':now': now, ':f': false },
      }));
      return { kind: 'completed', commit, handedOn: false, applyToken: token };
    } catch (err) {
      if (!isConditionFailure(err)) throw storeError(`Stage apply claim of ${key} failed`, err);
      const again = await this.get(key);
      return again?.token === token ? { kind: 'completed', commit, handedOn: false, applyToken: token } : { kind: 'completed', commit, handedOn: again?.handedOn === true };
    }
  }

  private async commitOf(key: string, item: Record<string, unknown>): Promise<StageCommit> {
    const ref = item.commitRef as { bucket: string; key: string } | undefined;
    if (!ref) return unpack<StageCommit>(String(item.commit));
    try {
      const res = await s3Client().send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
      return unpack<StageCommit>(await res.Body!.transformToString('utf8'));
    } catch (err) {
      throw storeError(`Reading the commit of ${key} from s3://${ref.bucket}/${ref.key} failed`, err);
    }
  }

  async remember(key: string, token: string, step: string, value: unknown): Promise<void> {
    try {
      await dynamoClient().send(new UpdateCommand({
        TableName: this.table, Key: { pk: this.pk(key) },
        UpdateExpression: 'SET memo = if_not_exists(memo, :empty)', ExpressionAttributeValues: { ':empty': {} },
      }));
      await dynamoClient().send(new UpdateCommand({
        TableName: this.table, Key: { pk: this.pk(key) }, UpdateExpression: 'SET memo.#step = :v', ConditionExpression: '#token = :token',
        ExpressionAttributeNames: { '#step': step, '#token': 'token' }, ExpressionAttributeValues: { ':v': pack(value), ':token': token },
      }));
    } catch (err) {
      // Losing the lease means another delivery runs the stage: it will not see this step.
      if (isConditionFailure(err)) return;
      throw storeError(`Stage memo ${step} of ${key} failed`, err);
    }
  }

  async complete(key: string, token: string, commit: StageCommit): Promise<boolean> {
    const packed = pack(commit);
    let stored: { commit: string; commitRef?: { bucket: string; key: string } } = { commit: packed };
    if (packed.length > MAX_COMMIT_BYTES) {
      const bucket = this.options.payloadBucket;
      if (!bucket) throw new SeamworkError('COMMIT_TOO_LARGE', `The stage's commit for ${key} is ${packed.length} bytes packed, over the ${MAX_COMMIT_BYTES} a ledger item holds, and no payload bucket is configured.`, false);
      const ref = { bucket, key: `payloads/stage-commits/${createHash('sha256').update(key).digest('hex')}/${token}.gz` };
      try {
        await s3Client().send(new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: packed, ContentType: 'application/octet-stream' }));
      } catch (err) {
        throw storeError(`Storing the commit of ${key} in s3://${ref.bucket}/${ref.key} failed`, err);
      }
      stored = { commit: 'ref', commitRef: ref };
    }
    try {
      await dynamoClient().send(new UpdateCommand({
        TableName: this.table, Key: { pk: this.pk(key) },
        // The lease stays: it now covers applying the commit (a redelivery meanwhile leaves that to this delivery).
        UpdateExpression: `SET #commit = :c, handedOn = :f, committedBy = :token${stored.commitRef ? ', commitRef = :ref' : ''} REMOVE memo`,
        ConditionExpression: '#token = :token AND attribute_not_exists(#commit)',
        ExpressionAttributeNames: { '#commit': 'commit', '#token': 'token' },
        ExpressionAttributeValues: { ':c': stored.commit, ':f': false, ':token': token, ...(stored.commitRef ? { ':ref': stored.commitRef } : {}) },
      }));
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw storeError(`Stage commit of ${key} failed`, err);
      // A retry of a write that had been applied fails its own condition: the commit is ours all the same.
      return (await this.get(key))?.committedBy === token;
    }
  }

  async release(key: string, token: string): Promise<void> {
    try {
      await dynamoClient().send(new UpdateCommand({
        TableName: this.table, Key: { pk: this.pk(key) }, UpdateExpression: 'REMOVE #token, leaseUntil', ConditionExpression: '#token = :token',
        ExpressionAttributeNames: { '#token': 'token' }, ExpressionAttributeValues: { ':token': token },
      }));
    } catch (err) {
      if (isConditionFailure(err)) return;
      throw storeError(`Stage release of ${key} failed`, err);
    }
  }

  async markHandedOn(key: string): Promise<void> {
    try {
      await dynamoClient().send(new UpdateCommand({ TableName: this.table, Key: { pk: this.pk(key) }, UpdateExpression: 'SET handedOn = :t REMOVE #token, leaseUntil', ExpressionAttributeNames: { '#token': 'token' }, ExpressionAttributeValues: { ':t': true } }));
    } catch (err) {
      throw storeError(`Marking ${key} handed on failed`, err);
    }
  }

  private async get(key: string): Promise<Record<string, unknown> | undefined> {
    try {
      return (await dynamoClient().send(new GetCommand({ TableName: this.table, Key: { pk: this.pk(key) }, ConsistentRead: true }))).Item;
    } catch (err) {
      throw storeError(`Reading stage ${key} failed`, err);
    }
  }
}

/** The action ledger on DynamoDB: one item per (decision, action). */
export class DynamoActionLedger implements ActionLedger {
  constructor(private readonly table: string) {}

  private pk = (key: string) => `seamwork/v1/action#${key}`;

  async get(key: string): Promise<ActionState> {
    let item: Record<string, unknown> | undefined;
    try {
      item = (await dynamoClient().send(new GetCommand({ TableName: this.table, Key: { pk: this.pk(key) }, ConsistentRead: true }))).Item;
    } catch (err) {
      throw storeError(`Reading action ${key} failed`, err);
    }
    if (!item) return { state: 'none' };
    if (item.state === 'done') return { state: 'done', at: String(item.at), response: unpack(String(item.response)), via: item.via === 'reconciled' ? 'reconciled' : 'executed' };
    return { state: 'sending', firstAt: String(item.firstAt), attempts: Number(item.attempts ?? 1), leaseUntil: Number(item.leaseUntil ?? 0) };
  }

  async take(key: string, opts: { leaseMs: number; now: Date }): Promise<ActionTake> {
    const token = randomUUID();
    const now = opts.now.getTime();
    try {
      const res = await dynamoClient().send(new UpdateCommand({
        TableName: this.table, Key: { pk: this.pk(key) },
        UpdateExpression: 'SET #state = :sending, firstAt = if_not_exists(firstAt, :at), attempts = if_not_exists(attempts, :zero) + :one, leaseUntil = :lease, #token = :token, expiresAt = :exp',
        ConditionExpression: 'attribute_not_exists(#state) OR (#state = :sending AND leaseUntil < :now)',
        ExpressionAttributeNames: { '#state': 'state', '#token': 'token' },
        ExpressionAttributeValues: {
          ':sending': 'sending', ':at': opts.now.toISOString(), ':zero': 0, ':one': 1, ':lease': now + opts.leaseMs, ':token': token, ':now': now, ':exp': epoch(opts.now) + RETENTION_SECONDS,
        },
        ReturnValues: 'ALL_NEW',
      }));
      const attempts = Number(res.Attributes?.attempts ?? 1);
      return attempts > 1 ? { ok: true, token, unknown: true, firstAt: String(res.Attributes?.firstAt) } : { ok: true, token, unknown: false };
    } catch (err) {
      if (!isConditionFailure(err)) throw storeError(`Taking action ${key} failed`, err);
      const item = (await dynamoClient().send(new GetCommand({ TableName: this.table, Key: { pk: this.pk(key) }, ConsistentRead: true }))).Item;
      // The SDK retried a take that had been applied: it is ours.
      if (item?.token === token && item.state === 'sending') {
        return Number(item.attempts ?? 1) > 1 ? { ok: true, token, unknown: true, firstAt: String(item.firstAt) } : { ok: true, token, unknown: false };
      }
      return { ok: false, state: await this.get(key) };
    }
  }

  async release(key: string, token: string): Promise<void> {
    try {
      await dynamoClient().send(new UpdateCommand({
        TableName: this.table, Key: { pk: this.pk(key) }, UpdateExpression: 'SET leaseUntil = :zero REMOVE #token', ConditionExpression: '#token = :token',
        ExpressionAttributeNames: { '#token': 'token' }, ExpressionAttributeValues: { ':zero': 0, ':token': token },
      }));
    } catch (err) {
      if (isConditionFailure(err)) return;
      throw storeError(`Releasing action ${key} failed`, err);
    }
  }

  async forget(key: string, token: string): Promise<void> {
    try {
      await dynamoClient().send(new DeleteCommand({
        TableName: this.table, Key: { pk: this.pk(key) }, ConditionExpression: '#token = :token AND #state = :sending',
        ExpressionAttributeNames: { '#token': 'token', '#state': 'state' }, ExpressionAttributeValues: { ':token': token, ':sending': 'sending' },
      }));
    } catch (err) {
      if (isConditionFailure(err)) return;
      throw storeError(`Forgetting action ${key} failed`, err);
    }
  }

  async done(key: string, response: Record<string, unknown>, via: 'executed' | 'reconciled', now: Date): Promise<void> {
    try {
      await dynamoClient().send(new PutCommand({
        TableName: this.table, Item: { pk: this.pk(key), state: 'done', at: now.toISOString(), response: pack(response), via, expiresAt: epoch(now) + RETENTION_SECONDS },
      }));
    } catch (err) {
      throw storeError(`Recording action ${key} as done failed`, err);
    }
  }
}
