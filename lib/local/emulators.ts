import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { ENV } from '../../lambdas/core/config-keys.js';
import {
  BUCKETS, QUEUES, TABLES, dlqName, queueSettings,
  type BucketName, type QueueName, type TableName,
} from '../topology.js';

/** Region every local resource lives in. */
export const LOCAL_REGION = 'us-east-1';

/** Dummy credentials: the emulators accept any, the SDK insists on some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;


export { queueSettings };

/** Physical name of a table or bucket, the same scheme as in AWS: `seamwork-<name>`. */
export const resourceName = (name: TableName | BucketName): string => `seamwork-${name}`;

/** Options for {@link startEmulators}. */
export interface EmulatorsOptions {
  /** Keep DynamoDB data in this directory between runs. SQS and S3 (fauxqs) are memory only. @default in memory */
  dataDir?: string;
  /** Override every queue's visibility timeout, so redelivery tests do not wait a minute. @default from the topology */
  visibilityTimeoutSeconds?: number;
}

/** The running emulators and what a handler needs to reach them. */
export interface Emulators {
  endpoints: { sqs: string; s3: string; dynamodb: string };
  /** Every environment variable the handlers read for AWS resources, plus the SDK's endpoint and credential settings. */
  env: Record<string, string>;
  queueUrls: Record<QueueName, { url: string; arn: string; dlqUrl: string; dlqArn: string }>;
  tables: Record<TableName, string>;
  buckets: Record<BucketName, string>;
  stop(): Promise<void>;
}

/** A failure to start or populate the emulators; `cause` holds the underlying error. */
export class EmulatorStartFailed extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EmulatorStartFailed';
  }
}

interface DynaliteOptions { path?: string; createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }
const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: DynaliteOptions) => Server;

/**
 * Starts fauxqs (SQS + S3) and dynalite (DynamoDB) in this process on free ports and creates
 * every queue (with its DLQ and redrive policy), table and bucket the topology declares.
 */
export async function startEmulators(opts: EmulatorsOptions = {}): Promise<Emulators> {
  const fauxqs = await startFauxqs({ port: 0, logger: false });
  let dynamo: Server | undefined;
  try {
    dynamo = await listenDynalite(opts.dataDir);
    const endpoints = {
      sqs: `http://127.0.0.1:${fauxqs.port}`,
      s3: `http://127.0.0.1:${fauxqs.port}`,
      dynamodb: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`,
    };
    const clientConfig = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const sqs = new SQSClient({ ...clientConfig, endpoint: endpoints.sqs, useQueueUrlAsEndpoint: false });
    const s3 = new S3Client({ ...clientConfig, endpoint: endpoints.s3, forcePathStyle: true });
    const ddb = new DynamoDBClient({ ...clientConfig, endpoint: endpoints.dynamodb });
    try {
      const [queueUrls, tables, buckets] = await Promise.all([
        createQueues(sqs, opts.visibilityTimeoutSeconds),
        createTables(ddb),
        createBuckets(s3),
      ]);
      const env = buildEnv(endpoints, queueUrls, tables, buckets);
      const dynamoServer = dynamo;
      return {
        endpoints, env, queueUrls, tables, buckets,
        stop: async () => {
          await Promise.all([fauxqs.stop(), closeServer(dynamoServer)]);
        },
      };
    } finally {
      sqs.destroy();
      s3.destroy();
      ddb.destroy();
    }
  } catch (error) {
    await stopQuietly(fauxqs, dynamo);
    throw new EmulatorStartFailed(`local emulators failed to start: ${(error as Error).message}`, { cause: error });
  }
}

async function listenDynalite(dataDir: string | undefined): Promise<Server> {
  let path: string | undefined;
  if (dataDir !== undefined) {
    path = join(dataDir, 'dynamodb');
    mkdirSync(path, { recursive: true });
  }
  // Tables ACTIVE at once: the 500 ms CREATING state only slows the local stack down.
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

async function createQueues(sqs: SQSClient, visibilityOverride: number | undefined): Promise<Emulators['queueUrls']> {
  const entries = await Promise.all(QUEUES.map(async (queue) => {
    const settings = queueSettings(queue);
    const visibility = String(visibilityOverride ?? settings.visibilityTimeoutSeconds);
    const dlq = await createQueue(sqs, dlqName(queue), { VisibilityTimeout: visibility, MessageRetentionPeriod: '1209600' });
    const main = await createQueue(sqs, queue, {
      VisibilityTimeout: visibility,
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: settings.maxReceiveCount }),
    });
    return [queue, { url: main.url, arn: main.arn, dlqUrl: dlq.url, dlqArn: dlq.arn }] as const;
  }));
  return Object.fromEntries(entries) as Emulators['queueUrls'];
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = created.QueueUrl;
  if (!url) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = attrs.Attributes?.QueueArn;
  if (!arn) throw new Error(`GetQueueAttributes ${name} returned no QueueArn`);
  return { url, arn };
}

async function createTables(ddb: DynamoDBClient): Promise<Record<TableName, string>> {
  const names = Object.keys(TABLES) as TableName[];
  await Promise.all(names.map(async (name) => {
    try {
      await ddb.send(new CreateTableCommand({
        TableName: resourceName(name),
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, ...(TABLES[name].sortKey ? [{ AttributeName: 'sk', AttributeType: 'S' as const }] : [])],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, ...(TABLES[name].sortKey ? [{ AttributeName: 'sk', KeyType: 'RANGE' as const }] : [])],
        BillingMode: 'PAY_PER_REQUEST',
      }));
    } catch (error) {
      // A persistent dataDir keeps tables from the last run; that is the point of it.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }));
  return Object.fromEntries(names.map((name) => [name, resourceName(name)])) as Record<TableName, string>;
}

async function createBuckets(s3: S3Client): Promise<Record<BucketName, string>> {
  const names = Object.keys(BUCKETS) as BucketName[];
  await Promise.all(names.map((name) => s3.send(new CreateBucketCommand({ Bucket: resourceName(name) }))));
  return Object.fromEntries(names.map((name) => [name, resourceName(name)])) as Record<BucketName, string>;
}

function buildEnv(
  endpoints: Emulators['endpoints'],
  queueUrls: Emulators['queueUrls'],
  tables: Record<TableName, string>,
  buckets: Record<BucketName, string>,
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
  for (const queue of QUEUES) {
    env[ENV.queueUrl(queue)] = queueUrls[queue].url;
    env[ENV.dlqUrl(queue)] = queueUrls[queue].dlqUrl;
  }
  for (const name of Object.keys(TABLES) as TableName[]) env[TABLES[name].envKey] = tables[name];
  for (const name of Object.keys(BUCKETS) as BucketName[]) env[BUCKETS[name].envKey] = buckets[name];
  return env;
}

function closeServer(server: Server): Promise<void> {
  // SDK clients keep sockets alive; without this, close waits for them to time out.
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

async function stopQuietly(fauxqs: FauxqsServer, dynamo: Server | undefined): Promise<void> {
  const results = await Promise.allSettled([fauxqs.stop(), dynamo ? closeServer(dynamo) : Promise.resolve()]);
  for (const result of results) {
    if (result.status === 'rejected') console.error('emulator stop after a failed start also failed:', result.reason);
  }
}
