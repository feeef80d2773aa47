import { readFile } from 'node:fs/promises';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { ConfigurationError, SeamworkError } from '../core/errors.js';

/**
 * The secrets document: webhook signing secrets (a list: two are active during a rotation) and
 * connector credentials. From Secrets Manager in AWS, from a local file in `npm start`.
 * Values are never logged; errors name the secret, never its value.
 */
export const SecretsDocumentSchema = z.object({
  // Any non-empty secret: vendors set their own rules (GitHub accepts short ones), and one weak
  // secret must not make the whole document, and every other integration, unreadable.
  webhooks: z.record(z.string(), z.array(z.string().min(1)).min(1)).default({}),
  zendesk: z.object({ email: z.string(), apiToken: z.string() }).optional(),
  /** A Slack bot token (chat:write, channels:history, channels:read) and the channel for actions that name none. */
  slack: z.object({ botToken: z.string().min(1), defaultChannel: z.string().min(1) }).optional(),
  /** An installation access token or fine-grained token with Issues: write. */
  github: z.object({ token: z.string().min(1) }).optional(),
  /** An Admin API access token with write_orders. */
  shopify: z.object({ accessToken: z.string().min(1) }).optional(),
  anthropicApiKey: z.string().optional(),
});
export type SecretsDocument = z.infer<typeof SecretsDocumentSchema>;

let cache: { doc: SecretsDocument; at: number } | undefined;
const TTL_MS = 5 * 60 * 1000;

/** Loads (and caches for five minutes) the secrets document. */
export async function loadSecrets(source: { arn?: string; file?: string }): Promise<SecretsDocument> {
  if (cache && Date.now() - cache.at < TTL_MS) return cache.doc;
  let raw: string;
  if (source.arn) {
    try {
      const res = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: source.arn }));
      raw = res.SecretString ?? '';
    } catch (err) {
      // Throttling and network errors pass: retry (the error names the secret, never a value).
      throw new SeamworkError('SECRETS_UNAVAILABLE', `Could not read secret ${source.arn}: ${(err as Error).name}`, true, { cause: err });
    }
  } else if (source.file) {
    raw = await readFile(source.file, 'utf8');
  } else {
    throw new ConfigurationError('Neither SEAMWORK_SECRETS_ARN nor SEAMWORK_SECRETS_FILE is set; webhook signatures cannot be verified.');
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigurationError(`The secrets document${source.arn ? '' : ` in ${source.file}`} is not valid JSON.`);
  }
  const parsed = SecretsDocumentSchema.safeParse(json);
  if (!parsed.success) throw new ConfigurationError(`The secrets document is malformed at ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}.`);
  cache = { doc: parsed.data, at: Date.now() };
  return parsed.data;
}

/** Signing secrets for one webhook source; a missing name is a configuration error. */
export async function webhookSecrets(source: { arn?: string; file?: string }, name: string): Promise<string[]> {
  const doc = await loadSecrets(source);
  const list = doc.webhooks[name];
  if (!list) throw new ConfigurationError(`No webhook signing secret named "${name}" in the secrets document.`);
  return list;
}

/** Forgets cached secrets (rotation tests). */
export function resetSecrets(): void {
  cache = undefined;
}
