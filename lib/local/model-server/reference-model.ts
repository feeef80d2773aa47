/**
 * The Seamwork reference model: a deterministic, offline, extractive stand-in for an LLM behind
 * the Messages API. It is NOT a language model. It reads the output schema it is asked to fill
 * (a forced tool's `input_schema` or `output_config.format.schema`), scores enum values by cue
 * words the schema's own descriptions declare, and quotes source sentences verbatim. That is
 * enough to drive the whole pipeline (schema checks, grounding checks, abstention, cost) on a
 * laptop with exact, repeatable outcomes. It must not know any integration by name.
 *
 * The grounding conventions (docs/grounding.md) are read off the schema's shape too: an evidence
 * item with an `id` gets `q1`, `q2`, …; a claims list (items with `quote_ids`, a `field` enum and a
 * `statement`) is written last, one claim per field that holds a value, citing the quote that
 * field was decided on; with citations enabled and the tool left to the model's choice, each
 * claim is also written as a cited `<field>: <sentence>` text block before the tool call; and a
 * verdict list (items with `claim_id` and a `supported`/`unsupported` verdict) makes the model a
 * fresh-context judge of the claims in the document titled `claims` (see `judge.ts`).
 */
import { requestHash, sha256Hex } from './hash.js';
import { countWords, matchCues, parseCues, parseDefault, splitSentences, type CueMatch, type Sentence } from './cues.js';
import { propertiesOf, stringEnum, unwrap, type Unwrapped } from './json-schema.js';
import { judgeStatement, splitClaimsDocument } from './judge.js';
import { arrayItemObject, claimsShape, verdictsProperty } from './shapes.js';
import {
  cachePrefix,
  collectSources,
  promptSegments,
  type JsonSchema,
  type MessagesRequest,
  type SourceDocument,
  type ToolParam,
} from './request.js';
import { countSegmentTokens, countTokens, truncateToTokens } from './tokens.js';

/** The model name the server reports about itself (requests still echo their own `model`). */
export const REFERENCE_MODEL_ID = 'seamwork-reference';

/** Prefix of every explanation, so nobody mistakes reference output for an LLM's. */
export const REFERENCE_LABEL = 'reference model (not an LLM)';

/** A content block of the reply, shaped like the API's. */
export type ReplyBlock =
  | { type: 'text'; text: string; citations?: Array<Record<string, unknown>> | null }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

/** The Messages API `usage` object the reference model reports. */
export interface ReplyUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  server_tool_use: null;
  service_tier: 'standard';
}

/** A Messages API `Message` object. */
export interface ReplyMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ReplyBlock[];
  stop_reason: 'end_turn' | 'tool_use' | 'max_tokens';
  stop_sequence: null;
  usage: ReplyUsage;
}

/** State the caller (the server) holds across requests; the model itself is pure. */
export interface AnswerOptions {
  /** Cache prefix hashes already written; a hit reports `cache_read_input_tokens`. */
  cachedPrefixes?: ReadonlySet<string>;
}

/** The reply plus what the caller must remember. */
export interface Answer {
  message: ReplyMessage;
  /** The prefix hash this request wrote or read, to add to the caller's cache set. */
  cachePrefixHash: string | null;
}

/** What the model concluded about one enum property. */
export interface EnumDecision {
  path: string;
  name: string;
  values: string[];
  chosen: string;
  /** Summed cue occurrences of the chosen value; 0 means it was a default. */
  score: number;
  /** Cue matches supporting the chosen value, in source order. */
  matches: CueMatch[];
  /** Whether the enum has an `insufficient…` value (an abstention switch). */
  abstention: boolean;
}

/** Everything the filler derived from the sources before writing any field. */
export interface Analysis {
  sources: SourceDocument[];
  sentences: Sentence[];
  words: number;
  decisions: Map<string, EnumDecision>;
  /** Thin evidence: the model abstains (insufficient value, low confidence, no evidence). */
  abstain: boolean;
  /** Distinct cues behind the chosen values. */
  matchedCues: string[];
  /** The sentences quoted as evidence, at most three, empty when abstaining. */
  evidence: Array<{ sentence: Sentence; match?: CueMatch; decision?: EnumDecision }>;
}

const INSUFFICIENT = /insufficient/i;

function collectEnums(schema: JsonSchema, root: JsonSchema, prefix: string, out: Array<{ path: string; name: string; values: string[]; description?: string }>) {
  for (const [name, prop] of propertiesOf(schema)) {
    const u = unwrap(prop, root);
    const path = prefix ? `${prefix}.${name}` : name;
    const values = stringEnum(u.schema);
    if (values) out.push({ path, name, values, description: u.description });
    else if (u.schema.type === 'object') collectEnums(u.schema, root, path, out);
  }
}

function decide(values: string[], description: string | undefined, sentences: Sentence[]) {
  const cues = parseCues(description, values);
  const matches = matchCues(cues, sentences);
  const scores = values.map((v) => matches.filter((m) => m.value === v).reduce((n, m) => n + m.count, 0));
  let best = -1;
  scores.forEach((s, i) => {
    if (s > 0 && (best < 0 || s > scores[best])) best = i;
  });
  const chosen = best >= 0 ? values[best] : (parseDefault(description, values) ?? values[0]);
  return { chosen, score: best >= 0 ? scores[best] : 0, matches: matches.filter((m) => m.value === chosen) };
}

/**
 * Reads the sources against a schema: picks every enum value by its cues, decides whether the
 * evidence is too thin to answer (fewer than 12 words, or no cue for any non-abstention enum),
 * and chooses up to three verbatim sentences as evidence.
 */
export function analyse(schema: JsonSchema, sources: SourceDocument[]): Analysis {
  const sentences = splitSentences(sources);
  const words = countWords(sources);
  const enums: Array<{ path: string; name: string; values: string[]; description?: string }> = [];
  collectEnums(unwrap(schema, schema).schema, schema, '', enums);

  const decisions = new Map<string, EnumDecision>();
  for (const e of enums) {
    const abstention = e.values.some((v) => INSUFFICIENT.test(v));
    const candidates = abstention ? e.values.filter((v) => !INSUFFICIENT.test(v)) : e.values;
    const d = decide(candidates.length > 0 ? candidates : e.values, e.description, sentences);
    decisions.set(e.path, { ...e, ...d, abstention });
  }
  const ordinary = [...decisions.values()].filter((d) => !d.abstention);
  const abstain = words < 12 || (ordinary.length > 0 && ordinary.every((d) => d.score === 0));
  for (const d of decisions.values()) {
    if (d.abstention && abstain) {
      d.chosen = d.values.find((v) => INSUFFICIENT.test(v)) ?? d.chosen;
      d.score = 0;
      d.matches = [];
    }
  }

  const supporting = [...decisions.values()].filter((d) => d.score > 0);
  const matchedCues = [...new Set(supporting.flatMap((d) => d.matches.map((m) => m.cue)))];

  // One sentence per decided property first, so a second field's evidence is not crowded out by
  // the first field's many matches; then the rest in source order.
  const evidence: Analysis['evidence'] = [];
  if (!abstain) {
    const seen = new Set<Sentence>();
    const take = (m: CueMatch, d: EnumDecision) => {
      if (evidence.length < 3 && !seen.has(m.sentence)) {
        seen.add(m.sentence);
        evidence.push({ sentence: m.sentence, match: m, decision: d });
      }
    };
    for (const d of supporting) if (d.matches[0]) take(d.matches[0], d);
    const rest = supporting
      .flatMap((d) => d.matches.map((m) => ({ m, d })))
      .sort((a, b) => a.m.sentence.sourceIndex - b.m.sentence.sourceIndex || a.m.sentence.segmentIndex - b.m.sentence.segmentIndex || a.m.sentence.start - b.m.sentence.start);
    for (const { m, d } of rest) take(m, d);
  }
  return { sources, sentences, words, decisions, abstain, matchedCues, evidence };
}

function cut(text: string, schema: JsonSchema, filler: string): string {
  let out = text;
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  if ([...out].length < min) out = `${out}${out && filler ? ' ' : ''}${filler}`;
  if ([...out].length < min) out = out.padEnd(min, '.');
  if (typeof schema.maxLength === 'number') out = [...out].slice(0, schema.maxLength).join('');
  return out;
}

function clamp(value: number, schema: JsonSchema): number {
  let v = value;
  if (typeof schema.minimum === 'number') v = Math.max(v, schema.minimum);
  if (typeof schema.maximum === 'number') v = Math.min(v, schema.maximum);
  if (typeof schema.exclusiveMinimum === 'number' && v <= schema.exclusiveMinimum) v = schema.exclusiveMinimum + (schema.type === 'integer' ? 1 : 0.01);
  if (typeof schema.exclusiveMaximum === 'number' && v >= schema.exclusiveMaximum) v = schema.exclusiveMaximum - (schema.type === 'integer' ? 1 : 0.01);
  return schema.type === 'integer' ? Math.round(v) : Math.round(v * 100) / 100;
}

/**
 * A cue as the reasoning names it: words joined by `_` (a single very long word cut), so the
 * reasoning never repeats a run of source text. Quotes may reach an action; reasoning must not,
 * and a reasoning that echoed a source phrase would look exactly like a leak.
 */
function cueLabel(cue: string): string {
  const words = cue.trim().split(/\s+/);
  if (words.length > 1) return words.join('_');
  const chars = [...words[0]];
  return chars.length > 16 ? `${chars.slice(0, 15).join('')}…` : words[0];
}

function explain(a: Analysis): string {
  if (a.abstain) {
    const why = a.words < 12 ? `the sources hold only ${a.words} words` : 'no cue matched in the sources';
    return `${REFERENCE_LABEL}: insufficient evidence; ${why}.`;
  }
  const parts = [...a.decisions.values()].map((d) =>
    d.abstention && d.score === 0
      ? `${d.name}=${d.chosen} (evidence sufficient)`
      : d.score > 0 ? `matched ${[...new Set(d.matches.map((m) => cueLabel(m.cue)))].join(', ')} → ${d.name}=${d.chosen}` : `no cue → ${d.name}=${d.chosen} (default)`,
  );
  return `${REFERENCE_LABEL}: ${parts.join('; ')}.`;
}

function missingItems(a: Analysis): string[] {
  if (!a.abstain) return [];
  const out: string[] = [];
  if (a.words < 12) out.push('a description of the problem');
  for (const d of a.decisions.values()) {
    if (!d.abstention && d.score === 0) out.push(`information that determines the ${d.name.replace(/_/g, ' ')}`);
  }
  return out.length > 0 ? out : ['more detail in the sources'];
}

/** An evidence item as written: its `q<n>` id (when the schema has an `id`) and the sentence it quotes. */
export interface EmittedEvidence {
  id?: string;
  entry: Analysis['evidence'][number];
}

/** A claim as written, with the evidence it cites (what citations mode cites). */
export interface ClaimTrace {
  field: string;
  evidence: EmittedEvidence;
}

interface FillContext {
  root: JsonSchema;
  analysis: Analysis;
  firstSentence: string;
  /** The first evidence list written, in output order; null until one is written. */
  emitted: EmittedEvidence[] | null;
  /** Claims written by the post-pass, in output order. */
  claims: ClaimTrace[];
  /** Whether the schema has a claims list anywhere the filler reached. */
  claimsSchema: boolean;
}

function isHighPriority(a: Analysis): { high: boolean; sentence?: string } {
  const d = [...a.decisions.values()].find((x) => /priority/i.test(x.name));
  if (!d) return { high: false };
  const rank = d.values.indexOf(d.chosen);
  return { high: rank >= d.values.length - 2, sentence: d.matches[0]?.sentence.text };
}

function fillString(name: string, u: Unwrapped, ctx: FillContext, path: string): string | null {
  const s = u.schema;
  const decision = ctx.analysis.decisions.get(path);
  if (decision) return decision.chosen;
  const values = stringEnum(s);
  if (values) return values[0];
  if (typeof s.const === 'string') return s.const;
  const lower = name.toLowerCase();
  if (lower.includes('summary')) return cut(ctx.firstSentence, s, '');
  if (/reasoning|rationale|explanation/.test(lower)) return cut(explain(ctx.analysis), s, '');
  if (lower.includes('reason')) {
    const p = isHighPriority(ctx.analysis);
    if (p.high && !ctx.analysis.abstain) return cut(p.sentence ?? ctx.firstSentence, s, ctx.firstSentence);
    return u.nullable ? null : cut('', s, ctx.firstSentence);
  }
  if (s.format === 'date-time') return '1970-01-01T00:00:00Z';
  if (s.format === 'date') return '1970-01-01';
  if (s.format === 'email') return 'unknown@example.invalid';
  if (s.format === 'uri' || s.format === 'url') return 'about:blank';
  if (s.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
  if (u.nullable) return null;
  return cut('', s, ctx.firstSentence);
}

function fillEvidenceItem(item: JsonSchema, ctx: FillContext, e: Analysis['evidence'][number], path: string, index: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, prop] of propertiesOf(item)) {
    const u = unwrap(prop, ctx.root);
    if (name === 'quote') out[name] = e.sentence.text;
    // Quotes first: each quote gets its own id, q1, q2, … in order, for claims to cite.
    else if (name === 'id' && u.schema.type === 'string') out[name] = `q${index + 1}`;
    else if (/^(source|source_id|document|document_id|doc_id)$/i.test(name) && u.schema.type === 'string') {
      const allowed = stringEnum(u.schema);
      out[name] = allowed ? (allowed.includes(e.sentence.source) ? e.sentence.source : allowed[0]) : e.sentence.source;
    } else if (u.schema.type === 'string' && !stringEnum(u.schema) && e.match && e.decision) {
      // Any other free-text field (claim, supports, field…) states what the quote supports.
      out[name] = cut(`${e.decision.name}=${e.decision.chosen} (cue '${e.match.cue}')`, u.schema, '');
    } else out[name] = fillValue(name, prop, ctx, `${path}.${name}`);
  }
  return out;
}

function fillArray(name: string, s: JsonSchema, ctx: FillContext, path: string): unknown[] {
  const items = (s.items ?? {}) as JsonSchema;
  const itemU = unwrap(items, ctx.root);
  const min = typeof s.minItems === 'number' ? s.minItems : 0;
  const max = typeof s.maxItems === 'number' ? s.maxItems : Infinity;
  let out: unknown[] = [];
  if (itemU.schema.type === 'object' && propertiesOf(itemU.schema).some(([n]) => n === 'quote')) {
    let evidence = ctx.analysis.evidence;
    if (evidence.length < min) {
      // The schema demands quotes even when abstaining: quote the opening sentences, which are
      // at least verbatim, rather than emit something that fails validation.
      const extra = ctx.analysis.sentences.filter((x) => !evidence.some((e) => e.sentence === x)).map((sentence) => ({ sentence }));
      evidence = [...evidence, ...extra].slice(0, min);
    }
    const chosen = evidence.slice(0, max);
    out = chosen.map((e, i) => fillEvidenceItem(itemU.schema, ctx, e, `${path}[]`, i));
    if (!ctx.emitted) {
      const ids = propertiesOf(itemU.schema).some(([n, p]) => n === 'id' && unwrap(p, ctx.root).schema.type === 'string');
      ctx.emitted = chosen.map((entry, i) => ({ ...(ids ? { id: `q${i + 1}` } : {}), entry }));
    }
  } else if (/missing/i.test(name) && itemU.schema.type === 'string') {
    out = missingItems(ctx.analysis).map((m) => cut(m, itemU.schema, ''));
  }
  // Pad to minItems; distinct enum values first, so a `uniqueItems` array stays valid.
  const itemValues = stringEnum(itemU.schema);
  while (out.length < min) out.push(itemValues ? itemValues[out.length % itemValues.length] : fillValue(name, items, ctx, `${path}[]`));
  return out.slice(0, max);
}

/** Whether a payload value is something a claim must support. */
function holdsValue(v: unknown): boolean {
  return v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0);
}

/**
 * The evidence a claim about `field` cites: the quote the analysis took for that field's enum
 * decision; for a free-text field, the quote its value repeats; else the first quote.
 */
function evidenceFor(field: string, value: unknown, emitted: EmittedEvidence[]): EmittedEvidence {
  return (
    emitted.find((e) => e.entry.decision?.path === field) ??
    emitted.find((e) => e.entry.decision?.name === field) ??
    (typeof value === 'string' ? emitted.find((e) => value.includes(e.entry.sentence.text)) : undefined) ??
    emitted[0]
  );
}

/**
 * The claims post-pass, run once the rest of the object is written: one claim per `field` enum
 * value whose payload value holds something, stating the quote it cites. None when abstaining.
 */
function fillClaims(arraySchema: JsonSchema, item: JsonSchema, fields: string[], payload: Record<string, unknown>, ctx: FillContext, path: string): unknown[] {
  ctx.claimsSchema = true;
  const s = unwrap(arraySchema, ctx.root).schema;
  const min = typeof s.minItems === 'number' ? s.minItems : 0;
  const max = typeof s.maxItems === 'number' ? s.maxItems : Infinity;
  const out: unknown[] = [];
  const emitted = ctx.emitted ?? [];
  if (!ctx.analysis.abstain && emitted.length > 0) {
    for (const field of fields) {
      if (out.length >= max || !holdsValue(payload[field])) continue;
      const evidence = evidenceFor(field, payload[field], emitted);
      const claim: Record<string, unknown> = {};
      for (const [name, prop] of propertiesOf(item)) {
        const u = unwrap(prop, ctx.root);
        if (name === 'field') claim[name] = field;
        else if (name === 'statement') claim[name] = cut(evidence.entry.sentence.text, u.schema, '');
        else if (name === 'quote_ids') claim[name] = evidence.id ? [evidence.id] : [];
        else claim[name] = fillValue(name, prop, ctx, `${path}[].${name}`);
      }
      out.push(claim);
      ctx.claims.push({ field, evidence });
    }
  }
  while (out.length < min) out.push(fillValue('', item, ctx, `${path}[]`));
  return out;
}

function fillObject(s: JsonSchema, ctx: FillContext, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const deferred: Array<{ name: string; prop: JsonSchema; item: JsonSchema; fields: string[] }> = [];
  for (const [name, prop] of propertiesOf(s)) {
    const item = arrayItemObject(prop, ctx.root);
    const shape = item ? claimsShape(item, ctx.root) : undefined;
    if (item && shape) {
      // Keep the schema's key order: the slot is taken now, the claims are written last.
      out[name] = [];
      deferred.push({ name, prop, item, fields: shape.fields });
    } else out[name] = fillValue(name, prop, ctx, path ? `${path}.${name}` : name);
  }
  for (const d of deferred) out[d.name] = fillClaims(d.prop, d.item, d.fields, out, ctx, path ? `${path}.${d.name}` : d.name);
  return out;
}

function fillValue(name: string, schema: JsonSchema, ctx: FillContext, path: string): unknown {
  const u = unwrap(schema, ctx.root);
  const s = u.schema;
  if (s.const !== undefined) return s.const;
  switch (s.type) {
    case 'object':
      return fillObject(s, ctx, path);
    case 'array':
      return fillArray(name, s, ctx, path);
    case 'string':
      return fillString(name, u, ctx, path);
    case 'number':
    case 'integer': {
      if (Array.isArray(s.enum)) return s.enum[0];
      if (/confidence/i.test(name)) {
        const raw = ctx.analysis.abstain ? 0.2 : Math.min(0.95, 0.55 + 0.1 * ctx.analysis.matchedCues.length);
        return clamp(raw, s);
      }
      return u.nullable ? null : clamp(0, s);
    }
    case 'boolean':
      return false;
    default:
      return u.nullable || s.type === 'null' ? null : {};
  }
}

/**
 * Fills a JSON Schema from the sources, extractively. The result validates against the schema
 * (required properties, types, enums, bounds, lengths); see the module doc for the field rules.
 */
export function fillSchema(schema: JsonSchema, sources: SourceDocument[]): Filled {
  const analysis = analyse(schema, sources);
  const ctx: FillContext = { root: schema, analysis, firstSentence: analysis.sentences[0]?.text ?? '', emitted: null, claims: [], claimsSchema: false };
  const value = fillValue('', schema, ctx, '');
  return { value: (value && typeof value === 'object' ? value : {}) as Record<string, unknown>, analysis, evidence: ctx.emitted ?? [], claims: ctx.claims, claimsSchema: ctx.claimsSchema };
}

/** What {@link fillSchema} wrote, with the evidence and claims behind it. */
export interface Filled {
  value: Record<string, unknown>;
  analysis: Analysis;
  /** The evidence list as written (ids and sentences). */
  evidence: EmittedEvidence[];
  /** The claims as written, each with the evidence it cites. */
  claims: ClaimTrace[];
  /** Whether the schema has a claims list. */
  claimsSchema: boolean;
}

/**
 * Answers as a fresh-context judge (docs/grounding.md, step 6): the claims come from the document
 * titled `claims`, the other documents are the sources, and the schema's verdict list gets one
 * verdict per claim by the rules in `judge.ts`. Every other property is filled as usual from the
 * sources alone.
 */
export function judgeSchema(schema: JsonSchema, sources: SourceDocument[]): Record<string, unknown> {
  const verdicts = verdictsProperty(schema);
  const split = splitClaimsDocument(sources);
  const { value } = fillSchema(schema, split.sources);
  if (!verdicts) return value;
  const analysis = analyse(schema, split.sources);
  const ctx: FillContext = { root: schema, analysis, firstSentence: analysis.sentences[0]?.text ?? '', emitted: null, claims: [], claimsSchema: false };
  value[verdicts.key] = split.claims.map((c) => {
    const j = judgeStatement(c.statement, split.sources);
    const out: Record<string, unknown> = {};
    for (const [name, prop] of propertiesOf(verdicts.item)) {
      const u = unwrap(prop, schema);
      if (name === 'claim_id') out[name] = c.claim_id;
      else if (name === 'verdict') out[name] = j.supported ? 'supported' : 'unsupported';
      else if (name === 'quote') out[name] = cut(j.quote, u.schema, '');
      else if (name === 'field' && u.schema.type === 'string' && !stringEnum(u.schema)) out[name] = c.field ?? '';
      else if (name === 'statement' && u.schema.type === 'string') out[name] = c.statement;
      else out[name] = fillValue(name, prop, ctx, `${verdicts.key}[].${name}`);
    }
    return out;
  });
  return value;
}

/** Which output the request asks for: a tool call, a JSON text block, or plain text. */
export type OutputTarget = { kind: 'tool'; tool: ToolParam } | { kind: 'json'; schema: JsonSchema } | { kind: 'text' };

/** Decides the output target: a forced tool, else the first tool (unless `none`), else `output_config`, else text. */
export function outputTarget(req: MessagesRequest): OutputTarget {
  const tools = req.tools ?? [];
  const choice = req.tool_choice;
  if (choice?.type === 'tool') {
    const tool = tools.find((t) => t.name === choice.name);
    if (tool) return { kind: 'tool', tool };
  }
  if (tools.length > 0 && choice?.type !== 'none') return { kind: 'tool', tool: tools[0] };
  const schema = req.output_config?.format?.schema;
  if (schema) return { kind: 'json', schema };
  return { kind: 'text' };
}

/**
 * The API's citation of one sentence, or undefined when its document does not have citations
 * enabled. A text document is cited by character offsets into its text as sent (`Sentence.start`
 * is the offset in its only piece); a content document by content block.
 */
export function citationFor(sentence: Sentence, sources: readonly SourceDocument[]): Record<string, unknown> | undefined {
  const doc = sources[sentence.sourceIndex];
  if (!doc?.citations || doc.documentIndex === undefined) return undefined;
  return doc.kind === 'content'
    ? { type: 'content_block_location', cited_text: sentence.text, document_index: doc.documentIndex, document_title: doc.id, start_block_index: sentence.segmentIndex, end_block_index: sentence.segmentIndex + 1 }
    : { type: 'char_location', cited_text: sentence.text, document_index: doc.documentIndex, document_title: doc.id, start_char_index: sentence.start, end_char_index: sentence.start + sentence.text.length };
}

function textReply(sources: SourceDocument[]): ReplyBlock {
  const first = splitSentences(sources)[0];
  if (!first) return { type: 'text', text: `[${REFERENCE_LABEL}] No source document was provided.` };
  const prefix = `[${REFERENCE_LABEL}] `;
  const block: ReplyBlock = { type: 'text', text: `${prefix}${first.text}` };
  // Cite the quoted sentence the way the API does, so citation-reading code has something real to parse.
  const citation = citationFor(first, sources);
  if (citation) block.citations = [citation];
  return block;
}

/**
 * Citations mode (docs/grounding.md, step 5): a tool the model may choose to call (`tool_choice`
 * auto or absent) and at least one document with citations enabled.
 */
export function isCitationsMode(req: MessagesRequest, sources: readonly SourceDocument[]): boolean {
  const choice = req.tool_choice;
  return (choice === undefined || choice.type === 'auto') && sources.some((s) => s.citations && s.documentIndex !== undefined);
}

/**
 * One text block per claim, `<field>: <sentence>`, citing that sentence where it stands. Without a
 * claims list in the schema, one block per decided enum that has evidence.
 */
function citedClaimBlocks(filled: Filled, sources: readonly SourceDocument[]): ReplyBlock[] {
  let traces = filled.claims.map((c) => ({ field: c.field, sentence: c.evidence.entry.sentence }));
  if (!filled.claimsSchema && !filled.analysis.abstain) {
    const seen = new Set<string>();
    traces = [];
    for (const e of filled.analysis.evidence) {
      if (!e.decision || e.decision.abstention || seen.has(e.decision.name)) continue;
      seen.add(e.decision.name);
      traces.push({ field: e.decision.name, sentence: e.sentence });
    }
  }
  return traces.map((t) => {
    const citation = citationFor(t.sentence, sources);
    return { type: 'text' as const, text: `${t.field}: ${t.sentence.text}`, citations: citation ? [citation] : null };
  });
}

/** Counts a request's input tokens by the reference rule (see `tokens.ts`). */
export function countRequestTokens(req: MessagesRequest): number {
  return countSegmentTokens(promptSegments(req).map((s) => s.text));
}

/**
 * Answers a validated Messages API request. Pure: the same body (and the same cache set) always
 * gives the same message; ids derive from the body hash, never from a clock or a random source.
 */
export function answerMessages(req: MessagesRequest, options: AnswerOptions = {}): Answer {
  const bodyHash = requestHash(req);
  const sources = collectSources(req);
  const target = outputTarget(req);

  let content: ReplyBlock[];
  let outputTokens: number;
  let stop: ReplyMessage['stop_reason'];
  if (target.kind === 'text') {
    const block = textReply(sources);
    outputTokens = countTokens(block.type === 'text' ? block.text : '');
    content = [block];
    stop = 'end_turn';
  } else {
    const schema = target.kind === 'tool' ? target.tool.input_schema : target.schema;
    let value: Record<string, unknown>;
    let lead: ReplyBlock[] = [];
    if (verdictsProperty(schema)) value = judgeSchema(schema, sources);
    else {
      const filled = fillSchema(schema, sources);
      value = filled.value;
      // Citations mode: the cited claims come first as text, then the tool call.
      if (target.kind === 'tool' && isCitationsMode(req, sources)) lead = citedClaimBlocks(filled, sources);
    }
    const json = JSON.stringify(value);
    outputTokens = countTokens(json) + lead.reduce((n, b) => n + (b.type === 'text' ? countTokens(b.text) : 0), 0);
    content =
      target.kind === 'tool'
        ? [...lead, { type: 'tool_use', id: `toolu_${sha256Hex(`${bodyHash}:tool:0`).slice(0, 24)}`, name: target.tool.name, input: value }]
        : [{ type: 'text', text: json }];
    stop = target.kind === 'tool' ? 'tool_use' : 'end_turn';
  }

  if (outputTokens > req.max_tokens) {
    // Like the API: the output stops at max_tokens. Blocks are written in order until the budget
    // runs out; a cut text block keeps its (now invalid) prefix and loses its citations; a cut
    // tool call cannot carry partial JSON as an object, so its input is empty.
    let left = req.max_tokens;
    const kept: ReplyBlock[] = [];
    for (const b of content) {
      if (left <= 0) break;
      if (b.type === 'tool_use') {
        kept.push({ ...b, input: {} });
        left = 0;
        continue;
      }
      const t = countTokens(b.text);
      if (t <= left) {
        kept.push(b);
        left -= t;
      } else {
        kept.push({ type: 'text', text: truncateToTokens(b.text, left) });
        left = 0;
      }
    }
    content = kept;
    outputTokens = req.max_tokens;
    stop = 'max_tokens';
  }

  const total = countRequestTokens(req);
  const prefix = cachePrefix(req);
  const prefixTokens = prefix ? countSegmentTokens(prefix.segments.map((s) => s.text)) : 0;
  const hit = prefix ? (options.cachedPrefixes?.has(prefix.hash) ?? false) : false;
  const created = prefix && !hit ? prefixTokens : 0;
  const usage: ReplyUsage = {
    input_tokens: total - prefixTokens,
    output_tokens: outputTokens,
    cache_creation_input_tokens: created,
    cache_read_input_tokens: hit ? prefixTokens : 0,
    cache_creation: {
      ephemeral_5m_input_tokens: prefix?.ttl === '5m' ? created : 0,
      ephemeral_1h_input_tokens: prefix?.ttl === '1h' ? created : 0,
    },
    server_tool_use: null,
    service_tier: 'standard',
  };

  return {
    message: {
      id: `msg_${bodyHash.slice(0, 24)}`,
      type: 'message',
      role: 'assistant',
      model: req.model,
      content,
      stop_reason: stop,
      stop_sequence: null,
      usage,
    },
    cachePrefixHash: prefix?.hash ?? null,
  };
}

/** The schema the request asks to be filled, if any (used by the fault injector). */
export function requestedSchema(req: MessagesRequest): JsonSchema | undefined {
  const target = outputTarget(req);
  return target.kind === 'tool' ? target.tool.input_schema : target.kind === 'json' ? target.schema : undefined;
}
