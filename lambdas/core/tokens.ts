/**
 * Offline token estimate used by windowing and the cost pre-flight.
 *
 * It must be a worst case, not a best guess: the pre-flight reserves budget for the most a call
 * can cost before the call is made (invariant 3), so an estimate that is too low could let spend
 * pass a cap, while one that is too high only reserves a little more and is reconciled against
 * the actual `usage` afterwards. Claude's tokenizer averages roughly 3.5–4 characters of English
 * per token, so one token per 3 UTF-8 bytes over-estimates English by about a quarter, and text
 * in multi-byte scripts (3 bytes per CJK character) is counted as about one token per character.
 * It is an estimate, not a bound proven for every input — the infer stage may confirm with the
 * `count_tokens` endpoint when a call is close to a cap.
 */

/** Bytes of UTF-8 counted as one token. */
export const BYTES_PER_TOKEN = 3;

/** Conservative (over-)estimate of the tokens in `text`: ceil(UTF-8 bytes / 3). */
export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN);
}
