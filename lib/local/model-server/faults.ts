/**
 * Fault injection for the reference model server: which fault (if any) a request gets, and how
 * an output fault corrupts a good reply. Selection is a pure function of the seed, the request
 * body's hash and how many times that body has been seen, so a run is reproducible and a retry
 * of the same request rolls again (and can succeed), exactly what retry logic needs to be tested.
 *
 * Output faults imitate the ways a model lies, one grounding check each: `invented_quote` and
 * `near_quote` (quote not verbatim), `phantom_source` and `off_whitelist_source` (a source never
 * given), `invented_number` (a figure from nowhere in free text and a claim, quotes untouched),
 * `unpaired_claim` (a claim citing no quote), `reasoning_last` (reasoning written after the
 * decision), `bad_citation_offset` (a citation pointing beside its text), `divergent` (a second
 * sample that disagrees on a decision field). New kinds are appended: the order of
 * {@link FAULT_KINDS} lays out the cumulative rates, so existing seeds keep their meaning.
 */
import { z } from 'zod';
import { sha256Hex } from './hash.js';
import { splitSentences } from './cues.js';
import { normaliseText } from './judge.js';
import { propertiesOf, stringEnum, unwrap } from './json-schema.js';
import type { JsonSchema, SourceDocument } from './request.js';
import type { ReplyMessage } from './reference-model.js';
import { claimsProperty, claimsShape, evidenceProperty } from './shapes.js';

/** Every fault the server can inject, in the fixed order cumulative rates are laid out in. */
export const FAULT_KINDS = [
  'rate_limit',
  'overloaded',
  'server_error',
  'timeout',
  'malformed_json',
  'schema_break',
  'invented_quote',
  'invented_number',
  'divergent',
  'near_quote',
  'phantom_source',
  'off_whitelist_source',
  'unpaired_claim',
  'reasoning_last',
  'bad_citation_offset',
] as const;

/** One injectable fault. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults answered with an HTTP error instead of a message. */
export const HTTP_FAULTS: ReadonlySet<FaultKind> = new Set(['rate_limit', 'overloaded', 'server_error', 'timeout']);

/** Default hold time of the `timeout` fault, long enough to trip a client's request timeout. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Fault configuration. `rates` are per-request probabilities (summing to at most 1); `seed`
 * makes a different but equally reproducible sequence; `timeoutMs` is how long the `timeout`
 * fault holds the connection before answering 529.
 */
export interface FaultConfig {
  /** @default 0 */
  seed?: number;
  /** @default {} (no faults) */
  rates?: Partial<Record<FaultKind, number>>;
  /** @default 30000 */
  timeoutMs?: number;
}

/** zod schema for a {@link FaultConfig} posted to `POST /_seamwork/faults`. */
export const FaultConfigSchema = z
  .object({
    seed: z.number().int().optional(),
    rates: z.partialRecord(z.enum(FAULT_KINDS), z.number().min(0).max(1)).optional(),
    timeoutMs: z.number().int().min(0).max(600_000).optional(),
  })
  .strict()
  .refine((c) => Object.values(c.rates ?? {}).reduce((a: number, b) => a + (b ?? 0), 0) <= 1 + 1e-9, {
    message: 'fault rates must sum to at most 1',
    path: ['rates'],
  });

/** Whether a string names a fault kind (e.g. an `x-seamwork-fault` header value). */
export function isFaultKind(value: string): value is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(value);
}

/** The deterministic roll in [0, 1) for the `ordinal`-th sighting of a body under a seed. */
export function faultRoll(seed: number, bodyHash: string, ordinal: number): number {
  const hex = sha256Hex(`${seed}:${bodyHash}:${ordinal}`).slice(0, 13);
  return parseInt(hex, 16) / 2 ** 52;
}

/**
 * Picks the fault for one request: the forced kind (from the `x-seamwork-fault` header) wins;
 * otherwise the roll is compared with the rates laid end to end in {@link FAULT_KINDS} order.
 */
export function selectFault(config: FaultConfig, bodyHash: string, ordinal: number, forced?: FaultKind): FaultKind | null {
  if (forced) return forced;
  const roll = faultRoll(config.seed ?? 0, bodyHash, ordinal);
  let cumulative = 0;
  for (const kind of FAULT_KINDS) {
    cumulative += config.rates?.[kind] ?? 0;
    if (roll < cumulative) return kind;
  }
  return null;
}

/** Text that the fault injector puts in the model's mouth; no source should ever contain it. */
export const INVENTED_QUOTE = 'The customer was promised a full refund and a lifetime discount by their account manager.';

/** The web page the `off_whitelist_source` fault attributes its quote to: never a provided document. */
export const OFF_WHITELIST_SOURCE = 'https://en.wikipedia.org/wiki/Refund';

/** The plausible sentence the `off_whitelist_source` fault quotes from {@link OFF_WHITELIST_SOURCE}. */
export const OFF_WHITELIST_QUOTE = 'A refund is the return of a payment to a customer who was charged for goods or services in error.';

/** Offset shift of the `bad_citation_offset` fault, in characters. */
export const CITATION_OFFSET_SHIFT = 7;

const INSUFFICIENT = /insufficient/i;
const REASONING = /reason(ing)?|rationale/i;
const SOURCE_KEY = /^(source|source_id|document|document_id|doc_id)$/i;

/** What a fault needs to know about the request, computed once. */
interface FaultContext {
  schema: JsonSchema | undefined;
  sources: SourceDocument[];
  /** Every source's text, joined, for "appears nowhere" checks. */
  allText: string;
  /** Each source piece and each whole source, normalised, for "not verbatim" checks. */
  normalised: string[];
}

function faultContext(schema: JsonSchema | undefined, sources: SourceDocument[]): FaultContext {
  const normalised = sources.flatMap((s) => [...s.segments.map(normaliseText), normaliseText(s.segments.join('\n'))]);
  return { schema, sources, allText: sources.flatMap((s) => s.segments).join('\n'), normalised };
}

const inSources = (ctx: FaultContext, text: string) => {
  const n = normaliseText(text);
  return n !== '' && ctx.normalised.some((t) => t.includes(n));
};

function rootOf(schema: JsonSchema | undefined): JsonSchema {
  return schema ? unwrap(schema, schema).schema : {};
}

function findEvidenceArray(ctx: FaultContext, payload: Record<string, unknown>): { key: string; item: JsonSchema; items: Array<Record<string, unknown>> } | null {
  const prop = evidenceProperty(ctx.schema);
  if (prop) {
    if (!Array.isArray(payload[prop.key])) payload[prop.key] = [];
    return { key: prop.key, item: prop.item, items: payload[prop.key] as Array<Record<string, unknown>> };
  }
  for (const [key, value] of Object.entries(payload)) {
    if (Array.isArray(value) && value.some((v) => v && typeof v === 'object' && 'quote' in v)) return { key, item: {}, items: value };
  }
  return null;
}

function findClaimsArray(ctx: FaultContext, payload: Record<string, unknown>): { key: string; item: JsonSchema; fields: string[]; items: Array<Record<string, unknown>> } | null {
  const prop = claimsProperty(ctx.schema);
  if (prop) {
    if (!Array.isArray(payload[prop.key])) payload[prop.key] = [];
    const fields = claimsShape(prop.item, ctx.schema ?? {})?.fields ?? [];
    return { key: prop.key, item: prop.item, fields, items: payload[prop.key] as Array<Record<string, unknown>> };
  }
  for (const [key, value] of Object.entries(payload)) {
    if (Array.isArray(value) && value.some((v) => v && typeof v === 'object' && 'quote_ids' in v)) return { key, item: {}, fields: [], items: value };
  }
  return null;
}

/** The name of the source key of an evidence item: the schema's, else `source`. */
function sourceKeyOf(item: JsonSchema): string {
  return propertiesOf(item).find(([n]) => SOURCE_KEY.test(n))?.[0] ?? 'source';
}

/** A new evidence item in the schema's key order, for faults that must quote when the model quoted nothing. */
function newEvidenceItem(item: JsonSchema, index: number, quote: string, source: string): Record<string, unknown> {
  const names = propertiesOf(item).map(([n]) => n);
  const out: Record<string, unknown> = {};
  const sourceKey = sourceKeyOf(item);
  for (const n of names.length > 0 ? names : ['quote', 'source']) {
    if (n === 'id') out.id = `q${index + 1}`;
    else if (n === 'quote') out.quote = quote;
    else if (n === sourceKey) out[n] = source;
  }
  if (!('quote' in out)) out.quote = quote;
  if (!(sourceKey in out)) out[sourceKey] = source;
  return out;
}

/** evidence[0], created from the first source sentence when the model quoted nothing. */
function firstEvidence(ctx: FaultContext, payload: Record<string, unknown>): Record<string, unknown> | null {
  const evidence = findEvidenceArray(ctx, payload);
  if (!evidence) return null;
  if (evidence.items.length === 0) {
    const first = splitSentences(ctx.sources)[0];
    evidence.items.push(newEvidenceItem(evidence.item, 0, first?.text ?? INVENTED_QUOTE, first?.source ?? ctx.sources[0]?.id ?? 'document-1'));
  }
  return evidence.items[0];
}

/**
 * A quote close to `quote` but not verbatim: one word dropped from the middle (three words or
 * more), else the last letter's case changed. Never equal to the original after normalisation,
 * and, where any candidate allows, found in no source.
 */
export function nearQuote(quote: string, isInSources: (text: string) => boolean = () => false): string {
  const words = quote.trim().split(/\s+/).filter(Boolean);
  const candidates: string[] = [];
  if (words.length >= 3) {
    const mid = Math.floor(words.length / 2);
    const order = [mid, ...Array.from({ length: words.length - 2 }, (_, i) => i + 1).filter((i) => i !== mid)];
    for (const i of order) candidates.push([...words.slice(0, i), ...words.slice(i + 1)].join(' '));
  }
  const chars = [...quote];
  for (let i = chars.length - 1; i >= 0; i--) {
    const c = chars[i];
    const flipped = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
    if (flipped !== c && /\p{L}/u.test(c)) {
      candidates.push([...chars.slice(0, i), flipped, ...chars.slice(i + 1)].join(''));
      break;
    }
  }
  candidates.push(chars.length > 1 ? chars.slice(0, -1).join('') : `${quote}x`);
  const original = normaliseText(quote);
  const differing = candidates.filter((c) => normaliseText(c) !== original && normaliseText(c) !== '');
  return differing.find((c) => !isInSources(c)) ?? differing[0] ?? `${quote} x`;
}

function inventedNumber(sourceText: string): string {
  // A number that appears nowhere in the sources, so a "numbers appear in sources" check must trip.
  for (let n = 4817; ; n += 1000) if (!sourceText.includes(String(n))) return String(n);
}

/** The first free-text string property of the payload: not an enum, not reasoning/quote/id/source, not a formatted string. */
function firstFreeText(ctx: FaultContext, payload: Record<string, unknown>): { key: string; schema: JsonSchema } | null {
  const root = rootOf(ctx.schema);
  for (const [name, prop] of propertiesOf(root)) {
    if (/^(reasoning|rationale|explanation|quote|id)$/i.test(name) || SOURCE_KEY.test(name)) continue;
    const s = unwrap(prop, ctx.schema ?? {}).schema;
    if (s.type !== 'string' || stringEnum(s) || s.const !== undefined || s.format !== undefined || s.pattern !== undefined) continue;
    if (typeof payload[name] === 'string') return { key: name, schema: s };
  }
  return null;
}

function appendWithin(value: string, suffix: string, schema: JsonSchema): string {
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
  const room = Math.max(0, max - [...suffix].length);
  const base = [...value].length > room ? [...value].slice(0, room).join('').trimEnd() : value;
  return `${base}${suffix}`;
}

function moveToEnd(payload: Record<string, unknown>, key: string): void {
  const value = payload[key];
  delete payload[key];
  payload[key] = value;
}

function corruptPayload(kind: FaultKind, payload: Record<string, unknown>, ctx: FaultContext): void {
  const { schema } = ctx;
  const sourceId = ctx.sources[0]?.id ?? 'document-1';
  switch (kind) {
    case 'schema_break': {
      const root = rootOf(schema);
      const required = Array.isArray(root.required) ? (root.required as string[]) : Object.keys(payload);
      if (required[0] !== undefined) delete payload[required[0]];
      const enumProp = propertiesOf(root).find(([n, p]) => n !== required[0] && stringEnum(unwrap(p, schema ?? {}).schema));
      if (enumProp) payload[enumProp[0]] = 'not_a_valid_value';
      return;
    }
    case 'divergent': {
      for (const [name, prop] of propertiesOf(rootOf(schema))) {
        const values = stringEnum(unwrap(prop, schema ?? {}).schema);
        // An abstention switch is the outcome, not a decision: a second sample disagrees on a decision field.
        if (!values || values.length < 2 || values.some((v) => INSUFFICIENT.test(v))) continue;
        // The next value in enum order: a plausible but different answer, as a second sample would give.
        const at = values.indexOf(String(payload[name]));
        payload[name] = values[(at + 1) % values.length];
        return;
      }
      return;
    }
    case 'invented_quote': {
      const evidence = findEvidenceArray(ctx, payload);
      if (!evidence) return;
      const quote = ctx.allText.includes(INVENTED_QUOTE) ? `${INVENTED_QUOTE} (verbal)` : INVENTED_QUOTE;
      // The item keeps its id (and source): only the words are invented.
      if (evidence.items.length > 0) evidence.items[0] = { ...evidence.items[0], quote };
      else evidence.items.push(newEvidenceItem(evidence.item, 0, quote, sourceId));
      return;
    }
    case 'invented_number': {
      // The number goes into what the model states in its own words (a free-text field, the first
      // claim), never into a quote: quotes stay verbatim, so the closed-book check must catch it.
      const suffix = ` (${inventedNumber(ctx.allText)} affected)`;
      const text = firstFreeText(ctx, payload);
      if (text) payload[text.key] = appendWithin(payload[text.key] as string, suffix, text.schema);
      const claims = findClaimsArray(ctx, payload);
      const claim = claims?.items[0];
      if (claim) claim.statement = `${typeof claim.statement === 'string' ? claim.statement : ''}${suffix}`;
      if (text || claim) return;
      // No free text and no claim to carry it: the number can only go into a quote.
      const evidence = findEvidenceArray(ctx, payload);
      if (!evidence) return;
      const first = evidence.items[0];
      const base = typeof first?.quote === 'string' ? first.quote : (splitSentences(ctx.sources)[0]?.text ?? 'The amount was');
      const altered = `${base.replace(/[.!?]*$/, '')}${suffix}.`;
      if (first) evidence.items[0] = { ...first, quote: altered };
      else evidence.items.push(newEvidenceItem(evidence.item, 0, altered, sourceId));
      return;
    }
    case 'near_quote':
    case 'bad_citation_offset': {
      const first = firstEvidence(ctx, payload);
      if (first) first.quote = nearQuote(String(first.quote ?? ''), (t) => inSources(ctx, t));
      return;
    }
    case 'phantom_source': {
      const evidence = findEvidenceArray(ctx, payload);
      const first = firstEvidence(ctx, payload);
      if (!evidence || !first) return;
      const provided = new Set(ctx.sources.map((s) => s.id));
      let n = 1;
      while (provided.has(`attachment-${n}`)) n += 1;
      first[sourceKeyOf(evidence.item)] = `attachment-${n}`;
      return;
    }
    case 'off_whitelist_source': {
      const evidence = findEvidenceArray(ctx, payload);
      if (!evidence) return;
      const quote = inSources(ctx, OFF_WHITELIST_QUOTE) ? `${OFF_WHITELIST_QUOTE.replace(/\.$/, '')} (encyclopaedia).` : OFF_WHITELIST_QUOTE;
      const id = evidence.items[0]?.id;
      const item: Record<string, unknown> = {};
      if (typeof id === 'string') item.id = id;
      else if (evidence.items.length === 0 && propertiesOf(evidence.item).some(([n]) => n === 'id')) item.id = 'q1';
      item.quote = quote;
      item[sourceKeyOf(evidence.item)] = OFF_WHITELIST_SOURCE;
      if (evidence.items.length > 0) evidence.items[0] = item;
      else evidence.items.push(item);
      return;
    }
    case 'unpaired_claim': {
      const claims = findClaimsArray(ctx, payload);
      if (!claims) return;
      if (claims.items.length > 0) {
        claims.items[0].quote_ids = [];
        return;
      }
      const field = claims.fields[0];
      if (field === undefined) return;
      const statement = splitSentences(ctx.sources)[0]?.text ?? INVENTED_QUOTE;
      const names = propertiesOf(claims.item).map(([n]) => n);
      const claim: Record<string, unknown> = {};
      for (const n of names) {
        if (n === 'field') claim.field = field;
        else if (n === 'statement') claim.statement = statement;
        else if (n === 'quote_ids') claim.quote_ids = [];
      }
      claims.items.push(claim);
      return;
    }
    case 'reasoning_last': {
      const keys = Object.keys(payload);
      const stringKeys = keys.filter((k) => typeof payload[k] === 'string');
      const key = stringKeys.find((k) => k === 'reasoning') ?? stringKeys.find((k) => REASONING.test(k));
      if (key !== undefined) moveToEnd(payload, key);
      return;
    }
    default:
      return;
  }
}

/** Whether a reply carries the API's citations (citations mode). */
function citedBlocks(message: ReplyMessage): Array<Record<string, unknown>> {
  return message.content.flatMap((b) => (b.type === 'text' && Array.isArray(b.citations) ? b.citations : []));
}

/**
 * Applies an output fault to a good reply (HTTP faults are the server's job). The reply is
 * copied, never mutated, so the clean answer stays available for comparison.
 */
export function applyOutputFault(kind: FaultKind, message: ReplyMessage, schema: JsonSchema | undefined, sources: SourceDocument[]): ReplyMessage {
  const out = structuredClone(message);
  const hasTool = out.content.some((b) => b.type === 'tool_use');
  if (kind === 'malformed_json') {
    out.content = out.content.flatMap((b) => {
      // Cited claim text before a tool call is prose, not JSON: it stays as it was.
      if (b.type === 'text' && hasTool) return [b];
      const json = b.type === 'tool_use' ? JSON.stringify(b.input) : b.text;
      // Drop the closing brace and leave a dangling comma: unparseable, yet plausibly "almost JSON".
      return [{ type: 'text' as const, text: `${json.replace(/\}\s*$/, '')},` }];
    });
    out.stop_reason = 'end_turn';
    return out;
  }
  // Only schema-shaped output can be corrupted; prose and a max_tokens cut have no fields.
  if (!schema || out.stop_reason === 'max_tokens') return out;
  if (kind === 'bad_citation_offset') {
    // Citations mode: the first citation points next to its text; the cited text stays the same.
    const first = citedBlocks(out).find((c) => typeof c.start_char_index === 'number' && typeof c.end_char_index === 'number');
    if (first) {
      first.start_char_index = (first.start_char_index as number) + CITATION_OFFSET_SHIFT;
      first.end_char_index = (first.end_char_index as number) + CITATION_OFFSET_SHIFT;
      return out;
    }
  }
  const ctx = faultContext(schema, sources);
  for (const block of out.content) {
    if (block.type === 'tool_use') corruptPayload(kind, block.input, ctx);
    else if (!hasTool) {
      // A text block here is the reference model's own structured output, so it parses.
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(block.text) as Record<string, unknown>;
      } catch {
        continue;
      }
      corruptPayload(kind, payload, ctx);
      block.text = JSON.stringify(payload);
    }
  }
  return out;
}
