import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/core/config-keys.js';

/** The repository root: topology entries (`lambdas/handlers/*.ts`) are relative to it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Namespace of Seamwork's EMF metrics (Powertools). */
export const METRICS_NAMESPACE = 'Seamwork';

/**
 * ESM bundles get no `require`; some CommonJS dependencies (bundled SDK pieces) still call it.
 * The alias avoids clashing with a bundled `createRequire` import.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __seamworkCreateRequire } from 'node:module';" +
  'const require = __seamworkCreateRequire(import.meta.url);';

/** Props of {@link SeamworkFunction}. */
export interface SeamworkFunctionProps {
  /** Stage name: used for the Powertools service name and the log group. */
  readonly stage: string;
  /** Handler source file relative to the repo root; it exports `handler`. */
  readonly entry: string;
  /** Function timeout in seconds. */
  readonly timeoutSeconds: number;
  /** Memory in MB. */
  readonly memoryMb: number;
  /**
   * Extra environment variables (queue URLs, table names, …).
   * @default - only the Powertools variables
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Lambda layers (the AppConfig extension for functions that read flags).
   * @default - no layers
   */
  readonly layers?: lambda.ILayerVersion[];
  /**
   * Log retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Runtime; Node 22 or later.
   * @default lambda.Runtime.NODEJS_24_X
   */
  readonly runtime?: lambda.Runtime;
  /**
   * Reserved concurrency, to cap fan-out into the model and connectors.
   * @default - unreserved
   */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A Seamwork Lambda: Node 24 (22+), arm64, bundled by the local esbuild (never Docker) as ESM,
 * with its own log group and its own role that may write only to that log group. Every other
 * permission is granted explicitly by the stack, so each role reads as its stage's contract.
 */
export class SeamworkFunction extends Construct {
  /** The function. */
  public readonly fn: NodejsFunction;
  /** Its execution role (no managed policies). */
  public readonly role: iam.Role;
  /** Its log group. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SeamworkFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Seamwork ${props.stage} function`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.fn = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: props.runtime ?? lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.seconds(props.timeoutSeconds),
      memorySize: props.memoryMb,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      layers: props.layers,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        [ENV.POWERTOOLS_SERVICE_NAME]: `seamwork-${props.stage}`,
        [ENV.POWERTOOLS_METRICS_NAMESPACE]: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        // Bundle the SDK too: the handlers run against the SDK version the lock file pins.
        bundleAwsSDK: true,
        target: 'node24',
      },
    });
  }
}
