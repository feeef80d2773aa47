import { replayDecision } from '../../lambdas/core/replay.js';
import { INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { AnthropicModel } from '../../lambdas/model/anthropic.js';
import { cliAuditStore } from './state.js';

/**
 * `seamwork replay <decision-id> [--model <id>]`: the decision rebuilt from its audit records
 * and run again through infer → verify → act with actions suppressed, against the same or
 * another model; prints what changed.
 */
export async function replayCommand(decisionId: string, opts: { model?: string; json: boolean; bucket?: string }): Promise<number> {
  const audit = cliAuditStore(opts.bucket);
  for (const def of Object.values(INTEGRATIONS)) {
    const records = await audit.listDecision(def.name, decisionId);
    if (records.length === 0) continue;
    const res = await replayDecision(def, records, { model: new AnthropicModel(), modelId: opts.model });
    if (opts.json) {
      console.log(JSON.stringify({ ...res, replayed: { ...res.replayed, records: undefined } }, null, 2));
      return 0;
    }
    console.log(`replay ${decisionId} (${def.name}) on ${res.replayModel}${res.originalModel ? `, originally ${res.originalModel}` : ''} — actions suppressed`);
    console.log(`window      ${res.windowMatches ? 'rebuilt from the audited input: identical documents and cuts' : 'DIFFERENT when rebuilt from the audited input (windowing or documents() changed since)'}`);
    console.log(`prompt hash ${res.promptHashMatches === null ? 'n/a (no original model call)' : res.promptHashMatches ? 'identical to the audited prompt' : 'DIFFERENT from the audited prompt'}`);
    console.log(`outcome   original ${res.original.outcome ?? 'n/a'}   replay ${res.replayed.outcome}${res.replayed.reason ? ` (${res.replayed.reason})` : ''}`);
    if (res.differences.length === 0) console.log('decision  identical');
    for (const d of res.differences) console.log(`  ${d.field}: ${JSON.stringify(d.original)} → ${JSON.stringify(d.replayed)}`);
    return 0;
  }
  console.error(`No audit records for decision ${decisionId}. (The local audit log lives in memory: decisions from an earlier \`npm start\` are gone when it stops.)`);
  return 1;
}
