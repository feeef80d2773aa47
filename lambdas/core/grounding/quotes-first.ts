import { pass, skip, type Finding } from './finding.js';

/** Appended to the instructions in quotes-first mode. */
export function quotesFirstInstructions(claimFields: string[]): string {
  return `Grounding: give each evidence quote an id, q1, q2, … in order, and write the quotes before anything else but your reasoning. Then fill \`claims\`: for each of ${claimFields.join(', ')} that you set, at least one short statement with \`field\` naming it and \`quote_ids\` citing the quotes that support it. A claim that cites no verified quote is retracted, and a field left without a supported claim goes to a human. State no number, date, amount or name that the documents do not contain.`;
}

/** A quote id as the quotes-first instructions ask for it. */
export const QUOTE_ID = /^q[0-9]+$/;

/**
 * Step 2 — quotes first. In `quotes-first` mode the model extracts verbatim quotes, each with an
 * id, before it states any claim or decision field; claims then cite quote ids. Checked on the
 * output as the model produced it (JSON key order survives the wire): `evidence` comes before
 * `claims` and before every claimed field, and every quote has its own `q<n>` id.
 *
 * @param raw the model's output object, keys in the order the model wrote them
 * @param claimFields the decision fields claims support (they must come after the quotes)
 */
export function checkQuotesFirst(raw: Record<string, unknown>, claimFields: string[], mode: 'quotes-first' | 'citations'): Finding {
  if (mode !== 'quotes-first') return skip('quotes-first', 2, 'Citations mode: the Citations API locates the quotes (step 5).');
  const keys = Object.keys(raw);
  const at = (k: string) => keys.indexOf(k);
  const problems: string[] = [];
  const evidence = Array.isArray(raw.evidence) ? (raw.evidence as Array<Record<string, unknown>>) : [];
  if (at('evidence') < 0) problems.push('there is no evidence list');
  const later = ['claims', ...claimFields].filter((k) => at(k) >= 0 && at('evidence') >= 0 && at(k) < at('evidence'));
  if (later.length) problems.push(`${later.map((k) => `"${k}"`).join(', ')} came before the quotes`);
  const ids = evidence.map((e) => e.id);
  const badIds = ids.filter((id) => typeof id !== 'string' || !QUOTE_ID.test(id));
  if (badIds.length) problems.push(`${badIds.length} of ${ids.length} quotes have no q<n> id`);
  const dupes = ids.filter((id, i) => typeof id === 'string' && ids.indexOf(id) !== i);
  if (dupes.length) problems.push(`quote ids repeat (${[...new Set(dupes)].join(', ')})`);
  if (problems.length === 0) return pass('quotes-first', 2, `${evidence.length} quotes with ids were extracted before any claim.`, { order: keys });
  return { check: 'quotes-first', step: 2, ok: false, detail: `Quotes did not come first: ${problems.join('; ')}.`, data: { order: keys, problems }, unretractable: true };
}
