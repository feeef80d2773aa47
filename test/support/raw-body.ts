import { DynamoTokenVault } from '../../lambdas/aws/dynamo-stores.js';
import type { AuditRecord } from '../../lambdas/core/audit-record.js';
import { openBody, type SealedBody } from '../../lambdas/core/sealed-body.js';

/** The raw delivery of a decision, opened with its key from the vault (as an operator would). */
export async function rawBodyOf(vaultTable: string, records: AuditRecord[]): Promise<string> {
  const accepted = records.find((r) => r.kind === 'accepted');
  if (!accepted) throw new Error('no accepted record');
  const key = await new DynamoTokenVault(vaultTable).getBodyKey(accepted.decisionId, new Date());
  if (!key) throw new Error(`the body key of ${accepted.decisionId} is gone`);
  return openBody(accepted.data.body as SealedBody, key).toString('utf8');
}
