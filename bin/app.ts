import { App } from 'aws-cdk-lib';
import { addNagChecks } from '../lib/cloud/nag.js';
import { SeamworkStack } from '../lib/cloud/seamwork-stack.js';

/**
 * The CDK app: one environment-agnostic Seamwork stack, checked by cdk-nag AwsSolutions.
 * Settings come from context (`-c seamwork:<name>=<value>` or cdk.json), so a deploy needs no code change.
 */
const app = new App();
const context = (name: string): string | undefined => {
  const value = app.node.tryGetContext(`seamwork:${name}`) as string | number | undefined;
  return value === undefined ? undefined : String(value);
};
const numberContext = (name: string): number | undefined => {
  const raw = context(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`Context seamwork:${name} must be a positive number, got "${raw}".`);
  return n;
};
new SeamworkStack(app, 'SeamworkStack', {
  description: 'Seamwork: webhook → validate → infer → verify → act, with audit, flags and alarms',
  auditRetentionDays: numberContext('auditRetentionDays'),
  tenantDailyCapUsd: numberContext('tenantDailyCapUsd'),
  tenantMonthlyCapUsd: numberContext('tenantMonthlyCapUsd'),
  integrationDailyCapUsd: numberContext('integrationDailyCapUsd'),
  globalDailyCapUsd: numberContext('globalDailyCapUsd'),
  zendeskBaseUrl: context('zendeskBaseUrl'),
  slackBaseUrl: context('slackBaseUrl'),
  githubApiUrl: context('githubApiUrl'),
  shopifyShopUrl: context('shopifyShopUrl'),
});
addNagChecks(app);
app.synth();
