import { verifyChain } from '../../lambdas/core/audit-record.js';
import { renderCheckpointState, renderTrace } from '../../lambdas/core/trace.js';
import { decisionCheckpointState } from '../../lambdas/core/audit/decision-state.js';
import { findConflicts } from '../../lambdas/core/audit/conflicts.js';
import { auditKeyRing } from './audit.js';
import { INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { DynamoTokenVault } from '../../lambdas/aws/dynamo-stores.js';
import { webhookSecrets } from '../../lambdas/aws/secrets.js';
import { ENV } from '../../lambdas/core/config-keys.js';
import { reverifyDelivery } from '../../lambdas/core/reverify.js';
import { getIntegration } from '../../lambdas/integrations/index.js';
import { cliAuditStore } from './state.js';

/** `seamwork trace <decision-id>`: the whole story of a decision, from the audit log alone. */
export async function traceCommand(decisionId: string, opts: { integration?: string; json: boolean; bucket?: string; verifySignature?: boolean }): Promise<number> {
  const audit = cliAuditStore(opts.bucket);
  for (const name of opts.integration ? [opts.integration] : Object.keys(INTEGRATIONS)) {
    const records = await audit.listDecision(name, decisionId);
    if (records.length === 0) continue;
    console.log(opts.json ? JSON.stringify(records, null, 2) : renderTrace(records));
    if (!opts.json) console.log(renderCheckpointState(await decisionCheckpointState(audit, name, decisionId, auditKeyRing({ bucket: opts.bucket }))));
    if (opts.verifySignature) {
      const def = getIntegration(name)!;
      const accepted = records.find((r) => r.kind === 'accepted');
      if (!accepted) {
        console.log('signature: no accepted-delivery record (a replay or an eval decision) to re-verify.');
      } else {
        const vault = new DynamoTokenVault(process.env[ENV.TABLE_VAULT]!);
        const secrets = await webhookSecrets({ arn: process.env[ENV.SECRETS_ARN], file: process.env[ENV.SECRETS_FILE] }, def.source.secretName);
        const result = reverifyDelivery(def, accepted, await vault.getBodyKey(decisionId, new Date()), secrets);
        console.log(`signature: ${result.verdict} — ${result.detail}`);
        if (result.verdict === 'invalid') return 4;
      }
    }
    // A chain that does not verify, or a conflict, is an incident, not a trace: say so in the exit code too.
    return verifyChain(records).ok && findConflicts(records).length === 0 ? 0 : 3;
  }
  console.error(`No audit records for decision ${decisionId}. (The local audit log lives in memory: decisions from an earlier \`npm start\` are gone when it stops.)`);
  return 1;
}
