/**
 * The few JSON Schema helpers the reference model needs to read tool `input_schema`s and
 * structured-output schemas as zod's `toJSONSchema` and hand-written schemas express them.
 */
import type { JsonSchema } from './request.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follows a local `$ref` (`#/$defs/x`, `#/definitions/x`) against the root schema, once or repeatedly. */
export function resolveRef(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let current = schema;
  for (let hops = 0; hops < 32 && typeof current.$ref === 'string'; hops++) {
    const ref = current.$ref as string;
    if (!ref.startsWith('#')) return current;
    let target: unknown = root;
    for (const part of ref.slice(1).split('/').filter(Boolean)) {
      target = isRecord(target) ? target[decodeURIComponent(part.replace(/~1/g, '/').replace(/~0/g, '~'))] : undefined;
    }
    if (!isRecord(target)) return current;
    // Sibling keywords (e.g. a description next to the $ref) describe this use, so they win.
    const { $ref: _ignored, ...siblings } = current;
    current = { ...target, ...siblings };
  }
  return current;
}

/** A schema with its "or null" part taken off, and whether null was allowed. */
export interface Unwrapped {
  schema: JsonSchema;
  nullable: boolean;
  /** The description from the wrapper or the inner schema. */
  description?: string;
}

/**
 * Strips nullability (`type: [T, 'null']`, `anyOf/oneOf [T, {type:'null'}]`, `nullable: true`)
 * and merges `allOf`, so the filler sees one concrete schema.
 */
export function unwrap(schema: JsonSchema, root: JsonSchema): Unwrapped {
  let s = resolveRef(schema, root);
  let nullable = s.nullable === true;
  const description = typeof s.description === 'string' ? s.description : undefined;
  for (let depth = 0; depth < 8; depth++) {
    const union = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined) as JsonSchema[] | undefined;
    if (union) {
      const branches = union.map((b) => resolveRef(b, root));
      const nonNull = branches.filter((b) => b.type !== 'null');
      nullable ||= nonNull.length < branches.length;
      const { anyOf: _a, oneOf: _o, ...rest } = s;
      s = { ...rest, ...(nonNull[0] ?? { type: 'null' }) };
      continue;
    }
    if (Array.isArray(s.allOf)) {
      const { allOf, ...rest } = s;
      s = Object.assign({}, ...(allOf as JsonSchema[]).map((b) => resolveRef(b, root)), rest);
      continue;
    }
    break;
  }
  if (Array.isArray(s.type)) {
    const types = s.type as string[];
    nullable ||= types.includes('null');
    const first = types.find((t) => t !== 'null') ?? 'null';
    s = { ...s, type: first };
  }
  if (s.type === undefined && Array.isArray(s.enum)) s = { ...s, type: typeof s.enum[0] === 'number' ? 'number' : 'string' };
  if (s.type === undefined && isRecord(s.properties)) s = { ...s, type: 'object' };
  if (s.type === undefined && s.items !== undefined) s = { ...s, type: 'array' };
  return { schema: s, nullable, description: description ?? (typeof s.description === 'string' ? s.description : undefined) };
}

/** The property schemas of an object schema, in declaration order. */
export function propertiesOf(schema: JsonSchema): Array<[string, JsonSchema]> {
  return isRecord(schema.properties) ? (Object.entries(schema.properties) as Array<[string, JsonSchema]>) : [];
}

/** The string values of an enum schema, or undefined when it is not a string enum. */
export function stringEnum(schema: JsonSchema): string[] | undefined {
  if (!Array.isArray(schema.enum)) return undefined;
  const values = schema.enum.filter((v): v is string => typeof v === 'string');
  return values.length > 0 ? values : undefined;
}
