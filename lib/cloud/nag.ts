import { Stack, Validations, type App, type CfnResource } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { SeamworkStack } from './seamwork-stack.js';

/** Run the cdk-nag AwsSolutions pack on every synth of the app (v3 API: a validation plugin). */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

/** One accepted finding: where, which rule (with its finding id when the rule has several), why. */
export interface NagAcknowledgement {
  /** Construct path relative to the stack, for the report. */
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/**
 * The IAM5 finding id cdk-nag reports for `<bucket arn>/*`: it names the bucket by logical id.
 * Resolved now because the finding is matched on that exact text.
 */
function objectsWildcardFinding(bucket: s3.IBucket, pattern = '*'): string {
  const stack = Stack.of(bucket);
  const logicalId = stack.resolve(stack.getLogicalId(bucket.node.defaultChild as CfnResource)) as string;
  return `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${pattern}]`;
}

/**
 * Acknowledge the AwsSolutions findings Seamwork accepts, each on the narrowest construct and
 * with its reason. Returns the list so tests (and reviewers) can see every one.
 */
export function acknowledgeSeamworkFindings(stack: SeamworkStack): NagAcknowledgement[] {
  const acks: NagAcknowledgement[] = [];
  const ack = (scope: { node: { path: string } }, id: string, reason: string): void => {
    Validations.of(scope as never).acknowledge({ id, reason });
    acks.push({ path: scope.node.path.replace(`${stack.node.path}/`, ''), id, reason });
  };

  for (const secret of [stack.signingSecret, stack.connectorSecret, stack.modelSecret]) {
    ack(
      secret,
      'AwsSolutions-SMG4',
      'Vendor webhook signing secrets, connector credentials and the model API key are issued by third parties; ' +
        'no rotation Lambda can mint new ones. They are rotated by the operator at the vendor and written with ' +
        'PutSecretValue; handlers re-read the secret on a cache miss, so a rotation needs no deploy.',
    );
  }

  const route = stack.api.node.children.find((c) => c.node.id.startsWith('POST--'));
  ack(
    route ?? stack.api,
    'AwsSolutions-APIG4',
    'Vendors (Zendesk, Shopify, Stripe, GitHub, Slack, HubSpot) cannot sign requests with IAM, Cognito or JWT. ' +
      'Each request is authenticated by the ingest function, which verifies the vendor HMAC signature over the raw ' +
      'body and its timestamp before anything is accepted; unsigned or stale requests get 401. Stage throttling ' +
      'bounds unauthenticated load.',
  );

  for (const [writer, secret] of Object.entries(stack.auditKeys.secrets)) {
    ack(
      secret,
      'AwsSolutions-SMG4',
      `The ${writer} audit MAC key verifies every record sealed with it for as long as the log is kept: rotating it ` +
        'would need the verifier to keep every past key, so it is rotated by adding a new writer key (docs/audit.md), not in place.',
    );
  }
  ack(
    stack.checkpointer.role,
    objectsWildcardFinding(stack.audit.bucket),
    'The checkpointer reads every audit record and checkpoint (s3:GetObject, under run-time keys) to digest them; it ' +
      'writes nowhere but checkpoints/ and deletes nothing.',
  );
  ack(
    stack.checkpointer.role,
    objectsWildcardFinding(stack.audit.bucket, 'checkpoints/*'),
    'Checkpoint keys are numbered at run time (checkpoints/<seq>.json); the only action there is a conditional s3:PutObject.',
  );
  const roles: Array<{ stage: string; role: iam.Role }> = [{ stage: 'ingest', role: stack.ingest.role }, ...Object.entries(stack.stages).map(([stage, s]) => ({ stage, role: s.role }))];
  for (const { stage, role } of roles) {
    ack(
      role,
      objectsWildcardFinding(stack.audit.bucket, 'decisions/*'),
      'Audit record keys are generated at run time (integration/decision id/seq-stage-attempt-hash), so the resource is the ' +
        "records' prefix. The only action is s3:PutObject (a conditional If-None-Match put): no delete, no " +
        'retention change, and Object Lock COMPLIANCE makes every record write-once.',
    );
    ack(
      role,
      objectsWildcardFinding(stack.audit.bucket, `decisions/*-${stage}-*`),
      `The ${stage} stage reads back only records it wrote (their keys carry the stage name), so that re-appending a record ` +
        'it committed before a crash is recognised as the same record rather than refused; it cannot list or read other stages\' records.',
    );
    ack(
      role,
      objectsWildcardFinding(stack.payloadBucket),
      'Oversized payloads are passed between stages by reference under run-time keys (decision id), so the ' +
        "resource is the payload bucket's objects; actions are limited to s3:GetObject and s3:PutObject on this " +
        'one short-lived bucket.',
    );
  }
  return acks;
}
