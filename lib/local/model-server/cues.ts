/**
 * Text primitives of the reference model: sentences (verbatim offsets into the sources), words,
 * and the `<value>: <cue>, <cue>.` convention by which a schema's own descriptions tell the
 * model which words point at which enum value. Nothing here knows any integration by name.
 */
import type { SourceDocument } from './request.js';

/** A sentence of a source, exactly as it appears there (no normalisation). */
export interface Sentence {
  /** The source document's id. */
  source: string;
  /** Position of the source in the request, for stable ordering. */
  sourceIndex: number;
  /** Which text piece of the source the sentence is in. */
  segmentIndex: number;
  /** Offset of the sentence in that piece. */
  start: number;
  /** Verbatim text: `piece.slice(start, start + text.length)`. */
  text: string;
}

// A sentence ends at terminal punctuation (with closing quotes/brackets) followed by whitespace
// or the end, or at a line break: tickets and emails use line breaks as sentence boundaries.
const BOUNDARY = /[.!?]+["')\]]*(?=\s|$)|\r?\n/g;

/** Splits every source into sentences whose text is a verbatim substring of the source. */
export function splitSentences(sources: readonly SourceDocument[]): Sentence[] {
  const out: Sentence[] = [];
  sources.forEach((doc, sourceIndex) => {
    doc.segments.forEach((piece, segmentIndex) => {
      let from = 0;
      const push = (end: number) => {
        const raw = piece.slice(from, end);
        const lead = raw.length - raw.trimStart().length;
        const text = raw.trim();
        if (text.length > 0) out.push({ source: doc.id, sourceIndex, segmentIndex, start: from + lead, text });
      };
      for (const m of piece.matchAll(BOUNDARY)) {
        const end = m[0].endsWith('\n') ? m.index : m.index + m[0].length;
        push(end);
        from = m.index + m[0].length;
      }
      push(piece.length);
    });
  });
  return out;
}

const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;

/** Number of words across all sources; fewer than a dozen is "thin evidence". */
export function countWords(sources: readonly SourceDocument[]): number {
  return sources.reduce((n, d) => n + d.segments.reduce((m, s) => m + (s.match(WORD)?.length ?? 0), 0), 0);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A case-insensitive whole-word/phrase matcher for a cue: "charged twice" matches
 * "Charged  twice!" but "bug" does not match "debugging".
 */
export function cuePattern(cue: string): RegExp {
  const body = cue.trim().split(/\s+/).map(escapeRegExp).join('\\s+');
  return new RegExp(`(?<![\\p{L}\\p{N}_])${body}(?![\\p{L}\\p{N}_])`, 'giu');
}

/**
 * Cues per enum value read from a property description, by the convention
 * `<value>: <cue>, <cue>, <cue>.` The value's own name (with `_`/`-` read as spaces) is always a
 * cue, so an enum without cue lists still reacts to its literal values.
 */
export function parseCues(description: string | undefined, values: readonly string[]): Map<string, string[]> {
  const cues = new Map<string, string[]>();
  for (const value of values) {
    const own = [value, value.replace(/[_-]+/g, ' ')];
    const listed: string[] = [];
    if (description) {
      const re = new RegExp(`(?<![\\p{L}\\p{N}_-])${escapeRegExp(value)}\\s*:\\s*([^.;\\n]*)`, 'iu');
      const m = description.match(re);
      if (m) listed.push(...m[1].split(',').map((c) => c.trim().replace(/^["'“‘]|["'”’]$/g, '').trim()));
    }
    const all = [...own, ...listed].filter((c) => c.length > 0);
    cues.set(value, [...new Set(all.map((c) => c.toLowerCase()))]);
  }
  return cues;
}

/** The value named by `Default: <value>.` in a description, if it is one of the enum values. */
export function parseDefault(description: string | undefined, values: readonly string[]): string | undefined {
  const m = description?.match(/(?<![\p{L}\p{N}_])default\s*:\s*([\p{L}\p{N}_-]+)/iu);
  if (!m) return undefined;
  return values.find((v) => v.toLowerCase() === m[1].toLowerCase());
}

/** One cue found in one sentence. */
export interface CueMatch {
  value: string;
  cue: string;
  sentence: Sentence;
  /** Occurrences of the cue in the sentence. */
  count: number;
}

/** Every occurrence of every value's cues, sentence by sentence, in source order. */
export function matchCues(cues: Map<string, string[]>, sentences: readonly Sentence[]): CueMatch[] {
  const out: CueMatch[] = [];
  for (const sentence of sentences) {
    for (const [value, list] of cues) {
      for (const cue of list) {
        const count = sentence.text.match(cuePattern(cue))?.length ?? 0;
        if (count > 0) out.push({ value, cue, sentence, count });
      }
    }
  }
  return out;
}
