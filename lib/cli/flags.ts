import { writeFileSync } from 'node:fs';
import { FLAG_OFF, FlagsDocumentSchema, IntegrationFlagSchema } from '../../lambdas/core/flags.js';
import { INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { readJsonFile } from './read-json.js';

const USAGE = 'usage: seamwork flags [show] | seamwork flags set <integration> enabled=true|false rolloutPercent=<0..100> mode=live|shadow';

/** Parses one `key=value` strictly: booleans are `true|false`, the rollout an integer 0..100. */
function parsePair(pair: string): [string, unknown] | string {
  const eq = pair.indexOf('=');
  const key = eq < 0 ? pair : pair.slice(0, eq);
  const value = eq < 0 ? undefined : pair.slice(eq + 1);
  if (value === undefined || value === '') return `"${pair}" has no value.`;
  switch (key) {
    case 'enabled':
      return value === 'true' || value === 'false' ? [key, value === 'true'] : `enabled must be true or false, got "${value}".`;
    case 'rolloutPercent':
      return /^\d{1,3}$/.test(value) && Number(value) <= 100 ? [key, Number(value)] : `rolloutPercent must be a whole number from 0 to 100, got "${value}".`;
    case 'mode':
      return value === 'live' || value === 'shadow' ? [key, value] : `mode must be live or shadow, got "${value}".`;
    default:
      return `Unknown setting "${key}": use enabled=, rolloutPercent= or mode=.`;
  }
}

/**
 * `seamwork flags [show]` and `seamwork flags set <integration> key=value…` on the local flags
 * file that the local AppConfig agent serves. In AWS, flags change through an AppConfig
 * deployment of the flags profile (see the README), never through a stack update.
 */
export function flagsCommand(file: string, args: string[]): number {
  const parsedDoc = FlagsDocumentSchema.safeParse(readJsonFile(file, 'flags file'));
  if (!parsedDoc.success) {
    console.error(`The flags file ${file} is invalid: ${parsedDoc.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    return 2;
  }
  const doc = parsedDoc.data;
  const [verb = 'show', integration, ...pairs] = args;
  if (verb === 'show') {
    for (const name of Object.keys(INTEGRATIONS)) {
      const f = doc[name];
      console.log(!f ? `${name}: not in the flags file (baseline only)` : `${name}: ${f.enabled ? `AI enabled, rollout ${f.rolloutPercent}%, mode ${f.mode}` : 'AI disabled by the kill switch (baseline only)'}`);
    }
    return 0;
  }
  if (verb !== 'set' || !integration || pairs.length === 0) {
    console.error(USAGE);
    return 2;
  }
  if (!Object.hasOwn(INTEGRATIONS, integration)) {
    console.error(`No integration named "${integration}" (known: ${Object.keys(INTEGRATIONS).join(', ')}).`);
    return 2;
  }
  const next: Record<string, unknown> = { ...(doc[integration] ?? FLAG_OFF) };
  for (const pair of pairs) {
    const parsed = parsePair(pair);
    if (typeof parsed === 'string') {
      console.error(`Refused: ${parsed}\n${USAGE}`);
      return 2;
    }
    next[parsed[0]] = parsed[1];
  }
  const flag = IntegrationFlagSchema.parse(next);
  writeFileSync(file, JSON.stringify({ ...doc, [integration]: flag }, null, 2) + '\n');
  console.log(`${integration}: ${JSON.stringify(flag)} — the local AppConfig agent serves it on the next read, no restart.`);
  return 0;
}
