/**
 * Deterministic token counting for the reference model.
 *
 * Rule: a piece of text costs `ceil(utf8 bytes / 4)` tokens, and a request costs the sum over its
 * segments (each tool definition, each system block, each message content block). Four bytes per
 * token is close to real tokenisers for English prose and, unlike them, needs no vocabulary file,
 * so cost pre-flight, budget reservation and reconciliation can be tested offline with exact
 * expected numbers. It is not Claude's tokenizer; never use it to price real traffic.
 */

/** Bytes that one token stands for under the reference rule. */
export const BYTES_PER_TOKEN = 4;

/** Tokens for one piece of text: `ceil(utf8 bytes / 4)`; the empty string costs 0. */
export function countTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN);
}

/** Sum of {@link countTokens} over segments, the way a whole request is counted. */
export function countSegmentTokens(segments: readonly string[]): number {
  return segments.reduce((sum, s) => sum + countTokens(s), 0);
}

/**
 * The longest prefix of `text` that fits in `maxTokens` tokens, cut on a code point boundary so
 * truncated output is still valid UTF-8 (the way a real `max_tokens` stop cuts mid-sentence).
 */
export function truncateToTokens(text: string, maxTokens: number): string {
  const maxBytes = Math.max(0, maxTokens) * BYTES_PER_TOKEN;
  let bytes = 0;
  let out = '';
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > maxBytes) break;
    bytes += size;
    out += ch;
  }
  return out;
}
