import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Props of {@link SeamworkQueue}. */
export interface SeamworkQueueProps {
  /** Seconds a received message stays invisible; longer than the consumer's timeout. */
  readonly visibilityTimeoutSeconds: number;
  /** Deliveries before SQS moves a message to the DLQ. */
  readonly maxReceiveCount: number;
  /**
   * How long a message may wait in the DLQ for someone to look at it.
   * @default Duration.days(14) (the SQS maximum)
   */
  readonly dlqRetention?: Duration;
  /**
   * How long an unprocessed message stays in the main queue.
   * @default Duration.days(4)
   */
  readonly retention?: Duration;
}

/**
 * A topology queue and its DLQ: SSE (SQS-managed keys), TLS only, redrive after
 * `maxReceiveCount` deliveries. Nothing accepted is lost: what the stage cannot finish
 * lands in the DLQ, where an alarm sees it.
 */
export class SeamworkQueue extends Construct {
  /** The main queue. */
  public readonly queue: sqs.Queue;
  /** Its dead-letter queue. */
  public readonly dlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: SeamworkQueueProps) {
    super(scope, id);

    this.dlq = new sqs.Queue(this, 'Dlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.dlqRetention ?? Duration.days(14),
    });

    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.visibilityTimeoutSeconds),
      retentionPeriod: props.retention ?? Duration.days(4),
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
