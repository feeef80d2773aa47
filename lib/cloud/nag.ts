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
function objectsWildcardFinding(bucket: s3.IBucket): string {
  const stack = Stack.of(bucket);
  const logicalId = stack.resolve(stack.getLogicalId(bucket.node.defaultChild as CfnResource)) as string;
  return `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/*]`;
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

  const roles: iam.Role[] = [stack.ingest.role, ...Object.values(stack.stages).map((s) => s.role)];
  for (const role of roles) {
    ack(
      role,
      objectsWildcardFinding(stack.audit.bucket),
      'Audit record keys are generated at run time (integration/decision id/seq-stage-attempt-hash), so the resource is the ' +
        "bucket's objects. The only action is s3:PutObject (a conditional If-None-Match put): no read, no delete, no " +
        'retention change, and Object Lock COMPLIANCE makes every record write-once.',
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
