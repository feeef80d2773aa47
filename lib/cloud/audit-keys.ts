import { RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** Props of {@link AuditKeys}. */
export interface AuditKeysProps {
  /**
   * Writers that get a key: the stages, `operator` (review, redrive, backfill) and `checkpointer`.
   * @default ['ingest', 'validate', 'infer', 'verify', 'act', 'operator', 'checkpointer']
   */
  readonly writers?: readonly string[];
  /**
   * Secret names are `<prefix><writer>`; `seamwork audit verify --key-prefix` reads the same.
   * @default 'seamwork/audit-key/'
   */
  readonly prefix?: string;
}

/**
 * Layer 6: one HMAC key per audit writer, a generated Secrets Manager secret each. A stage's role
 * reads its own key only ({@link AuditKeys.grantWriter}), so a compromised stage can seal records
 * under its own name and no other; the verifier reads them all.
 */
export class AuditKeys extends Construct {
  /** The secret of each writer. */
  public readonly secrets: Readonly<Record<string, secretsmanager.Secret>>;

  constructor(scope: Construct, id: string, props: AuditKeysProps = {}) {
    super(scope, id);
    const prefix = props.prefix ?? 'seamwork/audit-key/';
    const writers = props.writers ?? ['ingest', 'validate', 'infer', 'verify', 'act', 'operator', 'checkpointer'];
    this.secrets = Object.fromEntries(writers.map((w) => [w, new secretsmanager.Secret(this, `Key-${w}`, {
      secretName: `${prefix}${w}`,
      description: `Seamwork audit MAC key of writer ${w}`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    })]));
  }

  /** Lets one writer (a stage's role) read its own key, and nobody else's. */
  grantWriter(writer: string, grantee: iam.IGrantable): void {
    const secret = this.secrets[writer];
    if (!secret) throw new Error(`AuditKeys: no key for writer "${writer}" (known: ${Object.keys(this.secrets).join(', ')})`);
    secret.grantRead(grantee);
  }

  /** Lets the verifier (and the checkpointer, which signs) read every key. */
  grantVerifier(grantee: iam.IGrantable): void {
    for (const secret of Object.values(this.secrets)) secret.grantRead(grantee);
  }
}
