import { Aws, CfnMapping, Duration, Stack } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { FLAG_OFF, type FlagsDocument } from '../../lambdas/core/flags.js';
import { FLAGS } from '../topology.js';
import { INTEGRATIONS } from '../../lambdas/integrations/index.js';

/** Port of the AppConfig Lambda extension's local HTTP endpoint. */
export const APPCONFIG_AGENT_PORT = 2772;

/** The agent URL a function reads the flags profile from (names, not ids: the agent accepts both). */
export const FLAGS_URL =
  `http://localhost:${APPCONFIG_AGENT_PORT}/applications/${FLAGS.application}` +
  `/environments/${FLAGS.environment}/configurations/${FLAGS.profile}`;

/** Integrations whose flag exists from the first deploy, all off (baseline only): every registered one. */
export const INITIAL_INTEGRATIONS: readonly string[] = Object.keys(INTEGRATIONS);

/**
 * The AppConfig feature-flags document (`AWS.AppConfig.FeatureFlags` format) for a set of
 * integration flags. The agent serves it back as `{ "<integration>": { enabled, rolloutPercent, mode } }`,
 * the shape `lambdas/core/flags.ts` parses.
 */
export function featureFlagsDocument(values: FlagsDocument): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const name of Object.keys(values)) {
    flags[name] = {
      name,
      attributes: {
        rolloutPercent: { constraints: { type: 'number', minimum: 0, maximum: 100 } },
        mode: { constraints: { type: 'string', enum: ['live', 'shadow'] } },
      },
    };
  }
  return { flags, values, version: '1' };
}

/**
 * The AppConfig Lambda extension layer (arm64) for the deploying region, through a
 * `CfnMapping`: the stack is environment-agnostic, and `Application.getLambdaLayerVersionArn`
 * needs a concrete region. The mapping is filled from aws-cdk-lib's own table of published
 * layer versions, for every region it knows; a deploy to a region missing from it fails at
 * changeset time rather than running without flags.
 */
export function appConfigExtensionLayer(scope: Construct, id: string): lambda.ILayerVersion {
  const stack = Stack.of(scope);
  const mappingId = 'AppConfigExtensionArm64';
  let mapping = stack.node.tryFindChild(mappingId) as CfnMapping | undefined;
  if (!mapping) {
    const entries: Record<string, Record<string, string>> = {};
    for (const region of RegionInfo.regions.map((r) => r.name).sort()) {
      const arn = appconfig.Application.getLambdaLayerVersionArn(region, appconfig.Platform.ARM_64);
      if (arn) entries[region] = { layerArn: arn };
    }
    mapping = new CfnMapping(stack, mappingId, { mapping: entries });
  }
  return lambda.LayerVersion.fromLayerVersionArn(scope, id, mapping.findInMap(Aws.REGION, 'layerArn'));
}

/** Props of {@link Flags}. */
export interface FlagsProps {
  /**
   * Alarm that rolls a flag deployment back while it fires (DLQ depth, function errors).
   */
  readonly rollbackAlarm: cloudwatch.IAlarm;
  /**
   * Initial flag values; every integration starts off.
   * @default each of INITIAL_INTEGRATIONS set to FLAG_OFF
   */
  readonly initialFlags?: FlagsDocument;
  /**
   * Minutes of a flag deployment; the rollout grows 20% per step, five steps.
   * @default 10 (20% every 2 minutes)
   */
  readonly deploymentMinutes?: number;
  /**
   * Minutes AppConfig keeps watching the alarm after 100% before it calls the deployment done.
   * @default 10
   */
  readonly bakeMinutes?: number;
}

/**
 * Layer 7: the integration flags in AppConfig. A hosted feature-flags profile, a linear
 * rollout, and a monitor on the rollback alarm, so a flag change that makes things worse is
 * undone by AppConfig without anyone deploying.
 */
export class Flags extends Construct {
  /** The AppConfig application. */
  public readonly application: appconfig.Application;
  /** The environment the functions read. */
  public readonly environment: appconfig.Environment;
  /** The hosted feature-flags configuration (profile + first version). */
  public readonly configuration: appconfig.HostedConfiguration;
  /** The rollout strategy used for flag changes. */
  public readonly deploymentStrategy: appconfig.DeploymentStrategy;
  /** The role AppConfig assumes to read the rollback alarm. */
  public readonly monitorRole: iam.Role;
  /**
   * All at once, no bake: for the kill switch. Nothing to monitor means nothing to roll back, so
   * an alarm that is already firing (the reason for the kill) cannot undo it.
   */
  public readonly killSwitchStrategy: appconfig.DeploymentStrategy;

  constructor(scope: Construct, id: string, props: FlagsProps) {
    super(scope, id);
    const initial =
      props.initialFlags ?? Object.fromEntries(INITIAL_INTEGRATIONS.map((name) => [name, { ...FLAG_OFF }]));

    this.application = new appconfig.Application(this, 'Application', {
      applicationName: FLAGS.application,
      description: 'Seamwork integration flags',
    });

    this.monitorRole = new iam.Role(this, 'MonitorRole', {
      assumedBy: new iam.ServicePrincipal('appconfig.amazonaws.com'),
      description: 'Lets AppConfig read the Seamwork rollback alarm',
    });
    this.monitorRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRollbackAlarm',
        actions: ['cloudwatch:DescribeAlarms'],
        resources: [props.rollbackAlarm.alarmArn],
      }),
    );

    this.environment = new appconfig.Environment(this, 'Environment', {
      application: this.application,
      environmentName: FLAGS.environment,
      monitors: [appconfig.Monitor.fromCloudWatchAlarm(props.rollbackAlarm, this.monitorRole)],
    });

    const minutes = props.deploymentMinutes ?? 10;
    const bake = props.bakeMinutes ?? 10;
    this.deploymentStrategy = new appconfig.DeploymentStrategy(this, 'Rollout', {
      description: `Linear 20% steps over ${minutes} minutes, ${bake} minutes bake`,
      rolloutStrategy: appconfig.RolloutStrategy.linear({
        growthFactor: 20,
        deploymentDuration: Duration.minutes(minutes),
        finalBakeTime: Duration.minutes(bake),
      }),
    });

    this.killSwitchStrategy = new appconfig.DeploymentStrategy(this, 'KillSwitch', {
      description: 'All at once, no bake: turning an integration off must not wait, nor be rolled back',
      rolloutStrategy: appconfig.RolloutStrategy.linear({ growthFactor: 100, deploymentDuration: Duration.minutes(0), finalBakeTime: Duration.minutes(0) }),
    });

    this.configuration = new appconfig.HostedConfiguration(this, 'IntegrationFlags', {
      application: this.application,
      name: FLAGS.profile,
      type: appconfig.ConfigurationType.FEATURE_FLAGS,
      content: appconfig.ConfigurationContent.fromInlineJson(JSON.stringify(featureFlagsDocument(initial))),
      deploymentStrategy: this.deploymentStrategy,
      deployTo: [this.environment],
    });
  }

  /**
   * ARN a reader needs for `StartConfigurationSession` / `GetLatestConfiguration`:
   * this application, this environment, this profile, nothing else.
   */
  get readArn(): string {
    return Stack.of(this).formatArn({
      service: 'appconfig',
      resource: 'application',
      resourceName:
        `${this.application.applicationId}/environment/${this.environment.environmentId}` +
        `/configuration/${this.configuration.configurationProfileId}`,
    });
  }

  /**
   * Let a role (named `reader` in construct ids) read the flags profile through the AppConfig extension. The statement goes in
   * a policy of its own, not the role's default policy: the function depends on its default
   * policy, the environment's monitor depends on the function's error alarm, and this ARN
   * names the environment — one policy would close that loop into a circular dependency.
   */
  grantRead(role: iam.IRole, reader: string): iam.Policy {
    // Scoped under this construct, not the role: a function depends on everything under its role.
    return new iam.Policy(this, `Read-${reader}`, {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadIntegrationFlags',
          actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
          resources: [this.readArn],
        }),
      ],
    });
  }
}
