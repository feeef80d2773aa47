import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_AUDIT_KEY_PREFIX, readKeyFile, readKeySecret } from '../../lambdas/aws/audit-keys.js';
import { S3AuditStore } from '../../lambdas/aws/s3-audit-store.js';
import { OPERATOR_WRITER } from '../../lambdas/core/audit/record-mac.js';
import { ENV } from '../../lambdas/core/config-keys.js';

/** What `seamwork start` leaves for the other commands: the API URL and the handlers' environment. */
export interface LocalState {
  apiUrl: string;
  env: Record<string, string>;
  startedAt: string;
  pid: number;
}

/** Reads `.seamwork/local.json` and applies its environment, or explains how to get one. */
export function useLocalState(stateDir = join(process.cwd(), '.seamwork')): LocalState {
  const file = join(stateDir, 'local.json');
  if (!existsSync(file)) throw new Error(`No local stack found (${file} is missing). Start one with \`npm start\` in another terminal.`);
  const state = JSON.parse(readFileSync(file, 'utf8')) as LocalState;
  try {
    process.kill(state.pid, 0);
  } catch {
    throw new Error(`The local stack that wrote ${file} (pid ${state.pid}) is not running. Start one with \`npm start\`.`);
  }
  Object.assign(process.env, state.env);
  return state;
}

/**
 * The audit store the CLI reads: a deployed stack's bucket (your AWS credentials) when named,
 * otherwise the running local stack's.
 */
export function cliAuditStore(bucket?: string, opts: { keyPrefix?: string } = {}): S3AuditStore {
  if (!bucket) useLocalState();
  // What a person appends (review decisions, redrives) is sealed with the operator's key: the local
  // stack's key file (SEAMWORK_AUDIT_KEYS_DIR), or in AWS the operator secret (`<prefix>operator`) your role can read.
  const dir = process.env[ENV.AUDIT_KEYS_DIR];
  const key = dir
    ? async () => (await readKeyFile(dir, OPERATOR_WRITER, { create: true }))!
    : () => readKeySecret(`${opts.keyPrefix ?? process.env[ENV.AUDIT_KEY_PREFIX] ?? DEFAULT_AUDIT_KEY_PREFIX}${OPERATOR_WRITER}`);
  return new S3AuditStore(bucket ?? process.env.SEAMWORK_AUDIT_BUCKET!, { headBeforePut: !bucket, writer: { stage: OPERATOR_WRITER, key } });
}
