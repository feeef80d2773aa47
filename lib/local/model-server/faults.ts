/**
 * Fault injection for the reference model server: which fault (if any) a request gets, and how
 * an output fault corrupts a good reply. Selection is a pure function of the seed, the request
 * body's hash and how many times that body has been seen, so a run is reproducible and a retry
 * of the same request rolls again (and can succeed), exactly what retry logic needs to be tested.
 */
import { z } from 'zod';
import { sha256Hex } from './hash.js';
import { splitSentences } from './cues.js';
import { propertiesOf, stringEnum, unwrap } from './json-schema.js';
import type { JsonSchema, SourceDocument } from './request.js';
import type { ReplyMessage } from './reference-model.js';

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

function findEvidenceArray(schema: JsonSchema | undefined, payload: Record<string, unknown>): { key: string; items: Array<Record<string, unknown>> } | null {
  if (schema) {
    const root = unwrap(schema, schema).schema;
    for (const [name, prop] of propertiesOf(root)) {
      const u = unwrap(prop, schema);
      if (u.schema.type !== 'array') continue;
      const item = unwrap((u.schema.items ?? {}) as JsonSchema, schema).schema;
      if (propertiesOf(item).some(([n]) => n === 'quote')) {
        if (!Array.isArray(payload[name])) payload[name] = [];
        return { key: name, items: payload[name] as Array<Record<string, unknown>> };
      }
    }
  }
  for (const [key, value] of Object.entries(payload)) {
    if (Array.isArray(value) && value.some((v) => v && typeof v === 'object' && 'quote' in v)) return { key, items: value };
  }
  return null;
}

function inventedNumber(sourceText: string): string {
  // A number that appears nowhere in the sources, so a "numbers appear in sources" check must trip.
  for (let n = 4817; ; n += 1000) if (!sourceText.includes(String(n))) return String(n);
}

function corruptPayload(kind: FaultKind, payload: Record<string, unknown>, schema: JsonSchema | undefined, sources: SourceDocument[]): void {
  const allText = sources.flatMap((s) => s.segments).join('\n');
  const sourceId = sources[0]?.id ?? 'document-1';
  if (kind === 'schema_break') {
    const root = schema ? unwrap(schema, schema).schema : {};
    const required = Array.isArray(root.required) ? (root.required as string[]) : Object.keys(payload);
    if (required[0] !== undefined) delete payload[required[0]];
    const enumProp = propertiesOf(root).find(([n, p]) => n !== required[0] && stringEnum(unwrap(p, schema ?? {}).schema));
    if (enumProp) payload[enumProp[0]] = 'not_a_valid_value';
    return;
  }
  if (kind === 'divergent') {
    const root = schema ? unwrap(schema, schema).schema : {};
    for (const [name, prop] of propertiesOf(root)) {
      const values = stringEnum(unwrap(prop, schema ?? {}).schema);
      if (!values || values.length < 2) continue;
      // The next value in enum order: a plausible but different answer, as a second sample would give.
      const at = values.indexOf(String(payload[name]));
      payload[name] = values[(at + 1) % values.length];
      return;
    }
    return;
  }
  const evidence = findEvidenceArray(schema, payload);
  if (!evidence) return;
  if (kind === 'invented_quote') {
    const quote = allText.includes(INVENTED_QUOTE) ? `${INVENTED_QUOTE} (verbal)` : INVENTED_QUOTE;
    if (evidence.items.length > 0) evidence.items[0] = { ...evidence.items[0], quote };
    else evidence.items.push({ quote, source: sourceId });
    return;
  }
  if (kind === 'invented_number') {
    const n = inventedNumber(allText);
    const first = evidence.items[0];
    const base = typeof first?.quote === 'string' ? first.quote : (splitSentences(sources)[0]?.text ?? 'The amount was');
    const altered = /\d+/.test(base) ? base.replace(/\d+/, n) : `${base.replace(/[.!?]*$/, '')} (${n} units).`;
    if (first) evidence.items[0] = { ...first, quote: altered };
    else evidence.items.push({ quote: altered, source: sourceId });
  }
}

/**
 * Applies an output fault to a good reply (HTTP faults are the server's job). The reply is
 * copied, never mutated, so the clean answer stays available for comparison.
 */
export function applyOutputFault(kind: FaultKind, message: ReplyMessage, schema: JsonSchema | undefined, sources: SourceDocument[]): ReplyMessage {
  const out = structuredClone(message);
  if (kind === 'malformed_json') {
    out.content = out.content.map((b) => {
      const json = b.type === 'tool_use' ? JSON.stringify(b.input) : b.text;
      // Drop the closing brace and leave a dangling comma: unparseable, yet plausibly "almost JSON".
      return { type: 'text' as const, text: `${json.replace(/\}\s*$/, '')},` };
    });
    out.stop_reason = 'end_turn';
    return out;
  }
  // Only schema-shaped output can be corrupted; prose and a max_tokens cut have no fields.
  if (!schema || out.stop_reason === 'max_tokens') return out;
  for (const block of out.content) {
    if (block.type === 'tool_use') corruptPayload(kind, block.input, schema, sources);
    else {
      // A text block here is the reference model's own structured output, so it parses.
      const payload = JSON.parse(block.text) as Record<string, unknown>;
      corruptPayload(kind, payload, schema, sources);
      block.text = JSON.stringify(payload);
    }
  }
  return out;
}
