import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Props of {@link AuditBucket}. */
export interface AuditBucketProps {
  /**
   * Days every audit record is locked in COMPLIANCE mode: nobody, root included, can
   * overwrite or delete it before then.
   * @default 365
   */
  readonly retentionDays?: number;
  /**
   * Bucket that receives the audit bucket's server access logs.
   * @default - a new logs bucket is created
   */
  readonly accessLogsBucket?: s3.IBucket;
}

/**
 * Layer 6: the write-once audit log. Object Lock COMPLIANCE default retention, versioning,
 * no public access, TLS only, encrypted with a customer key that rotates, and access logged
 * to a separate bucket. Writers may append and check a key exists, never read a record's body,
 * delete or shorten a retention (see {@link AuditBucket.grantAppend}).
 */
export class AuditBucket extends Construct {
  /** The audit bucket. */
  public readonly bucket: s3.Bucket;
  /** The customer managed key that encrypts it. */
  public readonly key: kms.Key;
  /** The bucket receiving server access logs (of this and other Seamwork buckets). */
  public readonly accessLogsBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: AuditBucketProps = {}) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? 365;
    if (!Number.isInteger(retentionDays) || retentionDays < 1) {
      throw new Error(`AuditBucket: retentionDays must be a positive integer, got ${retentionDays}`);
    }

    this.key = new kms.Key(this, 'Key', {
      description: 'Seamwork audit log encryption',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.accessLogsBucket =
      props.accessLogsBucket ??
      new s3.Bucket(this, 'AccessLogs', {
        // Server access log delivery does not support SSE-KMS targets.
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        lifecycleRules: [{ expiration: Duration.days(Math.max(retentionDays, 90)) }],
        removalPolicy: RemovalPolicy.RETAIN,
      });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(retentionDays)),
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'audit/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Object Lock keeps old versions; this keeps a new version of an existing key from being
    // written at all: every put must be the conditional `If-None-Match: *` the audit store sends.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyUnconditionalPuts',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }),
    );
  }

  /**
   * Let a principal append audit records: `s3:PutObject` only (a conditional `If-None-Match: *`
   * put, which S3 enforces; Object Lock makes every version write-once). No read, no list, no
   * `kms:Decrypt`, no delete, no retention or legal-hold change.
   */
  grantAppend(grantee: iam.IGrantable): void {
    const principal = grantee.grantPrincipal;
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AppendAuditRecords',
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('decisions/*')],
      }),
    );
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptAuditRecords',
        actions: ['kms:GenerateDataKey'],
        resources: [this.key.keyArn],
      }),
    );
  }

  /**
   * Let the checkpointer read the whole log (list, get) and append checkpoints under
   * `checkpoints/` — and write nothing else.
   */
  grantCheckpointer(grantee: iam.IGrantable): void {
    const principal = grantee.grantPrincipal;
    principal.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ListAuditLog', actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
    principal.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadAuditLog', actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects('*')] }));
    principal.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'AppendCheckpoints', actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects('checkpoints/*')] }));
    principal.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'AuditLogKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [this.key.keyArn] }));
  }

  /**
   * Let a stage read back its own records (keys `decisions/…/<seq>-<stage>-…`), and nothing else:
   * the audit store compares a record that already exists with the one being appended, so
   * re-appending what a stage committed succeeds and a different one is refused.
   */
  grantReadOwnRecords(grantee: iam.IGrantable, stage: string): void {
    if (!/^[a-z][a-z0-9-]*$/.test(stage)) throw new Error(`AuditBucket: "${stage}" is not a stage name`);
    const principal = grantee.grantPrincipal;
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(`decisions/*-${stage}-*`)] }),
    );
    principal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.key.keyArn] }));
  }
}
