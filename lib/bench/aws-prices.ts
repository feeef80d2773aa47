/**
 * The AWS price table the aws-requests benchmark multiplies request counts by: us-east-1, first
 * (smallest-volume) tier, no free tier. Each price says when it was checked and where; update the
 * figure, `asOf` and `source` together.
 */

/** One price. */
export interface AwsPrice {
  /** USD per `per` units of `unit`. */
  usd: number;
  per: number;
  unit: string;
  /** Date (YYYY-MM-DD) the figure was checked against the source. */
  asOf: string;
  source: string;
  note?: string;
}

const CHECKED = '2026-11-25';

/** us-east-1 prices used for dollars per million events. */
export const AWS_PRICES = {
  sqsRequest: {
    usd: 0.4, per: 1_000_000, unit: 'SQS standard-queue request (each 64 KB chunk of payload is one request)', asOf: CHECKED,
    source: 'https://aws.amazon.com/sqs/pricing/',
    note: 'First 100 billion requests a month; a batch call of up to 10 messages is one request if it stays within 64 KB.',
  },
  s3Put: {
    usd: 0.005, per: 1_000, unit: 'S3 Standard PUT, COPY, POST or LIST request', asOf: CHECKED,
    source: 'https://aws.amazon.com/s3/pricing/',
  },
  s3Get: {
    usd: 0.0004, per: 1_000, unit: 'S3 Standard GET, SELECT or other request (HEAD included)', asOf: CHECKED,
    source: 'https://aws.amazon.com/s3/pricing/',
  },
  dynamoWrite: {
    usd: 0.625, per: 1_000_000, unit: 'DynamoDB on-demand write request unit (1 KB; transactional writes 2 WRU)', asOf: CHECKED,
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    note: 'Halved from $1.25 on 2024-11-01 (AWS announcement of the on-demand throughput price cut).',
  },
  dynamoRead: {
    usd: 0.125, per: 1_000_000, unit: 'DynamoDB on-demand read request unit (4 KB strongly consistent; eventually consistent 0.5 RRU)', asOf: CHECKED,
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    note: 'Halved from $0.25 on 2024-11-01.',
  },
  apiGatewayHttpRequest: {
    usd: 1.0, per: 1_000_000, unit: 'API Gateway HTTP API request (metered in 512 KB increments)', asOf: CHECKED,
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    note: 'First 300 million requests a month.',
  },
  lambdaRequest: {
    usd: 0.2, per: 1_000_000, unit: 'Lambda invocation', asOf: CHECKED,
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  lambdaGbSecondArm: {
    usd: 0.0000133334, per: 1, unit: 'Lambda GB-second, arm64 (billed per 1 ms)', asOf: CHECKED,
    source: 'https://aws.amazon.com/lambda/pricing/',
    note: 'First 7.5 billion GB-s a month.',
  },
  cloudWatchLogsIngest: {
    usd: 0.5, per: 1, unit: 'GB of CloudWatch Logs ingested (standard class; EMF metric documents are log lines)', asOf: CHECKED,
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    note: 'Not in the per-event figure: it depends on log level and metric dimensions rather than on requests.',
  },
} as const satisfies Record<string, AwsPrice>;

/** Dollars for `count` units at `price`. */
export function costUsd(price: AwsPrice, count: number): number {
  return (count * price.usd) / price.per;
}
