import type { Evidence, SourceDocument, TrustedOrigin } from '../integration.js';
import { pass, plural, type Finding } from './finding.js';

/**
 * Step 9 — source whitelist. Only documents from named, verifiable origins may enter a prompt:
 * lineage is checked in infer before the prompt is built ({@link admitSources}), and every
 * citation in the output must name an admitted document ({@link checkCitedSources}) — a quote
 * attributed to a web page, a knowledge base the model remembers or a document it was never
 * given is refused whatever its words.
 */

/** Which trusted origin vouches for a document, if any. */
export function trustedBy(doc: Pick<SourceDocument, 'origin'>, trusted: TrustedOrigin[]): TrustedOrigin | undefined {
  return trusted.find((t) => { t.origin.lastIndex = 0; return t.origin.test(doc.origin); });
}

/** Lineage of the documents infer was handed: those admitted to the prompt, and those refused with why. */
export interface Lineage {
  admitted: Array<{ id: string; origin: string; trustedAs: string }>;
  refused: Array<{ id: string; origin: string; reason: string }>;
}

/** Splits documents into those a prompt may carry and those it may not. Pure. */
export function admitSources(documents: SourceDocument[], trusted: TrustedOrigin[]): { documents: SourceDocument[]; lineage: Lineage } {
  const lineage: Lineage = { admitted: [], refused: [] };
  const admitted: SourceDocument[] = [];
  for (const d of documents) {
    const t = trustedBy(d, trusted);
    if (t) {
      admitted.push(d);
      lineage.admitted.push({ id: d.id, origin: d.origin, trustedAs: t.name });
    } else {
      lineage.refused.push({ id: d.id, origin: d.origin, reason: `origin "${d.origin}" matches none of: ${trusted.map((x) => x.name).join(', ') || 'no trusted origin'}` });
    }
  }
  return { documents: admitted, lineage };
}

/** Every cited source must be a provided document from a trusted origin; the rest can be retracted. */
export function checkCitedSources(evidence: Evidence[], documents: SourceDocument[], trusted: TrustedOrigin[]): Finding {
  const byId = new Map(documents.map((d) => [d.id, d]));
  const refused: Array<Evidence & { reason: string }> = [];
  for (const e of evidence) {
    const doc = byId.get(e.source);
    if (!doc) refused.push({ ...e, reason: `"${e.source}" is not a document the model was given` });
    else if (!trustedBy(doc, trusted)) refused.push({ ...e, reason: `"${e.source}" comes from "${doc.origin}", not a trusted origin` });
  }
  if (refused.length === 0) {
    const names = [...new Set(evidence.map((e) => trustedBy(byId.get(e.source)!, trusted)!.name))];
    return pass('source-whitelist', 9, `${plural(evidence.length, 'citation')} from trusted origins${names.length ? ` (${names.join(', ')})` : ''}.`);
  }
  return {
    check: 'source-whitelist', step: 9, ok: false,
    detail: `${plural(refused.length, 'citation')} off the whitelist: ${refused.map((r) => r.reason).join('; ')}.`,
    data: { refused },
    retractQuotes: refused.map(({ reason: _r, ...e }) => e),
  };
}
