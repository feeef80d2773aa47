/**
 * The labelled grounding corpus: model outputs built from the integrations' golden examples — each
 * clean, and again with each kind of fault the local reference model can inject — and the
 * measurement of Layer 4's deterministic checks against them (detection rate per check on the
 * faults it exists for, false positives on the clean outputs).
 *
 * `seamwork grounding corpus --write` regenerates test/corpus/grounding.jsonl (committed, so a
 * reviewer can read the outputs); `seamwork grounding measure` prints the table and writes an HTML
 * report; test/integration/grounding-corpus.test.ts holds the figures and the file to the code.
 *
 * The outputs are what the reference model answers to the very request infer would send
 * (validate → source whitelist → buildPrompt), with its fault injector applied to a copy.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GENESIS_HASH } from '../lambdas/core/audit-record.js';
import type { GroundingEvidence } from '../lambdas/core/envelope.js';
import type { CanarySample } from '../lambdas/core/grounding/divergence.js';
import { checkCitations, fromCitations } from '../lambdas/core/grounding/citations.js';
import { checkClaimPairing, claimsOf } from '../lambdas/core/grounding/claim-pairing.js';
import { checkClosedBook, freeTextOf } from '../lambdas/core/grounding/closed-book.js';
import { checkDivergence, wants } from '../lambdas/core/grounding/divergence.js';
import { hallucinationFlagged, PLAYBOOK } from '../lambdas/core/grounding/playbook.js';
import { checkQuotesExist } from '../lambdas/core/grounding/quote-exists.js';
import { checkQuotesFirst } from '../lambdas/core/grounding/quotes-first.js';
import { checkReasoningFirst } from '../lambdas/core/grounding/reasoning-first.js';
import { admitSources, checkCitedSources } from '../lambdas/core/grounding/source-whitelist.js';
import type { Evidence, GoldenExample, GroundingCheckId, IntegrationDefinition, SourceDocument } from '../lambdas/core/integration.js';
import { MemoryTokenVault } from '../lambdas/core/memory-ports.js';
import { buildPrompt, outputJsonSchema } from '../lambdas/core/prompt.js';
import { checkDecision } from '../lambdas/core/stages/verify.js';
import { validateStage } from '../lambdas/core/stages/validate.js';
import { INTEGRATIONS } from '../lambdas/integrations/index.js';
import { applyOutputFault, type FaultKind } from './local/model-server/faults.js';
import { answerMessages, requestedSchema, type ReplyMessage } from './local/model-server/reference-model.js';
import { collectSources, type MessagesRequest } from './local/model-server/request.js';

/** Where the committed corpus lives. */
export const CORPUS_PATH = fileURLToPath(new URL('../test/corpus/grounding.jsonl', import.meta.url));

/**
 * The output faults the corpus injects, and the deterministic check that exists to catch each.
 * (Transport faults — 429, 529, timeouts — and schema breaks are Layer 3 and the output schema's.)
 */
export const FAULT_CATCHER: Partial<Record<FaultKind, GroundingCheckId>> = {
  invented_quote: 'quote-exists',
  near_quote: 'quote-exists',
  phantom_source: 'quote-exists',
  off_whitelist_source: 'source-whitelist',
  invented_number: 'closed-book',
  unpaired_claim: 'claim-pairing',
  reasoning_last: 'reasoning-first',
  divergent: 'divergence',
  bad_citation_offset: 'quote-exists',
};

/** Faults injected in quotes-first mode, and in citations mode. */
const QUOTES_FIRST_FAULTS: FaultKind[] = ['invented_quote', 'near_quote', 'phantom_source', 'off_whitelist_source', 'invented_number', 'unpaired_claim', 'reasoning_last', 'divergent'];
const CITATIONS_FAULTS: FaultKind[] = ['bad_citation_offset', 'reasoning_last', 'divergent'];

/** One labelled model output. */
export interface CorpusOutput {
  /** `<integration>/<mode>/<example>/<fault|clean>`. */
  id: string;
  integration: string;
  mode: 'quotes-first' | 'citations';
  example: string;
  /** The injected fault, or null for a clean output. */
  fault: FaultKind | null;
  documents: SourceDocument[];
  /** The tool input as the model returned it (key order kept). */
  output: Record<string, unknown>;
  /** Citations mode: the text blocks with the API's citations. */
  citations?: Array<{ text: string; citations?: Array<Record<string, unknown>> | null }>;
  /** The second sample the divergence canary compares with (clean, or the divergent one). */
  canary: Record<string, unknown>;
}

/** The integration as a given mode would run it. */
function inMode(def: IntegrationDefinition, mode: 'quotes-first' | 'citations'): IntegrationDefinition {
  return def.grounding.mode === mode ? def : { ...def, grounding: { ...def.grounding, mode } };
}

/** The documents infer would hand the model for one golden example (validate + whitelist). */
async function documentsOf(def: IntegrationDefinition, example: GoldenExample): Promise<SourceDocument[] | undefined> {
  const out = await validateStage({
    v: 1, decisionId: `corpus-${example.id}`, integration: def.name, tenant: 'corpus', vendorEventId: example.id, receivedAt: '2026-11-25T00:00:00.000Z', stage: 'validate',
    auditHead: { seq: -1, hash: GENESIS_HASH }, raw: { body: JSON.stringify(example.body), headers: example.headers ?? {} },
  }, { integration: () => def, vault: new MemoryTokenVault(), now: () => new Date('2026-11-25T00:00:00Z'), vaultTtlSeconds: 60 });
  if (out.kind !== 'forward') return undefined;
  return admitSources(out.envelope.documents ?? [], def.grounding.trustedOrigins).documents;
}

/** Splits a reference reply into the tool input and any cited text blocks. */
function partsOf(message: ReplyMessage): Pick<CorpusOutput, 'output' | 'citations'> {
  const tool = message.content.find((b) => b.type === 'tool_use');
  const texts = message.content.filter((b) => b.type === 'text') as Array<{ text: string; citations?: Array<Record<string, unknown>> | null }>;
  return {
    output: (tool && tool.type === 'tool_use' ? tool.input : {}) as Record<string, unknown>,
    ...(texts.some((t) => t.citations?.length) ? { citations: texts.map((t) => ({ text: t.text, citations: t.citations ?? [] })) } : {}),
  };
}

/** Loads an integration's golden set. */
function golden(def: IntegrationDefinition): GoldenExample[] {
  return readFileSync(def.eval.goldenPath, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as GoldenExample);
}

/**
 * Builds the corpus: for every golden example the model does not abstain on (an abstention makes
 * no claims to falsify), the clean output and one output per fault that changes it. Quotes-first
 * for every integration; citations mode for support-triage. Deterministic.
 */
export async function buildCorpus(onProgress?: (done: number, total: number) => void): Promise<CorpusOutput[]> {
  const plan: Array<{ def: IntegrationDefinition; mode: 'quotes-first' | 'citations'; faults: FaultKind[] }> = [
    ...Object.values(INTEGRATIONS).map((def) => ({ def: inMode(def, 'quotes-first'), mode: 'quotes-first' as const, faults: QUOTES_FIRST_FAULTS })),
    { def: inMode(INTEGRATIONS['support-triage'], 'citations'), mode: 'citations', faults: CITATIONS_FAULTS },
  ];
  const total = plan.reduce((n, p) => n + golden(p.def).length, 0);
  let done = 0;
  const out: CorpusOutput[] = [];
  for (const { def, mode, faults } of plan) {
    for (const example of golden(def)) {
      onProgress?.(++done, total);
      const documents = await documentsOf(def, example);
      if (!documents || documents.length === 0) continue;
      const request = buildPrompt(def, documents).request as unknown as MessagesRequest;
      const second = buildPrompt(def, documents, { temperature: def.grounding.canary?.temperature ?? 1 }).request as unknown as MessagesRequest;
      const clean = answerMessages(request).message;
      const cleanCanary = partsOf(answerMessages(second).message).output;
      const cleanParts = partsOf(clean);
      if (cleanParts.output.outcome === def.output.abstainOutcome) continue;
      const base = { integration: def.name, mode, example: example.id, documents };
      out.push({ ...base, id: `${def.name}/${mode}/${example.id}/clean`, fault: null, ...cleanParts, canary: cleanCanary });
      const schema = requestedSchema(request);
      const sources = collectSources(request);
      for (const fault of faults) {
        if (fault === 'divergent') {
          // The canary's second sample is the one that diverges; the first answer is clean.
          const diverged = partsOf(applyOutputFault(fault, answerMessages(second).message, requestedSchema(second), collectSources(second))).output;
          if (JSON.stringify(diverged) === JSON.stringify(cleanCanary)) continue;
          out.push({ ...base, id: `${def.name}/${mode}/${example.id}/${fault}`, fault, ...cleanParts, canary: diverged });
          continue;
        }
        const faulted = partsOf(applyOutputFault(fault, clean, schema, sources));
        if (JSON.stringify(faulted) === JSON.stringify(cleanParts)) continue;
        out.push({ ...base, id: `${def.name}/${mode}/${example.id}/${fault}`, fault, ...faulted, canary: cleanCanary });
      }
    }
  }
  return out;
}

/** Serialises the corpus, one output per line. */
export function corpusJsonl(corpus: CorpusOutput[]): string {
  return corpus.map((c) => JSON.stringify(c)).join('\n') + '\n';
}

/** Reads the committed corpus. */
export function loadCorpus(path = CORPUS_PATH): CorpusOutput[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as CorpusOutput);
}

/** Writes the corpus. */
export function writeCorpus(corpus: CorpusOutput[], path = CORPUS_PATH): void {
  writeFileSync(path, corpusJsonl(corpus));
}

/** What verify's checks made of one output. */
export interface Judged {
  output: CorpusOutput;
  /** Checks that failed or retracted something in verify's run (order matters: an earlier retraction hides an item from later checks). */
  flaggedBy: string[];
  /** Checks that fail on the output when each runs on its own, on the whole output. */
  isolated: string[];
  /** Whether the faulty output stopped short of acting as it was: blocked, or some grounding check retracted part of it. */
  stopped: boolean;
  blocked?: string;
  micros: number;
}

/** Runs verify's checks (pure, as the verify stage does) on one corpus output. */
export function judge(c: CorpusOutput): Judged {
  // The evaluator (step 6) is a model's judgement, not measured here; the canary's comparison is.
  const moded = inMode(INTEGRATIONS[c.integration], c.mode);
  const def = { ...moded, grounding: { ...moded.grounding, evaluator: undefined } };
  const canary: CanarySample = { ran: true, why: 'corpus: every output is sampled twice', decision: c.canary };
  const grounding: GroundingEvidence = { canary, ...(c.citations ? { citations: c.citations } : {}) };
  const t0 = process.hrtime.bigint();
  const v = checkDecision(def, c.output, c.documents, { source: 'ai', grounding });
  const micros = Number(process.hrtime.bigint() - t0) / 1000;
  const flaggedBy = v.checks.filter((k) => k.verdict === 'fail' || k.verdict === 'retracted').map((k) => k.check);
  return { output: c, flaggedBy, isolated: isolatedFailures(def, c, canary), stopped: Boolean(v.blocked) || hallucinationFlagged(v.checks), ...(v.blocked ? { blocked: v.blocked.code } : {}), micros };
}

/**
 * Each deterministic check run on its own over the whole output, as if it were the only one: the
 * fair measure of what a check catches (in verify, a quote the whitelist already retracted never
 * reaches the verbatim check).
 */
function isolatedFailures(def: IntegrationDefinition, c: CorpusOutput, canary: CanarySample): string[] {
  const p = def.grounding;
  const mapped = c.mode === 'citations' ? fromCitations(c.citations ?? [], c.documents, p.claimFields) : undefined;
  const evidence = mapped?.evidence ?? ((Array.isArray(c.output.evidence) ? c.output.evidence : []) as Evidence[]);
  const claims = mapped?.claims ?? claimsOf(c.output);
  const abstained = c.output.outcome === def.output.abstainOutcome;
  const findings = [
    checkReasoningFirst(c.output, p.reasoningField ?? 'reasoning'),
    checkQuotesFirst(c.output, p.claimFields, c.mode),
    checkCitations(c.mode, c.citations, mapped),
    checkCitedSources(evidence, c.documents, p.trustedOrigins),
    checkQuotesExist(evidence, c.documents).finding,
    checkClosedBook(claims, freeTextOf(c.output, outputJsonSchema(def.output.schema), [p.reasoningField ?? 'reasoning', 'evidence', 'claims']), c.documents),
    checkClaimPairing(claims, evidence, c.output, abstained ? [] : p.claimFields),
    checkDivergence(c.output, canary, p.canary?.fields ?? []),
  ];
  return findings.filter((f) => !f.ok).map((f) => f.check);
}

/** Detection and false-positive figures of one check. */
export interface CheckScore {
  check: string;
  step: number;
  /** The fault kinds this check exists for. */
  kinds: FaultKind[];
  /** Faulted outputs of those kinds, and how many the check flagged. */
  faulted: number;
  detected: number;
  detectionRate: number;
  /** Clean outputs, and how many the check flagged (false positives). */
  clean: number;
  falsePositives: number;
  falsePositiveRate: number;
}

/** The whole measurement. */
export interface CorpusReport {
  outputs: number;
  clean: number;
  byFault: Record<string, number>;
  checks: CheckScore[];
  /** Faulted outputs no check flagged at all. */
  missed: string[];
  /** Clean outputs some grounding check flagged. */
  falseAlarms: Array<{ id: string; flaggedBy: string[] }>;
  /**
   * The divergence row assumes a second sample for every output; under the shipped policies only
   * high-stakes decisions get one. How many of the divergent outputs those policies would sample.
   */
  divergenceSampled: { sampled: number; of: number };
  /** Per-output time of verify's checks, microseconds. */
  micros: { p50: number; p99: number; max: number };
}

/** Scores every deterministic check on the corpus. */
export function measureCorpus(corpus: CorpusOutput[]): CorpusReport {
  const judged = corpus.map(judge);
  const clean = judged.filter((j) => j.output.fault === null);
  const byFault: Record<string, number> = {};
  for (const j of judged) byFault[j.output.fault ?? 'clean'] = (byFault[j.output.fault ?? 'clean'] ?? 0) + 1;
  // Every deterministic check: the evaluator (step 6) needs a model, abstention (step 1) is not a fault.
  // The divergence canary's call is a model's, but its comparison is deterministic given two samples.
  const checks: CheckScore[] = PLAYBOOK.filter((s) => s.check !== 'abstain' && s.check !== 'fresh-evaluator').map((s) => {
    const kinds = (Object.entries(FAULT_CATCHER) as Array<[FaultKind, GroundingCheckId]>).filter(([, c]) => c === s.check).map(([k]) => k);
    const faulted = judged.filter((j) => j.output.fault && kinds.includes(j.output.fault));
    const detected = faulted.filter((j) => j.isolated.includes(s.check)).length;
    const falsePositives = clean.filter((j) => j.isolated.includes(s.check)).length;
    return {
      check: s.check, step: s.step, kinds, faulted: faulted.length, detected, detectionRate: faulted.length ? detected / faulted.length : 1,
      clean: clean.length, falsePositives, falsePositiveRate: clean.length ? falsePositives / clean.length : 0,
    };
  });
  checks.sort((a, b) => a.step - b.step);
  const divergent = judged.filter((j) => j.output.fault === 'divergent');
  const sampled = divergent.filter((j) => {
    const p = INTEGRATIONS[j.output.integration].grounding;
    return wants(p.canary, p, j.output.output).run;
  }).length;
  const times = judged.map((j) => j.micros).sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  return {
    outputs: judged.length,
    clean: clean.length,
    byFault,
    checks,
    missed: judged.filter((j) => j.output.fault && !j.stopped).map((j) => j.output.id),
    divergenceSampled: { sampled, of: divergent.length },
    falseAlarms: clean.filter((j) => hallucinationFlagged(j.flaggedBy.map((check) => ({ check, verdict: 'fail' })))).map((j) => ({ id: j.output.id, flaggedBy: j.flaggedBy })),
    micros: { p50: at(0.5), p99: at(0.99), max: times[times.length - 1] ?? 0 },
  };
}
