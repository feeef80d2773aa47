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
  return {
    id: model.id,
    ...(model.countTokens ? { countTokens: (p: BuiltPrompt) => model.countTokens!(p) } : {}),
    async invoke(prompt: BuiltPrompt): Promise<ModelResult> {
      const step = `model:${createHash('sha256').update(canonicalJson(prompt.request)).digest('hex').slice(0, 32)}`;
      let called = false;
      const result = await memo.once(step, async () => {
        called = true;
        return model.invoke(prompt);
      });
      return called ? result : { ...result, replayed: true };
    },
  };
}
