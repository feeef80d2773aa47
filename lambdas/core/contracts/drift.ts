import { z } from 'zod';
import { MIGRATION_KEYWORD, daysLeft, windowOpen, type MigrationWindow } from './migration.js';
import { OBSERVED_KEYWORD, type ObservedShape } from './observed.js';
import { createHash } from 'node:crypto';
import { containsPii } from '../redact.js';

/**
 * Contract drift: how a vendor payload differs from the contract it was checked against.
 *
 * A contract is a zod schema of the vendor's payload as it really is. Its JSON Schema (input
 * side, computed once per contract) is walked alongside the payload, and every difference is
 * named with a JSON pointer: a field the contract does not declare, a declared field that is
 * missing, an enum value the contract does not list, null where a value was required, and a
 * value of another type. A plain `z.object` is closed (undeclared fields are drift); `.loose()`
 * marks a subtree the integration does not track; `z.record` a map with free keys.
 *
 * Drift is not the same as a parse failure: an undeclared field is drift but parses (zod strips
 * it); a missing required field is drift and also fails the parse. The validate stage reports
 * the first, applies the integration's drift policy, and always rejects the second.
 *
 * Findings never quote payload text (it may be personal data): only types, lengths and values
 * that look like enum members.
 */

/** The kinds of drift Seamwork names. */
export const DRIFT_KINDS = ['unknown_field', 'missing_field', 'new_enum_value', 'null_where_required', 'type_changed'] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** What drift does to an event. */
export const DRIFT_ACTIONS = ['pass-and-report', 'quarantine', 'reject'] as const;
export type DriftAction = (typeof DRIFT_ACTIONS)[number];

/**
 * Per-integration drift policy: a default action and optional per-kind overrides, e.g.
 * `{ default: 'quarantine', byKind: { unknown_field: 'pass-and-report' } }`.
 * A payload the contract cannot parse at all is always rejected, whatever the policy.
 */
export interface DriftPolicy {
  default: DriftAction;
  byKind?: Partial<Record<DriftKind, DriftAction>>;
}

/** One difference between a payload and its contract. */
export interface DriftFinding {
  kind: DriftKind;
  /** JSON pointer of the first place it was seen, e.g. `/detail/priority`, `/line_items/3/sku`. */
  pointer: string;
  /** The pointer with array indices as `*` (`/line_items/* /sku`): the field, for counting over time. */
  field: string;
  /** What the contract declares there (`string`, `one of LOW, NORMAL`), when it declares something. */
  expected?: string;
  /** What arrived, described without quoting free text (`number`, `"CRITICAL"`, `a 41-character string`). */
  actual?: string;
  /** How many array elements showed the same drift at the same field. */
  occurrences: number;
  /** A sentence a human understands. */
  message: string;
  /** Set when a declared migration window covers this place. */
  migration?: MigrationWindow & { daysLeft: number; expired: boolean };
}

/** The drift of one payload, with what the policy makes of it. */
export interface DriftReport {
  findings: DriftFinding[];
  /** Findings covered by an open migration window: reported, never acted on. */
  tolerated: DriftFinding[];
  /** Findings whose migration window has expired: acted on like any drift, and loud. */
  expiredMigrations: DriftFinding[];
  /** The strictest action the policy gives the findings that are not tolerated; undefined when there are none. */
  action?: DriftAction;
}

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema | JsonSchema[];
  prefixItems?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  [MIGRATION_KEYWORD]?: MigrationWindow;
  [OBSERVED_KEYWORD]?: ObservedShape;
};

const schemas = new WeakMap<z.ZodType, JsonSchema>();

/** The JSON Schema (input side) of a contract, computed once. Exported for `seamwork contracts`. */
export function contractJsonSchema(schema: z.ZodType): JsonSchema {
  let json = schemas.get(schema);
  if (!json) {
    json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    schemas.set(schema, json);
  }
  return json;
}

/**
 * A short fingerprint of a contract — its declared shape (JSON Schema, migration windows included)
 * and its drift policy: recorded with every rejection, so a redrive can tell whether either
 * changed since (loosening the policy is as much a fix as loosening the shape).
 */
export function contractFingerprint(contract: { version: string; schema: z.ZodType; drift: DriftPolicy }): string {
  // Refinements (`.refine`, `.superRefine`) are not in the JSON Schema: the version, which must
  // be bumped on any change to the contract, stands for them.
  return createHash('sha256').update(JSON.stringify([contract.version, contractJsonSchema(contract.schema), contract.drift]), 'utf8').digest('hex').slice(0, 12);
}

/** Compares a payload with a contract; `now` decides which migration windows are open. */
export function detectDrift(schema: z.ZodType, payload: unknown, policy: DriftPolicy, now: Date): DriftReport {
  const root = contractJsonSchema(schema);
  const raw: DriftFinding[] = [];
  walk(root, payload, '', { root, now, out: raw, depth: 0 });
  const findings = mergeByField(raw);
  const tolerated = findings.filter((f) => f.migration && !f.migration.expired);
  const acted = findings.filter((f) => !(f.migration && !f.migration.expired));
  const expiredMigrations = findings.filter((f) => f.migration?.expired);
  return { findings, tolerated, expiredMigrations, action: strictest(acted.map((f) => actionFor(policy, f.kind))) };
}

/** The action a policy gives one kind of drift. */
export function actionFor(policy: DriftPolicy, kind: DriftKind): DriftAction {
  return policy.byKind?.[kind] ?? policy.default;
}

/** One sentence for a drift report, naming the first few findings. */
export function describeDrift(findings: DriftFinding[], max = 3): string {
  const shown = findings.slice(0, max).map((f) => f.message);
  return shown.join(' ') + (findings.length > max ? ` (+${findings.length - max} more)` : '');
}

const RANK: Record<DriftAction, number> = { 'pass-and-report': 0, quarantine: 1, reject: 2 };

function strictest(actions: DriftAction[]): DriftAction | undefined {
  return actions.reduce<DriftAction | undefined>((a, b) => (a === undefined || RANK[b] > RANK[a] ? b : a), undefined);
}

interface WalkContext {
  root: JsonSchema;
  now: Date;
  out: DriftFinding[];
  depth: number;
}

const MAX_DEPTH = 64;

function walk(node: JsonSchema, value: unknown, pointer: string, ctx: WalkContext): void {
  if (ctx.depth > MAX_DEPTH) return;
  node = resolve(node, ctx.root);
  const window = node[MIGRATION_KEYWORD];
  const branches = node.anyOf ?? node.oneOf;
  if (window && branches?.length === 2) return walkMigration(branches[0], branches[1], window, value, pointer, ctx);
  if (branches) return walkUnion(branches, value, pointer, ctx);
  if (node.allOf) {
    for (const part of node.allOf) walk(part, value, pointer, deeper(ctx));
    return;
  }

  const actual = jsonType(value);
  const types = typesOf(node);
  if (types && !types.some((t) => t === actual || (t === 'number' && actual === 'integer'))) {
    if (value === undefined) return; // handled by the parent as a missing field
    const expected = describeTypes(node, types);
    if (actual === 'null') {
      ctx.out.push(finding('null_where_required', pointer, `${at(pointer)} is null; the contract requires ${expected}.`, { expected, actual: 'null' }));
    } else {
      ctx.out.push(finding('type_changed', pointer, `${at(pointer)} is ${article(actual)} ${actual}; the contract declares ${expected}.`, { expected, actual: actual }));
    }
    return;
  }
  if (node.enum !== undefined || node.const !== undefined) {
    const allowed = node.enum ?? [node.const];
    if (!allowed.some((a) => Object.is(a, value))) {
      const expected = `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
      const shown = showValue(value, allowed);
      ctx.out.push(finding('new_enum_value', pointer, `${at(pointer)} is ${shown}, a value the contract does not list (${expected}).`, { expected, actual: shown }));
    }
    return;
  }
  if (actual === 'object' && (node.properties || node.additionalProperties !== undefined || types?.includes('object'))) {
    walkObject(node, value as Record<string, unknown>, pointer, ctx);
    return;
  }
  if (actual === 'array') {
    const items = node.prefixItems ?? node.items;
    (value as unknown[]).forEach((v, i) => {
      const item = Array.isArray(items) ? items[i] : items;
      if (item) walk(item, v, `${pointer}/${i}`, deeper(ctx));
    });
  }
}

function walkObject(node: JsonSchema, value: Record<string, unknown>, pointer: string, ctx: WalkContext): void {
  const props = node.properties ?? {};
  const required = new Set(node.required ?? []);
  for (const [key, prop] of Object.entries(props)) if (prop[OBSERVED_KEYWORD]?.required) required.add(key);
  for (const key of required) {
    if (!Object.hasOwn(value, key)) {
      const expected = describeTypes(resolve(props[key] ?? {}, ctx.root), typesOf(resolve(props[key] ?? {}, ctx.root)));
      ctx.out.push(finding('missing_field', `${pointer}/${escape(key)}`, `${at(`${pointer}/${escape(key)}`)} is missing; the contract requires it${expected === 'any value' ? '' : ` (${expected})`}.`, { expected }));
    }
  }
  const extra = node.additionalProperties;
  for (const [key, v] of Object.entries(value)) {
    // Declared keys are the contract's own; any other key came from the payload.
    const child = `${pointer}/${escape(Object.hasOwn(props, key) ? key : safeKey(key))}`;
    if (Object.hasOwn(props, key)) {
      if (v !== undefined) walk(props[key], v, child, deeper(ctx));
      continue;
    }
    if (extra === undefined || extra === false) {
      const actual = jsonType(v);
      ctx.out.push(finding('unknown_field', child, `${at(child)} (${actual}) is not in the contract.`, { actual }));
    } else if (extra !== true && Object.keys(extra).length > 0) {
      walk(extra, v, child, deeper(ctx)); // a record: free keys, declared values
    } // `{}` or `true`: a `.loose()` subtree the integration does not track
  }
}

function walkUnion(branches: JsonSchema[], value: unknown, pointer: string, ctx: WalkContext): void {
  const attempts = branches.map((b) => {
    const out: DriftFinding[] = [];
    walk(b, value, pointer, { ...deeper(ctx), out });
    return { branch: resolve(b, ctx.root), out };
  });
  if (attempts.some((a) => a.out.length === 0)) return;
  const actual = jsonType(value);
  // Report against the branch of the value's own type (the object branch for an object), if any.
  const sameType = attempts.filter((a) => typesOf(a.branch)?.some((t) => t === actual || (t === 'number' && actual === 'integer')));
  if (sameType.length > 0) {
    ctx.out.push(...sameType.reduce((best, a) => (a.out.length < best.out.length ? a : best)).out);
    return;
  }
  const expected = branches.map((b) => describeTypes(resolve(b, ctx.root), typesOf(resolve(b, ctx.root)))).join(' or ');
  if (actual === 'null') ctx.out.push(finding('null_where_required', pointer, `${at(pointer)} is null; the contract requires ${expected}.`, { expected, actual: 'null' }));
  else ctx.out.push(finding('type_changed', pointer, `${at(pointer)} is ${article(actual)} ${actual}; the contract declares ${expected}.`, { expected, actual }));
}

function walkMigration(current: JsonSchema, accept: JsonSchema, window: MigrationWindow, value: unknown, pointer: string, ctx: WalkContext): void {
  const againstContract: DriftFinding[] = [];
  walk(current, value, pointer, { ...deeper(ctx), out: againstContract });
  if (againstContract.length === 0) return;
  const againstWindow: DriftFinding[] = [];
  walk(accept, value, pointer, { ...deeper(ctx), out: againstWindow });
  if (againstWindow.length > 0) {
    ctx.out.push(...againstContract);
    return;
  }
  const open = windowOpen(window, ctx.now);
  const left = daysLeft(window, ctx.now);
  for (const f of againstContract) {
    const note = open
      ? ` Accepted under a migration window until ${window.until} (${left} day${left === 1 ? '' : 's'} left): ${window.reason}`
      : ` The migration window for it EXPIRED on ${window.until} (${window.reason}); it is drift again.`;
    ctx.out.push({ ...f, message: f.message + note, migration: { ...window, daysLeft: left, expired: !open } });
  }
}

function resolve(node: JsonSchema, root: JsonSchema): JsonSchema {
  let n = node;
  // An observed field (possibly wrapped as optional) is checked against its declared shape.
  for (let i = 0; (n.$ref || n[OBSERVED_KEYWORD]) && i < 16; i++) {
    const observedShape = n[OBSERVED_KEYWORD];
    if (observedShape) {
      n = observedShape.schema as JsonSchema;
      continue;
    }
    const ref = n.$ref!;
    if (ref === '#') n = root;
    else if (ref.startsWith('#/$defs/')) n = root.$defs?.[decodeURIComponent(ref.slice(8))] ?? {};
    else return {};
  }
  return n;
}

function deeper(ctx: WalkContext): WalkContext {
  return { ...ctx, depth: ctx.depth + 1 };
}

function typesOf(node: JsonSchema): string[] | undefined {
  if (node.type === undefined) {
    if (node.const !== undefined) return [jsonType(node.const)];
    return undefined;
  }
  return Array.isArray(node.type) ? node.type : [node.type];
}

function describeTypes(node: JsonSchema, types: string[] | undefined): string {
  if (node.enum) return `one of ${node.enum.map((a) => JSON.stringify(a)).join(', ')}`;
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (!types) return 'any value';
  return types.map((t) => (t === 'integer' ? 'an integer' : t === 'null' ? 'null' : `${article(t)} ${t}`)).join(' or ');
}

/** JSON type of a parsed value: null, boolean, integer, number, string, array, object. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (value === undefined) return 'undefined';
  return typeof value;
}

// An enum member looks like a word or a code: starts with a letter, at most 32 characters and
// two digits (random tokens, ids and postcodes are digit-heavy), and carries no personal data.
const ENUM_LIKE = /^[A-Za-z][A-Za-z0-9_.:/-]{0,31}$/;
/** Whether a string may be quoted in a report: it looks like an enum member and carries no personal data. */
export const enumLike = (value: string): boolean => ENUM_LIKE.test(value) && (value.match(/\d/g)?.length ?? 0) <= 2 && containsPii(value).length === 0;

/** The letter case a value is written in: upper (`NEW`), lower (`open`), or mixed. */
function caseOf(value: string): 'upper' | 'lower' | 'mixed' {
  if (value === value.toUpperCase()) return 'upper';
  if (value === value.toLowerCase()) return 'lower';
  return 'mixed';
}

/**
 * Whether a value arriving where `allowed` was declared may be quoted: enum-like, and cased like
 * the contract's own members — `ARCHIVED` beside `NEW, OPEN`, `archived` beside `open` — which a
 * name (`JaneDoe`) or a mixed-case token is not.
 */
function quotable(value: string, allowed: unknown[]): boolean {
  if (!enumLike(value) || caseOf(value) === 'mixed') return false;
  const cases = new Set(allowed.filter((a): a is string => typeof a === 'string').map(caseOf));
  return cases.size === 0 || (cases.size === 1 && cases.has(caseOf(value)));
}

/**
 * A value shown in a finding: enum-like strings and small numbers verbatim, anything else by its
 * shape. Findings go to the audit log, the DLQ and the drift table, so a card number, an SSN or an
 * email that arrives where an enum was declared must not be quoted.
 */
function showValue(value: unknown, allowed: unknown[] = []): string {
  if (typeof value === 'string') return quotable(value, allowed) ? JSON.stringify(value) : `a ${value.length}-character string`;
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 10_000 ? String(value) : `a ${String(Math.trunc(Math.abs(value))).length}-digit number`;
  if (typeof value === 'boolean') return String(value);
  return `${article(jsonType(value))} ${jsonType(value)}`;
}

// A key from the payload goes into a pointer as it is only when it looks like a field name or a
// short number (at most four digits either way) and carries no personal data; otherwise only its
// shape is named (a hash of a card number or a phone number can be reversed by trying them all).
const FIELD_NAME = /^(?:[A-Za-z_$][A-Za-z0-9_$.-]{0,63}|\d{1,4})$/;

/** A payload key made safe to record: itself, or its shape (`[16-digit key]`, `[21-character key]`). */
export function safeKey(key: string): string {
  if (FIELD_NAME.test(key) && (key.match(/\d/g)?.length ?? 0) <= 4 && containsPii(key).length === 0) return key;
  return /^\d+$/.test(key) ? `[${key.length}-digit key]` : `[${key.length}-character key]`;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? 'an' : 'a';
}

function at(pointer: string): string {
  return pointer === '' ? 'The payload' : pointer;
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function finding(kind: DriftKind, pointer: string, message: string, extra: { expected?: string; actual?: string }): DriftFinding {
  return { kind, pointer, field: pointer.replace(/\/\d+(?=\/|$)/g, '/*'), ...extra, occurrences: 1, message };
}

/** Collapses the same drift at the same field (e.g. in every line item) into one finding with a count. */
function mergeByField(findings: DriftFinding[]): DriftFinding[] {
  const byKey = new Map<string, DriftFinding>();
  for (const f of findings) {
    const key = `${f.kind} ${f.field}`;
    const seen = byKey.get(key);
    if (seen) seen.occurrences += 1;
    else byKey.set(key, { ...f });
  }
  return [...byKey.values()].map((f) => (f.occurrences > 1 ? { ...f, message: `${f.message} (${f.occurrences} times, e.g. at ${f.pointer})` } : f));
}
