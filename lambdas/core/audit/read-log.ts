import type { AuditRecord } from '../audit-record.js';
import type { AuditArchive, AuditObject } from './archive.js';

/** Where decisions' records live: `decisions/<integration>/<decisionId>/<record>.json`. */
export const DECISIONS_PREFIX = 'decisions/';

/** One stored record with the key it is stored under. */
export interface StoredRecord {
  key: string;
  record: AuditRecord;
  lastModified: Date;
}

/** The objects of one decision, as listed. */
export interface DecisionObjects {
  integration: string;
  decisionId: string;
  objects: AuditObject[];
}

/** Lists every decision's objects (of one integration, when named), grouped by decision in key order. */
export async function groupDecisions(archive: AuditArchive, integration?: string): Promise<DecisionObjects[]> {
  const groups = new Map<string, DecisionObjects>();
  for await (const o of archive.listObjects(integration ? `${DECISIONS_PREFIX}${integration}/` : DECISIONS_PREFIX)) {
    const [, name, decisionId] = o.key.split('/');
    if (!name || !decisionId) continue;
    const id = `${name}/${decisionId}`;
    const group = groups.get(id) ?? { integration: name, decisionId, objects: [] };
    group.objects.push(o);
    groups.set(id, group);
  }
  return [...groups.values()];
}

/** Reads a decision's objects; what does not parse as an audit record is returned apart, with why. */
export async function readDecision(archive: AuditArchive, objects: AuditObject[]): Promise<{ records: StoredRecord[]; unreadable: Array<{ key: string; reason: string }> }> {
  const records: StoredRecord[] = [];
  const unreadable: Array<{ key: string; reason: string }> = [];
  await Promise.all(objects.map(async (o) => {
    try {
      const body = await archive.readObject(o.key);
      const problem = recordShapeProblem(body);
      if (problem) unreadable.push({ key: o.key, reason: problem });
      else records.push({ key: o.key, record: body as AuditRecord, lastModified: o.lastModified });
    } catch (err) {
      unreadable.push({ key: o.key, reason: (err as Error).message });
    }
  }));
  records.sort((a, b) => a.key.localeCompare(b.key));
  return { records, unreadable };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function recordShapeProblem(body: unknown): string | undefined {
  const r = body as Partial<AuditRecord> | null;
  if (r === null || typeof r !== 'object') return 'not a JSON object';
  for (const f of ['decisionId', 'integration', 'stage', 'kind', 'prevHash', 'hash'] as const) if (typeof r[f] !== 'string') return `no string ${f}`;
  if (!Number.isInteger(r.seq) || !Number.isInteger(r.attempt)) return 'no integer seq or attempt';
  if (r.data === null || typeof r.data !== 'object') return 'no data object';
  return undefined;
}
