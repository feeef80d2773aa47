import { Logger } from '@aws-lambda-powertools/logger';
import { readKeySecret } from '../aws/audit-keys.js';
import { S3AuditStore } from '../aws/s3-audit-store.js';
import { required } from '../aws/runtime-config.js';
import { Wiring } from '../aws/wiring.js';
import { writeCheckpoint } from '../core/audit/checkpoint.js';
import { CHECKPOINTER_KEY } from '../core/audit/key-ring.js';
import { ENV } from '../core/config-keys.js';

const logger = new Logger({ serviceName: 'seamwork', persistentKeys: { stage: 'checkpoint' } });
let wiring: Wiring | undefined;

/**
 * Scheduled Lambda (layer 6): writes the next signed audit checkpoint, chained to the previous
 * one, over every decision whose records changed since. Its role reads the audit log, writes under
 * `checkpoints/` only, and reads the checkpointer's own key.
 */
export const handler = async (): Promise<{ checkpoint: number | null; decisions: number }> => {
  wiring ??= new Wiring();
  const secret = required(wiring.config.auditKeySecret, ENV.AUDIT_KEY_SECRET);
  const written = await writeCheckpoint({
    archive: new S3AuditStore(wiring.config.auditBucket),
    keys: { key: async (name: string) => (name === CHECKPOINTER_KEY ? readKeySecret(secret) : undefined) },
  });
  if (written) logger.info('audit checkpoint written', { seq: written.seq, decisions: written.decisions.length });
  return { checkpoint: written?.seq ?? null, decisions: written?.decisions.length ?? 0 };
};
