import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_AUDIT_KEY_PREFIX, FileKeyRing, SecretsKeyRing } from '../../lambdas/aws/audit-keys.js';
import { DynamoDedupeIndex } from '../../lambdas/aws/dedupe-index.js';
import { writeCheckpoint } from '../../lambdas/core/audit/checkpoint.js';
import { AUDIT_FINDING_CODES } from '../../lambdas/core/audit/finding.js';
import type { AuditKeyRing } from '../../lambdas/core/audit/key-ring.js';
import { verifyAuditLog } from '../../lambdas/core/audit/verify-log.js';
import { ENV } from '../../lambdas/core/config-keys.js';
import { UsageError } from './contracts.js';
import { cliAuditStore } from './state.js';


/**
 * The writers' keys the CLI verifies with: a deployed stack's secrets when `bucket` is named (your
 * AWS credentials need `secretsmanager:GetSecretValue` on them), else the local stack's key files.
 */
export function auditKeyRing(opts: { bucket?: string; keysDir?: string; keyPrefix?: string; create?: boolean }): AuditKeyRing {
  if (opts.bucket && !opts.keysDir) return new SecretsKeyRing(opts.keyPrefix ?? process.env[ENV.AUDIT_KEY_PREFIX] ?? DEFAULT_AUDIT_KEY_PREFIX);
  return new FileKeyRing(opts.keysDir ?? join(process.cwd(), '.seamwork', 'keys'), { create: opts.create ?? false });
}

/**
 * `seamwork audit verify [--since ISO] [--integration NAME] [--bucket B] [--json]` and
 * `seamwork audit checkpoint [--bucket B]`: verify the whole audit log (exit 1 on any finding),
 * or write a signed checkpoint now.
 */
export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      since: { type: 'string' }, integration: { type: 'string' }, bucket: { type: 'string' }, json: { type: 'boolean' },
      keys: { type: 'string' }, 'key-prefix': { type: 'string' }, table: { type: 'string' }, 'allow-missing-mac': { type: 'boolean' },
    },
  });
  const store = cliAuditStore(values.bucket);
  const keyOpts = { bucket: values.bucket, keysDir: values.keys, keyPrefix: values['key-prefix'] };
  switch (sub) {
    case 'verify': {
      const since = values.since === undefined ? undefined : new Date(values.since);
      if (since && Number.isNaN(since.getTime())) throw new UsageError(`--since must be an ISO 8601 time, got "${values.since}"`);
      const table = values.table ?? process.env[ENV.TABLE_DEDUPE];
      const result = await verifyAuditLog({
        archive: store, keys: auditKeyRing(keyOpts), index: table ? new DynamoDedupeIndex(table) : undefined,
        integration: values.integration, since, requireMac: !values['allow-missing-mac'],
      });
      if (values.json) {
        console.log(JSON.stringify(result, null, 2));
      } else {
        const c = result.counts;
        console.log(`audit log: ${c.decisions} decision(s), ${c.records} record(s), ${c.checkpoints} checkpoint(s); ${result.findings.length} finding(s)`);
        for (const f of result.findings) console.log(`  ${f.code.padEnd(24)} ${f.message}`);
        for (const code of new Set(result.findings.map((f) => f.code))) console.log(`  (${code}: ${AUDIT_FINDING_CODES[code]})`);
        for (const n of result.notes) console.log(`  note: ${n}`);
      }
      return result.findings.length === 0 ? 0 : 1;
    }
    case 'checkpoint': {
      const written = await writeCheckpoint({ archive: store, keys: auditKeyRing({ ...keyOpts, create: !values.bucket || values.keys !== undefined }) });
      console.log(written ? `checkpoint ${written.seq}: ${written.decisions.length} decision(s), root ${written.root.slice(0, 16)}…, until ${written.until}` : 'nothing changed since the last checkpoint; none written.');
      return 0;
    }
    default:
      throw new UsageError('audit takes verify or checkpoint');
  }
}
