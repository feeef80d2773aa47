import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { StageFunction } from '../../lib/cloud/stage-function.js';
import { STAGE_SPECS } from '../../lib/topology.js';

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'seamwork-bundle-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

describe('StageFunction bundling', () => {
  it('bundles a real stage handler with the local esbuild, as ESM with a source map, without Docker', () => {
    // Arrange: bundling on (no aws:cdk:bundling-stacks override); Docker made unusable on purpose.
    const dockerBefore = process.env.CDK_DOCKER;
    process.env.CDK_DOCKER = '/nonexistent/docker';
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, 'BundleOne');
      const stage = new StageFunction(stack, 'Verify', { spec: STAGE_SPECS.verify });

      // Act
      const assembly = app.synth();

      // Assert: the function's code asset is a directory holding the ESM bundle.
      const template = assembly.getStackByName('BundleOne').template;
      const fnId = stack.resolve(stack.getLogicalId(stage.fn.node.defaultChild as never)) as string;
      const s3Key = template.Resources[fnId].Properties.Code.S3Key as string;
      const bundleDir = path.join(outdir, `asset.${s3Key.replace(/\.zip$/, '')}`);
      const code = fs.readFileSync(path.join(bundleDir, 'index.mjs'), 'utf8');
      expect(code).toMatch(/export\s*\{[^}]*\bhandler\b[^}]*\}/);
      expect(code).toContain('createRequire');
      expect(fs.existsSync(path.join(bundleDir, 'index.mjs.map'))).toBe(true);
      expect(template.Resources[fnId].Properties.Handler).toBe('index.handler');
    } finally {
      if (dockerBefore === undefined) delete process.env.CDK_DOCKER;
      else process.env.CDK_DOCKER = dockerBefore;
    }
  });
});
