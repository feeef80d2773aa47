import { readFileSync, writeFileSync } from 'node:fs';
import { FlagsDocumentSchema, IntegrationFlagSchema, FLAG_OFF } from '../../lambdas/core/flags.js';

/** `seamwork flags [show]` and `seamwork flags set <integration> key=value…` on the local flags file. */
export function flagsCommand(file: string, args: string[]): number {
  const doc = FlagsDocumentSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const [verb = 'show', integration, ...pairs] = args;
  if (verb === 'show') {
    for (const [name, f] of Object.entries(doc)) console.log(`${name}: ${f.enabled ? 'enabled' : 'KILLED (baseline only)'}, rollout ${f.rolloutPercent}%, mode ${f.mode}`);
    return 0;
  }
  if (verb !== 'set' || !integration || pairs.length === 0) {
    console.error('usage: seamwork flags [show] | seamwork flags set <integration> enabled=true|false rolloutPercent=0..100 mode=live|shadow');
    return 2;
  }
  const next: Record<string, unknown> = { ...(doc[integration] ?? FLAG_OFF) };
  for (const pair of pairs) {
    const [key, value] = pair.split('=');
    if (!['enabled', 'rolloutPercent', 'mode'].includes(key) || value === undefined) {
      console.error(`Cannot set "${pair}": use enabled=, rolloutPercent= or mode=.`);
      return 2;
    }
    next[key] = key === 'enabled' ? value === 'true' : key === 'rolloutPercent' ? Number(value) : value;
  }
  const parsed = IntegrationFlagSchema.safeParse(next);
  if (!parsed.success) {
    console.error(`Refused: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return 2;
  }
  writeFileSync(file, JSON.stringify({ ...doc, [integration]: parsed.data }, null, 2) + '\n');
  console.log(`${integration}: ${JSON.stringify(parsed.data)} — the local AppConfig agent serves it on the next read, no restart.`);
  return 0;
}
