import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3AuditStore } from '../../lambdas/aws/s3-audit-store.js';
import type { AuditRecord } from '../../lambdas/core/audit-record.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../lib/local/stack.js';

/** A local stack for a test file: its own state folder and its own copy of the flags file. */
export async function startTestStack(opts: LocalStackOptions = {}): Promise<LocalStack & { flagsFile: string; stateDir: string; records(integration: string, decisionId: string): Promise<AuditRecord[]> }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'seamwork-test-'));
  const flagsFile = join(stateDir, 'flags.json');
  copyFileSync(join(process.cwd(), 'config/flags.local.json'), flagsFile);
  const stack = await startLocalStack({ stateDir, flagsFile, visibilityTimeoutSeconds: 2, ...opts });
  const audit = new S3AuditStore(stack.env.SEAMWORK_AUDIT_BUCKET);
  return Object.assign(stack, { flagsFile, stateDir, records: (i: string, d: string) => audit.listDecision(i, d) });
}
