import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/core/config-keys.js';
import type { StageSpec } from '../topology.js';
import { SeamworkFunction } from './seamwork-function.js';
import { SeamworkQueue } from './seamwork-queue.js';

/** Props of {@link StageFunction}. */
export interface StageFunctionProps {
  /** The stage's entry in `STAGE_SPECS`: entry file, timeouts, batch size, redrive count. */
  readonly spec: StageSpec;
  /**
   * Extra environment variables (queue URLs it sends to, table names, buckets, flags URL…).
   * The stage's own DLQ URL and max receive count are always set.
   * @default - none beyond those
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Lambda layers.
   * @default - no layers
   */
  readonly layers?: lambda.ILayerVersion[];
  /**
   * Log retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Maximum number of concurrent function instances the SQS event source may invoke.
   * @default - no limit
   */
  readonly maxConcurrency?: number;
}

/**
 * A queue stage, in the shape of AWS Solutions Constructs' aws-sqs-lambda: a queue with its
 * DLQ feeding a function through an SQS event source with partial batch responses. The
 * function may send to its own DLQ (to park a non-retryable message with a reason); every
 * other permission is granted by the stack.
 */
export class StageFunction extends Construct {
  /** The queue that feeds the stage. */
  public readonly queue: sqs.Queue;
  /** The stage's dead-letter queue. */
  public readonly dlq: sqs.Queue;
  /** The stage's function. */
  public readonly fn: NodejsFunction;
  /** The function's role. */
  public readonly role: iam.Role;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: StageFunctionProps) {
    super(scope, id);
    const { spec } = props;

    const queues = new SeamworkQueue(this, 'Queues', {
      visibilityTimeoutSeconds: spec.visibilityTimeoutSeconds,
      maxReceiveCount: spec.maxReceiveCount,
    });
    this.queue = queues.queue;
    this.dlq = queues.dlq;

    const fn = new SeamworkFunction(this, 'Handler', {
      stage: spec.stage,
      entry: spec.entry,
      timeoutSeconds: spec.timeoutSeconds,
      memoryMb: spec.memoryMb,
      layers: props.layers,
      logRetention: props.logRetention,
      environment: {
        [ENV.dlqUrl(spec.stage)]: this.dlq.queueUrl,
        [ENV.maxReceiveCount(spec.stage)]: String(spec.maxReceiveCount),
        ...props.environment,
      },
    });
    this.fn = fn.fn;
    this.role = fn.role;
    this.logGroup = fn.logGroup;

    this.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: spec.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );

    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ParkInOwnDlq',
        actions: ['sqs:SendMessage'],
        resources: [this.dlq.queueArn],
      }),
    );
  }
}
