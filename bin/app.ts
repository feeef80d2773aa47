import { App } from 'aws-cdk-lib';
import { addNagChecks } from '../lib/cloud/nag.js';
import { SeamworkStack } from '../lib/cloud/seamwork-stack.js';

/** The CDK app: one environment-agnostic Seamwork stack, checked by cdk-nag AwsSolutions. */
const app = new App();
const retention = app.node.tryGetContext('seamwork:auditRetentionDays') as string | number | undefined;
new SeamworkStack(app, 'SeamworkStack', {
  description: 'Seamwork: webhook → validate → infer → verify → act, with audit, flags and alarms',
  auditRetentionDays: retention === undefined ? undefined : Number(retention),
});
addNagChecks(app);
app.synth();
