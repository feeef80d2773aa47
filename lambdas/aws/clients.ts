import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * AWS SDK clients, created once per process. Endpoints come from the SDK's standard
 * `AWS_ENDPOINT_URL_*` settings, so the same code talks to AWS or to the local emulators.
 */
let sqs: SQSClient | undefined;
let s3: S3Client | undefined;
let ddb: DynamoDBDocumentClient | undefined;

/** SQS client. Queue URLs are not used as endpoints: local emulators hand out unresolvable hosts. */
export function sqsClient(): SQSClient {
  return (sqs ??= new SQSClient({ useQueueUrlAsEndpoint: false }));
}

/** S3 client; path-style when an endpoint override is set (emulators have no virtual hosts). */
export function s3Client(): S3Client {
  return (s3 ??= new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL) }));
}

/** DynamoDB document client. */
export function dynamoClient(): DynamoDBDocumentClient {
  return (ddb ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }));
}

/** Drops cached clients (the local stack restarts emulators between runs). */
export function resetClients(): void {
  sqs?.destroy();
  s3?.destroy();
  ddb?.destroy();
  sqs = s3 = ddb = undefined;
}
