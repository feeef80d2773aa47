import type { z } from 'zod';
import { contractJsonSchema } from './drift.js';
import { MIGRATION_KEYWORD, daysLeft, windowOpen, type MigrationWindow } from './migration.js';
import { OBSERVED_KEYWORD } from './observed.js';

/** A migration window declared somewhere in a contract, with where and how long. */
export interface DeclaredWindow extends MigrationWindow {
  /** JSON pointer of the field, with `*` for array items and record values. */
  field: string;
  daysLeft: number;
  expired: boolean;
}

/** How a contract is declared: fields enforced, fields observed, subtrees not tracked. */
export interface ContractShape {
  /** Declared leaf and object fields the parse enforces. */
  strict: number;
  /** Fields declared with `observed()`: drift is reported, the parse never fails on them. */
  observed: number;
  /** `.loose()` subtrees whose extra fields are not drift. */
  openSubtrees: string[];
  windows: DeclaredWindow[];
}

type Node = Record<string, any>;

/** Walks a contract's JSON Schema and describes how it is declared. */
export function inspectContract(schema: z.ZodType, now: Date): ContractShape {
  const root = contractJsonSchema(schema) as Node;
  const shape: ContractShape = { strict: 0, observed: 0, openSubtrees: [], windows: [] };
  const seen = new Set<Node>();
  // Union branches (one per event type) declare many of the same fields: count each path once.
  const strict = new Set<string>();
  const observedPaths = new Set<string>();
  const open = new Set<string>();
  const visit = (node: Node | undefined, field: string, depth: number): void => {
    if (!node || typeof node !== 'object' || depth > 64) return;
    if (node.$ref?.startsWith('#/$defs/')) {
      const target = root.$defs?.[node.$ref.slice(8)];
      if (target && !seen.has(target)) {
        seen.add(target);
        visit(target, field, depth + 1);
      }
      return;
    }
    const window = node[MIGRATION_KEYWORD] as MigrationWindow | undefined;
    if (window && !shape.windows.some((w) => w.field === (field || '/') && w.until === window.until)) shape.windows.push({ ...window, field: field || '/', daysLeft: daysLeft(window, now), expired: !windowOpen(window, now) });
    for (const branch of [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])]) visit(branch, field, depth + 1);
    if (node.properties) {
      if (node.additionalProperties && typeof node.additionalProperties === 'object' && Object.keys(node.additionalProperties).length === 0) {
        open.add(field || '/');
      }
      for (const [key, child] of Object.entries(node.properties as Record<string, Node>)) {
        const path = `${field}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        // An observed field counts once, as observed: nothing inside it is enforced.
        if (child[OBSERVED_KEYWORD]) observedPaths.add(path);
        else {
          strict.add(path);
          visit(child, path, depth + 1);
        }
      }
    }
    if (node.items && typeof node.items === 'object') visit(node.items, `${field}/*`, depth + 1);
    if (node.additionalProperties && typeof node.additionalProperties === 'object' && Object.keys(node.additionalProperties).length > 0) {
      visit(node.additionalProperties, `${field}/*`, depth + 1);
    }
  };
  visit(root, '', 0);
  return { ...shape, strict: strict.size, observed: observedPaths.size, openSubtrees: [...open] };
}
