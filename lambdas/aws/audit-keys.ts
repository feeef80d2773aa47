import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AuditKeyRing } from '../core/audit/key-ring.js';
import { ConfigurationError, SeamworkError } from '../core/errors.js';

/**
 * Audit writers' keys: one HMAC key per stage, `operator` and `checkpointer`. Locally one file
 * each (`.seamwork/keys/<name>.key`, created on first use); in AWS one Secrets Manager secret
 * each, readable by its writer and by the verifier only. A key is the UTF-8 bytes of the file's
 * or secret's text (trimmed).
 */

/** Audit key secrets are named `<prefix><writer>` (the CDK stack's AuditKeys and `seamwork audit --key-prefix`). */
export const DEFAULT_AUDIT_KEY_PREFIX = 'seamwork/audit-key/';

/** Reads (and, with `create`, first makes) `<dir>/<name>.key`. */
export async function readKeyFile(dir: string, name: string, opts: { create: boolean }): Promise<Buffer | undefined> {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new ConfigurationError(`Audit key name "${name}" is not a writer name.`);
  const file = join(dir, `${name}.key`);
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigurationError(`Could not read audit key ${file}: ${(err as Error).message}`, { cause: err });
    if (!opts.create) return undefined;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    // Another process made it between our read and write: use theirs.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigurationError(`Could not create audit key ${file}: ${(err as Error).message}`, { cause: err });
  }
  return Buffer.from((await readFile(file, 'utf8')).trim(), 'utf8');
}

/** Key files in one folder. `create`: make a missing one (the local stack's writers); the verifier never creates. */
export class FileKeyRing implements AuditKeyRing {
  constructor(private readonly dir: string, private readonly opts: { create: boolean } = { create: false }) {}
  key(name: string): Promise<Buffer | undefined> {
    return readKeyFile(this.dir, name, this.opts);
  }
}

/** Reads one secret's text as a key. */
export async function readKeySecret(secretId: string, client: SecretsManagerClient = new SecretsManagerClient({})): Promise<Buffer> {
  try {
    const res = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!res.SecretString?.trim()) throw new ConfigurationError(`Audit key secret ${secretId} is empty.`);
    return Buffer.from(res.SecretString.trim(), 'utf8');
  } catch (err) {
    if (err instanceof ConfigurationError) throw err;
    throw new SeamworkError('SECRETS_UNAVAILABLE', `Could not read audit key secret ${secretId}: ${(err as Error).name}`, true, { cause: err });
  }
}

/** Secrets named `<prefix><name>` (e.g. `seamwork/audit-key/infer`); a secret that does not exist is no key. */
export class SecretsKeyRing implements AuditKeyRing {
  private readonly client = new SecretsManagerClient({});
  constructor(private readonly prefix: string) {}
  async key(name: string): Promise<Buffer | undefined> {
    try {
      return await readKeySecret(`${this.prefix}${name}`, this.client);
    } catch (err) {
      if ((err as { cause?: Error }).cause?.name === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  }
}
