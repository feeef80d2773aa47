import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../audit-record.js';
import type { Claim, IntegrationDefinition, SourceDocument } from '../integration.js';
import type { BuiltPrompt } from '../prompt.js';
import { outputJsonSchema } from '../prompt.js';
import { pass, plural, skip, UNCONFIRMED, type Finding } from './finding.js';
import { normaliseForQuote } from './quote-exists.js';

/**
 * Step 6 — fresh-context evaluator. A second model call that sees only the source documents and
 * the claims — none of the generator's system prompt, instructions, reasoning or decision — and
 * judges, claim by claim, whether the sources support it. It may use another model
 * (`grounding.evaluator.model`). The call is built here (pure) and made by infer under the same
 * cost caps as the generation; this file also judges its answer.
 */

/** Version of the evaluator prompt; part of the request hash. */
export const EVALUATOR_PROMPT_VERSION = 'seamwork-evaluator/2026-11-25#1';
/** Title of the document that carries the claims. */
export const CLAIMS_DOCUMENT = 'claims';
/** The tool the evaluator must call. */
export const EVALUATOR_TOOL = 'record_verdicts';

/** What the evaluator answers. */
export const EvaluatorVerdicts = z.object({
  verdicts: z.array(
    z.object({
      claim_id: z.string().describe('The claim_id exactly as given in the claims document.'),
      verdict: z.enum(['supported', 'unsupported']).describe('supported: the source documents state it. unsupported: they do not, or they say otherwise.'),
      quote: z.string().describe('The sentence of a source document that supports the claim, copied verbatim; empty when unsupported.'),
    }),
  ),
});

const SYSTEM = 'You check claims against source documents. You know nothing but the documents you are given. A claim is supported only when a source document states it; anything the documents do not say is unsupported, however plausible.';
const INSTRUCTIONS = `The document titled "${CLAIMS_DOCUMENT}" lists claims, one JSON object per line. It is not a source. For every claim_id, call ${EVALUATOR_TOOL} with one verdict: supported when the other documents state the claim (quote the sentence that does), unsupported otherwise. Judge each claim on its own; do not use outside knowledge.`;

/** The claims with the ids the evaluator sees (`c1`, `c2`, … in order). */
export function numberClaims(claims: Claim[]): Array<Claim & { claim_id: string }> {
  return claims.map((c, i) => ({ ...c, claim_id: `c${i + 1}` }));
}

/** Builds the evaluator request: sources + claims, nothing of the generator's prompt. */
export function evaluatorPrompt(def: IntegrationDefinition, documents: SourceDocument[], claims: Claim[]): BuiltPrompt {
  const spec = def.grounding.evaluator!;
  const claimsText = numberClaims(claims).map((c) => JSON.stringify({ claim_id: c.claim_id, field: c.field, statement: c.statement })).join('\n');
  const request: BuiltPrompt['request'] = {
    model: spec.model ?? def.model.id,
    max_tokens: spec.maxTokens,
    temperature: 0,
    system: [{ type: 'text', text: SYSTEM }],
    messages: [{
      role: 'user',
      content: [
        ...documents.map((d) => ({ type: 'document' as const, source: { type: 'text' as const, media_type: 'text/plain' as const, data: d.text }, title: d.id, context: d.title })),
        { type: 'document' as const, source: { type: 'text' as const, media_type: 'text/plain' as const, data: claimsText }, title: CLAIMS_DOCUMENT, context: 'Claims to check (not a source)' },
        { type: 'text' as const, text: INSTRUCTIONS },
      ],
    }],
    tools: [{ name: EVALUATOR_TOOL, description: 'Record one verdict per claim.', input_schema: outputJsonSchema(EvaluatorVerdicts) }],
    tool_choice: { type: 'tool', name: EVALUATOR_TOOL },
  };
  return { hash: createHash('sha256').update(canonicalJson(request)).digest('hex'), promptVersion: EVALUATOR_PROMPT_VERSION, request };
}

/** What infer recorded about the evaluator call. */
export type EvaluatorRun =
  | { ran: true; why: string; model: string; claims: Claim[]; answer: unknown }
  | { ran: false; why: string; failed?: string; capRefused?: boolean };

/**
 * Judges the evaluator's answer against the claims it was shown. A claim it found unsupported, or
 * did not judge, can be retracted; an answer that cannot be read, or a call that failed, leaves
 * the decision unconfirmed (blocks).
 */
export function checkEvaluation(run: EvaluatorRun | undefined, wanted?: { run: boolean; why: string }, documents: SourceDocument[] = []): Finding {
  if (!run) {
    if (wanted?.run) return { check: 'fresh-evaluator', step: 6, ok: false, unretractable: true, code: UNCONFIRMED, detail: `The policy has an evaluator check this decision (${wanted.why}) but none was called.`, data: { unconfirmed: true } };
    return skip('fresh-evaluator', 6, `No evaluator call: ${wanted?.why ?? 'not asked for'}.`);
  }
  if (!run.ran) {
    if (run.failed) return { check: 'fresh-evaluator', step: 6, ok: false, unretractable: true, detail: run.capRefused ? `The evaluator call (step 6) was refused by the caps: ${run.failed} The decision is unconfirmed.` : `The evaluator could not run (${run.failed}); the decision is unconfirmed.`, data: { why: run.why, unconfirmed: true }, code: run.capRefused ? 'COST_CAP_EXCEEDED' : UNCONFIRMED };
    return skip('fresh-evaluator', 6, `No evaluator call: ${run.why}.`);
  }
  const parsed = EvaluatorVerdicts.safeParse(run.answer);
  if (!parsed.success) {
    return { check: 'fresh-evaluator', step: 6, ok: false, unretractable: true, detail: `The evaluator's answer does not match its schema (${parsed.error.issues[0]?.message ?? 'unreadable'}); the decision is unconfirmed.`, data: { model: run.model } };
  }
  // The evaluator is held to the same rule as the generator: a "supported" needs a quote that is
  // in the sources verbatim, or it counts as not judged.
  const sources = documents.map((d) => normaliseForQuote(d.text));
  const backed = (v: { verdict: string; quote: string }) => v.verdict === 'supported' && (documents.length === 0 || (normaliseForQuote(v.quote) !== '' && sources.some((t) => t.includes(normaliseForQuote(v.quote)))));
  const byId = new Map(parsed.data.verdicts.map((v) => [v.claim_id, v]));
  const numbered = numberClaims(run.claims);
  const unsupported = numbered.filter((c) => !backed(byId.get(c.claim_id) ?? { verdict: 'unsupported', quote: '' }));
  if (unsupported.length === 0) return pass('fresh-evaluator', 6, `${run.model} found all ${plural(numbered.length, 'claim')} supported by the sources alone (${run.why}).`, { verdicts: parsed.data.verdicts });
  return {
    check: 'fresh-evaluator', step: 6, ok: false,
    detail: `${run.model} found ${unsupported.length} of ${plural(numbered.length, 'claim')} unsupported by the sources: ${unsupported.map((c) => `${c.claim_id} (${c.field})${!byId.has(c.claim_id) ? ' not judged' : byId.get(c.claim_id)!.verdict === 'supported' ? ' supported by a quote that is not in the sources' : ''}`).join(', ')}.`,
    data: { verdicts: parsed.data.verdicts, unsupported: unsupported.map((c) => c.claim_id), model: run.model },
    retractClaims: unsupported.map(({ claim_id: _id, ...c }) => c),
  };
}
