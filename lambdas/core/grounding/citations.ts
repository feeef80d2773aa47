import type { Claim, Evidence, SourceDocument } from '../integration.js';
import { pass, plural, skip, type Finding } from './finding.js';

/**
 * Step 5 — the Citations API. In `citations` mode the documents are sent with citations enabled
 * and the model states each claim as a text block beginning `<field>: `, which the API returns
 * with the character locations it cited. Seamwork builds the decision's evidence (`c1`, `c2`, …,
 * with offsets) and claims from those locations — replacing whatever the tool input says — so
 * the quotes come from the API's attribution, not from the model's copying. Step 7 then checks
 * that each offset really holds the quoted text.
 */

/** A text block as the Messages API returns it, with its citations. */
export interface CitedText {
  text: string;
  citations?: Array<Record<string, unknown>> | null;
}

/** Appended to the instructions in citations mode. */
export function citationsInstructions(claimFields: string[]): string {
  return `Before calling the tool, state each claim your decision rests on as its own short paragraph that begins with the field it supports (${claimFields.map((f) => `"${f}: "`).join(', ')}) and cites the documents. Then call the tool once.`;
}

/** Evidence and claims built from the API's citations, and what could not be mapped. */
export interface MappedCitations {
  evidence: Evidence[];
  claims: Claim[];
  problems: string[];
}

/**
 * Maps text blocks with citations to evidence and claims. `documents` are the documents in the
 * order they were sent (the API's `document_index`).
 */
export function fromCitations(blocks: CitedText[], documents: SourceDocument[], claimFields: string[]): MappedCitations {
  const evidence: Evidence[] = [];
  const claims: Claim[] = [];
  const problems: string[] = [];
  for (const block of paragraphs(blocks, claimFields)) {
    const m = /^\s*([a-z_][a-z0-9_]*)\s*:\s*/i.exec(block.text);
    const cites = block.citations ?? [];
    const ids: string[] = [];
    for (const c of cites) {
      const id = `c${evidence.length + 1}`;
      const index = Number(c.document_index);
      const doc = Number.isInteger(index) ? documents[index] : undefined;
      if (!doc) problems.push(`${id} cites document_index ${String(c.document_index)}, which was not sent`);
      else if (c.document_title != null && c.document_title !== doc.id) problems.push(`${id} names "${String(c.document_title)}" at index ${index}, where "${doc.id}" was sent`);
      if (c.type !== 'char_location') problems.push(`${id} is a ${String(c.type)}, not a character location`);
      const start = Number(c.start_char_index);
      const end = Number(c.end_char_index);
      evidence.push({
        id,
        quote: String(c.cited_text ?? ''),
        source: doc?.id ?? `document_index:${String(c.document_index)}`,
        ...(Number.isInteger(start) && Number.isInteger(end) ? { location: { start, end } } : {}),
      });
      ids.push(id);
    }
    if (m && claimFields.includes(m[1])) claims.push({ field: m[1], statement: block.text.slice(m[0].length).trim(), quote_ids: ids });
    // Uncited narration ("Here is my assessment.") is not a claim; cited text must say which field it supports.
    else if (cites.length > 0) problems.push(`a text block names no claimed field (${claimFields.join(', ')}): "${block.text.slice(0, 40)}"`);
  }
  return { evidence, claims, problems };
}

/**
 * The API splits a cited answer into blocks at citation boundaries — `"priority: "` uncited, then
 * `"The whole team is locked out."` with its citation — so blocks are joined back into the
 * paragraphs the model wrote: a new one starts at a `<field>: ` prefix or after a line break.
 */
export function paragraphs(blocks: CitedText[], claimFields: string[]): CitedText[] {
  const out: Array<{ text: string; citations: Array<Record<string, unknown>> }> = [];
  const opens = (text: string) => {
    const m = /^\s*([a-z_][a-z0-9_]*)\s*:/i.exec(text);
    return m !== null && claimFields.includes(m[1]);
  };
  for (const b of blocks) {
    const last = out[out.length - 1];
    if (!last || opens(b.text) || /\n\s*$/.test(last.text)) out.push({ text: b.text, citations: [...(b.citations ?? [])] });
    else {
      last.text += b.text;
      last.citations.push(...(b.citations ?? []));
    }
  }
  return out;
}

/** Whether every citation maps to a document that was sent, at a character location. */
export function checkCitations(mode: 'quotes-first' | 'citations', blocks: CitedText[] | undefined, mapped: MappedCitations | undefined): Finding {
  if (mode !== 'citations') return skip('citations', 5, 'Quotes-first mode: the model extracts its own quotes (step 2).');
  if (!blocks || !mapped || mapped.evidence.length === 0) {
    return { check: 'citations', step: 5, ok: false, unretractable: true, detail: 'The model returned no cited text, so no claim can be located in the sources.' };
  }
  if (mapped.problems.length === 0) return pass('citations', 5, `${plural(mapped.evidence.length, 'citation')} located ${plural(mapped.claims.length, 'claim')} in the sources.`);
  const bad = mapped.evidence.filter((e) => mapped.problems.some((p) => p.startsWith(`${e.id} `)));
  return {
    check: 'citations', step: 5, ok: false,
    detail: `${mapped.problems.length === 1 ? 'One citation problem' : `${mapped.problems.length} citation problems`}: ${mapped.problems.join('; ')}.`,
    data: { problems: mapped.problems },
    retractQuotes: bad,
    unretractable: bad.length === 0,
  };
}
