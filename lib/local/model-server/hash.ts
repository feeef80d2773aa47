import { createHash } from 'node:crypto';

/**
 * Serialises a JSON value with object keys sorted, so two bodies that differ only in key order
 * hash the same. The reference model and the fault selector key everything off this, which is
 * what makes the server deterministic across clients that build JSON in different orders.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** Hex SHA-256 of a string; the one hash used for ids, cache prefixes and fault rolls. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Hash of a request body, independent of key order (see {@link canonicalJson}). */
export function requestHash(body: unknown): string {
  return sha256Hex(canonicalJson(body));
}
