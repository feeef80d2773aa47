import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetQueueAttributesCommand, ListQueuesCommand, ReceiveMessageCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ConditionalCheckFailedException, DescribeTableCommand, DynamoDBClient, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ENV } from '../../lambdas/core/config-keys.js';
import { BUCKETS, QUEUES, REVIEW_SPEC, STAGE_SPECS, TABLES, dlqName, queueSettings } from '../../lib/topology.js';
import { startEmulators, type Emulators } from '../../lib/local/emulators.js';

describe('startEmulators', () => {
  let emulators: Emulators;
  const savedEnv = { ...process.env };
  // Clients built exactly as the handlers build them: from the environment alone.
  let sqs: SQSClient;
  let s3: S3Client;
  let ddb: DynamoDBClient;

  beforeAll(async () => {
    emulators = await startEmulators();
    Object.assign(process.env, emulators.env);
    sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    s3 = new S3Client({ forcePathStyle: true });
    ddb = new DynamoDBClient({});
  });

  afterAll(async () => {
    sqs?.destroy(); s3?.destroy(); ddb?.destroy();
    await emulators?.stop();
    process.env = savedEnv;
  });

  it('creates every queue of the topology with its DLQ', async () => {
    const out = await sqs.send(new ListQueuesCommand({}));
    const names = (out.QueueUrls ?? []).map((url) => url.split('/').pop()).sort();
    const expected = QUEUES.flatMap((q) => [q, dlqName(q)]).sort();
    expect(names).toEqual(expected);
  });

  it('gives each queue the redrive policy and visibility timeout of its stage', async () => {
    for (const queue of QUEUES) {
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({
        QueueUrl: emulators.queueUrls[queue].url, AttributeNames: ['All'],
      }));
      const redrive = JSON.parse(Attributes?.RedrivePolicy ?? '{}');
      expect(redrive.deadLetterTargetArn, queue).toBe(emulators.queueUrls[queue].dlqArn);
      const settings = queueSettings(queue);
      const expected = { maxReceiveCount: settings.maxReceiveCount, visibility: String(settings.visibilityTimeoutSeconds) };
      expect(Number(redrive.maxReceiveCount), queue).toBe(expected.maxReceiveCount);
      expect(Attributes?.VisibilityTimeout, queue).toBe(expected.visibility);
    }
  });

  it('puts every queue, DLQ, table and bucket name in the environment', () => {
    for (const queue of QUEUES) {
      expect(emulators.env[ENV.queueUrl(queue)]).toBe(emulators.queueUrls[queue].url);
      expect(emulators.env[ENV.dlqUrl(queue)]).toBe(emulators.queueUrls[queue].dlqUrl);
    }
    for (const table of Object.values(TABLES)) expect(emulators.env[table.envKey]).toMatch(/^seamwork-/);
    for (const bucket of Object.values(BUCKETS)) expect(emulators.env[bucket.envKey]).toMatch(/^seamwork-/);
  });

  it('reaches a queue whose URL host does not resolve, with useQueueUrlAsEndpoint off', async () => {
    const queueUrl = emulators.env[ENV.queueUrl('validate')];
    expect(new URL(queueUrl).hostname).toBe('sqs.us-east-1.localhost');
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'hello' }));
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    expect(out.Messages?.map((m) => m.Body)).toEqual(['hello']);
  });

  it('creates every table with a string pk hash key, on demand', async () => {
    const { TableNames } = await ddb.send(new ListTablesCommand({}));
    expect([...(TableNames ?? [])].sort()).toEqual(Object.values(TABLES).map((t) => emulators.env[t.envKey]).sort());
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: emulators.env[ENV.TABLE_DEDUPE] }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(Table?.AttributeDefinitions).toEqual([{ AttributeName: 'pk', AttributeType: 'S' }]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('rejects a duplicate conditional put', async () => {
    const put = () => ddb.send(new PutItemCommand({
      TableName: emulators.env[ENV.TABLE_DEDUPE],
      Item: { pk: { S: 'zendesk#evt-1' } },
      ConditionExpression: 'attribute_not_exists(pk)',
    }));
    await put();
    await expect(put()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it('creates every bucket and round-trips an object', async () => {
    const { Buckets } = await s3.send(new ListBucketsCommand({}));
    expect((Buckets ?? []).map((b) => b.Name).sort()).toEqual(Object.values(BUCKETS).map((b) => emulators.env[b.envKey]).sort());
    const Bucket = emulators.env[ENV.PAYLOAD_BUCKET];
    await s3.send(new PutObjectCommand({ Bucket, Key: 'a/b.json', Body: '{"x":1}', ContentType: 'application/json' }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'a/b.json' }));
    expect(await got.Body?.transformToString()).toBe('{"x":1}');
  });

  it('round-trips an object without forcePathStyle too, since the endpoint is an IP address', async () => {
    const plain = new S3Client({});
    try {
      const Bucket = emulators.env[ENV.AUDIT_BUCKET];
      await plain.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'v' }));
      const got = await plain.send(new GetObjectCommand({ Bucket, Key: 'k' }));
      expect(await got.Body?.transformToString()).toBe('v');
    } finally {
      plain.destroy();
    }
  });
});

describe('startEmulators with a dataDir', () => {
  it('keeps DynamoDB items across a restart', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
    const dataDir = mkdtempSync(join(tmpdir(), 'seamwork-emulators-'));
    const clientFor = (e: Emulators) => new DynamoDBClient({
      region: 'us-east-1', endpoint: e.endpoints.dynamodb, credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const first = await startEmulators({ dataDir });
      const c1 = clientFor(first);
      await c1.send(new PutItemCommand({ TableName: first.tables.ledger, Item: { pk: { S: 'tenant#1' }, spent: { N: '7' } } }));
      c1.destroy();
      await first.stop();

      const second = await startEmulators({ dataDir });
      const c2 = clientFor(second);
      const got = await c2.send(new GetItemCommand({ TableName: second.tables.ledger, Key: { pk: { S: 'tenant#1' } } }));
      c2.destroy();
      await second.stop();

      expect(got.Item?.spent).toEqual({ N: '7' });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
