/**
 * The output shapes the reference model recognises by their JSON Schema alone (never by an
 * integration's name): evidence lists (items with a `quote`), claims lists (items with
 * `quote_ids`, a `field` enum and a `statement`), and verdict lists (items with a `claim_id` and a
 * `verdict` enum of `supported`/`unsupported`). See docs/grounding.md for the wire conventions.
 */
import { propertiesOf, stringEnum, unwrap } from './json-schema.js';
import type { JsonSchema } from './request.js';

/** The item object schema of an array schema, unwrapped, or undefined when it is not an array of objects. */
export function arrayItemObject(schema: JsonSchema, root: JsonSchema): JsonSchema | undefined {
  const u = unwrap(schema, root).schema;
  if (u.type !== 'array') return undefined;
  const item = unwrap((u.items ?? {}) as JsonSchema, root).schema;
  return item.type === 'object' ? item : undefined;
}

function has(item: JsonSchema, name: string): boolean {
  return propertiesOf(item).some(([n]) => n === name);
}

/** Whether an array item schema is an evidence item: an object with a `quote` property. */
export function isEvidenceItem(item: JsonSchema): boolean {
  return has(item, 'quote');
}

/** The claims shape of an array item schema: `quote_ids`, a `field` string enum, a `statement` string. */
export function claimsShape(item: JsonSchema, root: JsonSchema): { fields: string[] } | undefined {
  if (!has(item, 'quote_ids')) return undefined;
  const props = new Map(propertiesOf(item));
  const field = props.get('field');
  const statement = props.get('statement');
  const fields = field ? stringEnum(unwrap(field, root).schema) : undefined;
  if (!fields || !statement || unwrap(statement, root).schema.type !== 'string') return undefined;
  return { fields };
}

/** Whether an array item schema is a verdict: a `claim_id` and a `verdict` enum holding `supported` and `unsupported`. */
export function isVerdictItem(item: JsonSchema, root: JsonSchema): boolean {
  const props = new Map(propertiesOf(item));
  const verdict = props.get('verdict');
  const values = verdict ? stringEnum(unwrap(verdict, root).schema) : undefined;
  return props.has('claim_id') && !!values && values.includes('supported') && values.includes('unsupported');
}

/** A top-level array property of the schema whose items match `test`, with its item schema. */
export function findArrayProperty(
  schema: JsonSchema | undefined,
  test: (item: JsonSchema, root: JsonSchema) => boolean,
): { key: string; item: JsonSchema } | undefined {
  if (!schema) return undefined;
  const root = unwrap(schema, schema).schema;
  for (const [name, prop] of propertiesOf(root)) {
    const item = arrayItemObject(prop, schema);
    if (item && test(item, schema)) return { key: name, item };
  }
  return undefined;
}

/** The top-level evidence list of a schema. */
export const evidenceProperty = (schema: JsonSchema | undefined) => findArrayProperty(schema, isEvidenceItem);
/** The top-level claims list of a schema. */
export const claimsProperty = (schema: JsonSchema | undefined) => findArrayProperty(schema, (item, root) => claimsShape(item, root) !== undefined);
/** The top-level verdict list of a schema (the fresh-context evaluator's answer). */
export const verdictsProperty = (schema: JsonSchema | undefined) => findArrayProperty(schema, isVerdictItem);
