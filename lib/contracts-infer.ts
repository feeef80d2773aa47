import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { enumLike, safeKey } from '../lambdas/core/contracts/drift.js';

/**
 * Infers a draft zod contract from captured vendor payloads: the start of a new integration's
 * contract, or the evidence for a contract change. The draft is closed everywhere (every field
 * seen is declared), marks a field optional when some payloads lack it and nullable when one
 * carried null, and notes the values of low-cardinality strings. It is a draft: a person decides
 * what the integration reads (strict), what it only watches (`observed()`) and which subtrees it
 * does not track (`.loose()`).
 */

type JsonKind = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';

interface Shape {
  /** Payloads (or parent objects, or array elements) in which this place had a value, null included. */
  present: number;
  nulls: number;
  kinds: Partial<Record<JsonKind, number>>;
  strings: { values: Map<string, number>; datetimes: number; total: number };
  /** Object fields, for kind object. */
  objects: number;
  fields: Map<string, Shape>;
  /** Element shape, for kind array; `arrays` counts arrays, `elements` their elements. */
  arrays: number;
  element?: Shape;
}

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const MAX_TRACKED_VALUES = 12;

const emptyShape = (): Shape => ({ present: 0, nulls: 0, kinds: {}, strings: { values: new Map(), datetimes: 0, total: 0 }, objects: 0, fields: new Map(), arrays: 0 });

function add(shape: Shape, value: unknown): void {
  shape.present += 1;
  if (value === null) {
    shape.nulls += 1;
    return;
  }
  const kind: JsonKind = Array.isArray(value) ? 'array' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : (typeof value as JsonKind);
  shape.kinds[kind] = (shape.kinds[kind] ?? 0) + 1;
  if (kind === 'string') {
    const s = value as string;
    shape.strings.total += 1;
    if (ISO_DATETIME.test(s)) shape.strings.datetimes += 1;
    if (shape.strings.values.size <= MAX_TRACKED_VALUES || shape.strings.values.has(s)) shape.strings.values.set(s, (shape.strings.values.get(s) ?? 0) + 1);
  } else if (kind === 'object') {
    shape.objects += 1;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (!shape.fields.has(k)) shape.fields.set(k, emptyShape());
      add(shape.fields.get(k)!, v);
    }
  } else if (kind === 'array') {
    shape.arrays += 1;
    for (const v of value as unknown[]) {
      shape.element ??= emptyShape();
      add(shape.element, v);
    }
  }
}

/** Result of {@link inferContract}. */
export interface InferredContract {
  /** TypeScript source of the draft (imports zod, exports `DraftContract`). */
  source: string;
  samples: number;
  /** Fields (JSON pointers, `*` for array items) seen in some payloads but not all. */
  optionalFields: string[];
  /** Fields seen with more than one JSON type (other than null): a vendor inconsistency to ask about. */
  mixedFields: string[];
}

/** Builds a draft zod contract from parsed payloads. */
export function inferContract(payloads: unknown[], opts: { name?: string; origin?: string } = {}): InferredContract {
  const root = emptyShape();
  for (const p of payloads) add(root, p);
  const optionalFields: string[] = [];
  const mixedFields: string[] = [];
  const body = render(root, '', 0, optionalFields, mixedFields);
  const name = opts.name ?? 'DraftContract';
  const source = [
    `import { z } from 'zod';`,
    `import { observed } from '../../core/contracts/observed.js';`,
    ``,
    `// Draft contract inferred by \`seamwork contracts infer\` from ${payloads.length} payload(s)${opts.origin ? ` in ${opts.origin}` : ''}.`,
    `// Review every field before use: keep strict what the integration reads, wrap what it only watches in`,
    `// observed(), mark subtrees it does not track with .loose(), and give the contract a version.`,
    `void observed;`,
    `export const ${name} = ${body};`,
    ``,
  ].join('\n');
  return { source, samples: payloads.length, optionalFields, mixedFields };
}

function render(shape: Shape, pointer: string, depth: number, optionalFields: string[], mixedFields: string[]): string {
  const pad = '  '.repeat(depth + 1);
  const kinds = (Object.keys(shape.kinds) as JsonKind[]).filter((k) => !(k === 'integer' && shape.kinds.number)); // integers inside a number field are numbers
  if (kinds.length > 1) mixedFields.push(pointer || '/');
  const parts = kinds.map((kind) => {
    switch (kind) {
      case 'string': return renderString(shape);
      case 'integer': return 'z.number().int()';
      case 'number': return 'z.number()';
      case 'boolean': return 'z.boolean()';
      case 'array': {
        if (!shape.element) return 'z.array(z.unknown()) /* only empty arrays seen */';
        return `z.array(${render(shape.element, `${pointer}/*`, depth, optionalFields, mixedFields)})`;
      }
      case 'object': {
        if (shape.fields.size === 0) return 'z.object({}) /* only empty objects seen */';
        const lines = [...shape.fields.entries()].map(([key, child]) => {
          const childPointer = `${pointer}/${safeKey(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
          const optional = child.present < shape.objects;
          if (optional) optionalFields.push(childPointer);
          const note = optional ? ` // in ${child.present} of ${shape.objects}` : '';
          const name = safeKey(key); // a key that could be personal data is written as a hash
          return `${pad}${/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)}: ${render(child, childPointer, depth + 1, optionalFields, mixedFields)}${optional ? '.optional()' : ''},${note}`;
        });
        return `z.object({\n${lines.join('\n')}\n${'  '.repeat(depth)}})`;
      }
    }
  });
  let out = parts.length === 0 ? 'z.null() /* only null seen: declare its real type */' : parts.length === 1 ? parts[0] : `z.union([${parts.join(', ')}])`;
  if (shape.nulls > 0 && parts.length > 0) out += '.nullable()';
  return out;
}

function renderString(shape: Shape): string {
  const { values, datetimes, total } = shape.strings;
  if (datetimes === total && total > 0) return 'z.iso.datetime({ offset: true })';
  // A handful of short values repeated across samples looks like an enum; say so, do not decide.
  // Numeric strings are ids, not enum members, however often they repeat.
  const keys = [...values.keys()];
  // Only values that look like enum members and carry no personal data are written into the draft.
  const looksLikeEnum = values.size <= 6 && total >= 4 && values.size < total && keys.every(enumLike);
  if (looksLikeEnum && values.size === 1) return `z.string() /* always ${JSON.stringify(keys[0])} in ${total} samples — a literal? */`;
  if (looksLikeEnum) return `z.string() /* ${values.size} values in ${total} samples: ${keys.map((v) => JSON.stringify(v)).join(', ')} — an enum? */`;
  return 'z.string()';
}

/**
 * Reads captured payloads from a folder: `*.json` (a payload, an array of payloads, or a
 * Seamwork fixture whose `body` is the raw text) and `*.jsonl` (one payload or golden example
 * `{ body }` per line). Files that are not JSON are reported, not fatal.
 */
export function readPayloads(dir: string): { payloads: unknown[]; skipped: string[] } {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${dir} is not a folder of captured payloads.`);
  const payloads: unknown[] = [];
  const skipped: string[] = [];
  const unwrap = (v: unknown, where: string) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && 'expect' in v && typeof (v as { body?: unknown }).body === 'string') {
      try {
        const inner = JSON.parse((v as unknown as { body: string }).body) as unknown;
        if (inner && typeof inner === 'object' && !Array.isArray(inner)) payloads.push(inner);
        else skipped.push(`${where}: the fixture body is not one JSON object`);
      } catch {
        skipped.push(`${where}: the fixture body is not JSON`);
      }
      return;
    }
    if (v && typeof v === 'object' && !Array.isArray(v) && 'body' in v && 'expected' in v) return void payloads.push((v as { body: unknown }).body);
    if (Array.isArray(v)) return v.forEach((x, i) => unwrap(x, `${where}[${i}]`));
    payloads.push(v);
  };
  for (const file of readdirSync(dir).sort()) {
    const path = join(dir, file);
    if (file.endsWith('.json')) {
      try {
        unwrap(JSON.parse(readFileSync(path, 'utf8')), file);
      } catch (err) {
        skipped.push(`${file}: ${(err as Error).message}`);
      }
    } else if (file.endsWith('.jsonl')) {
      readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
        if (line.trim() === '') return;
        try {
          unwrap(JSON.parse(line), `${file}:${i + 1}`);
        } catch (err) {
          skipped.push(`${file}:${i + 1}: ${(err as Error).message}`);
        }
      });
    }
  }
  return { payloads, skipped };
}
