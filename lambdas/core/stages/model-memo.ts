import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit-record.js';
import type { ModelPort, ModelResult } from '../ports.js';
import type { BuiltPrompt } from '../prompt.js';
import type { StepMemo } from '../stage-runner.js';

/**
 * A model port whose successful calls happen once per (decision, stage, request): the answer is
 * kept in the stage ledger the moment it arrives, and a later attempt of the same stage (after a
 * crash, a timeout or a retryable failure further on) gets it back marked `replayed` instead of
 * calling again. Failed calls are not kept: the retry loop's budget governs those.
 */
export function memoModel(model: ModelPort, memo: StepMemo): ModelPort {
  // The same request twice in one stage (a canary at the generation's own temperature) is two calls.
  const seen = new Map<string, number>();
  return {
    id: model.id,
    ...(model.countTokens ? { countTokens: (p: BuiltPrompt) => model.countTokens!(p) } : {}),
    async invoke(prompt: BuiltPrompt): Promise<ModelResult> {
      const hash = createHash('sha256').update(canonicalJson(prompt.request)).digest('hex').slice(0, 32);
      const n = (seen.get(hash) ?? 0) + 1;
      seen.set(hash, n);
      const step = `model:${hash}${n > 1 ? `:${n}` : ''}`;
      let called = false;
      const result = await memo.once(step, async () => {
        called = true;
        return model.invoke(prompt);
      });
      return called ? result : { ...result, replayed: true };
    },
  };
}
