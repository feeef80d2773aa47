import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { addNagChecks } from '../../lib/cloud/nag.js';
import { SeamworkStack } from '../../lib/cloud/seamwork-stack.js';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seamwork-nag-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** One line per unacknowledged finding, so a failure says what to fix. */
function describeViolations(report: ReturnType<AwsSolutionsChecks['validateScope']>, severity: string): string[] {
  return report.violations
    .filter((v) => v.severity === severity)
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}: ${v.description}`));
}

describe('cdk-nag AwsSolutions', () => {
  it('finds no unacknowledged error in the Seamwork stack', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new SeamworkStack(app, 'SeamworkNag');

    const report = new AwsSolutionsChecks(app).validateScope(app);

    expect(describeViolations(report, 'error')).toEqual([]);
  });

  it('reports no unacknowledged warning either', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new SeamworkStack(app, 'SeamworkNag');

    const report = new AwsSolutionsChecks(app).validateScope(app);

    expect(describeViolations(report, 'warning')).toEqual([]);
  });

  it('gives every acknowledgement a reason', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new SeamworkStack(app, 'SeamworkNag');

    expect(stack.nagAcknowledgements.length).toBeGreaterThan(0);
    for (const ack of stack.nagAcknowledgements) {
      expect(ack.id).toMatch(/^AwsSolutions-/);
      expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThan(60);
    }
  });

  it('still catches a finding the stack has not acknowledged', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new SeamworkStack(app, 'SeamworkNag');
    // A third secret with no rotation and no acknowledgement must be reported.
    new Secret(stack, 'Unacknowledged');

    const report = new AwsSolutionsChecks(app).validateScope(app);

    expect(describeViolations(report, 'error')).toEqual([
      expect.stringMatching(/^AwsSolutions-SMG4 at SeamworkNag\/Unacknowledged\/Resource/),
    ]);
  });

  it('lets synthesis pass with the plugin registered the way bin/app.ts registers it', () => {
    const app = new App({ outdir: tempDir(), context: { 'aws:cdk:bundling-stacks': [] } });
    new SeamworkStack(app, 'SeamworkNag');
    addNagChecks(app);

    const assembly = app.synth();

    expect(assembly.getStackByName('SeamworkNag').template.Resources).toBeDefined();
  });

  it('interrupts synthesis when a finding is not acknowledged', () => {
    const app = new App({ outdir: tempDir(), context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new SeamworkStack(app, 'SeamworkNag');
    new Secret(stack, 'Unacknowledged');
    addNagChecks(app);

    expect(() => app.synth()).toThrow(/AwsSolutions-SMG4|Validation failed/);
  });
});
