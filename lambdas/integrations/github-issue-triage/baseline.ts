import type { SourceDocument } from '../../core/integration.js';
import { findAll, firstHit, mostHits, sentences, type KeywordHit } from '../../core/keywords.js';
import type { IssueInput } from './contract.js';
import type { EvidenceItem, IssueLabel, IssuePriority, IssueTriageDecision, PrimaryLabel } from './output.js';
import { UNKNOWN_KIND } from './output.js';

/**
 * The non-AI fallback the flag returns to: fixed keyword rules, deterministic, no network.
 * Deliberately simple — it is the bar the AI path must beat, not a competitor to tune.
 */

/** Fixed confidence of every baseline decision: keyword rules are right often, not always. */
export const BASELINE_CONFIDENCE = 0.6;

/** Below this many words the issue is treated as saying nothing, whatever keyword it holds. */
export const BASELINE_SHORT_ISSUE_WORDS = 12;

/** At most this many quotes are attached as evidence. */
const MAX_EVIDENCE = 3;

/** Kind keywords; the kind with the most distinct hits wins, on a tie the earlier one. */
export const KIND_KEYWORDS: ReadonlyArray<readonly [Exclude<PrimaryLabel, 'needs-triage'>, readonly string[]]> = [
  ['security', ['vulnerability', 'security', 'exploit', 'xss', 'path traversal', 'injection', 'cve', 'credentials', 'leaked']],
  ['bug', ['bug', 'crash', 'crashes', 'exception', 'traceback', 'stack trace', 'regression', 'broken', 'fails', 'error', "doesn't work", 'not working', 'TypeError']],
  ['performance', ['slow', 'performance', 'memory leak', 'memory usage', 'cpu', 'out of memory']],
  ['documentation', ['docs', 'documentation', 'readme', 'typo', 'broken link']],
  ['question', ['how do i', 'how can i', 'is it possible', 'is there a way', 'question']],
  ['enhancement', ['feature request', 'would be nice', 'would be great', 'please add', 'support for', 'proposal']],
];

/** Priority keywords, checked from most to least urgent; no hit → p2. */
export const PRIORITY_KEYWORDS: ReadonlyArray<readonly [Exclude<IssuePriority, 'p2'>, readonly string[]]> = [
  ['p0', ['data loss', 'corrupted', 'remote code execution', 'everyone', 'all users', 'cannot install']],
  ['p1', ['crash', 'crashes', 'regression', 'vulnerability', 'no workaround', 'blocker']],
  ['p3', ['feature request', 'would be nice', 'typo', 'question', 'how do i', 'docs']],
];

/** A bug report holding none of these gets `needs-reproduction`. */
export const REPRODUCTION_KEYWORDS: readonly string[] = ['steps to reproduce', 'to reproduce', 'reproduction', 'repro', 'minimal example', 'reproduces'];

function addEvidence(into: EvidenceItem[], hit: KeywordHit | undefined): void {
  if (!hit || into.length >= MAX_EVIDENCE) return;
  if (into.some((e) => e.quote === hit.evidence.quote && e.source === hit.evidence.source)) return;
  into.push(hit.evidence);
}

function firstSentenceEvidence(documents: SourceDocument[]): EvidenceItem[] {
  const doc = documents.find((d) => d.text.trim());
  const quote = doc ? sentences(doc.text)[0] : undefined;
  return doc && quote ? [{ quote, source: doc.id }] : [];
}

/** Triage an issue with keyword rules. Evidence quotes are verbatim sentences from `documents`. */
export function triageIssueByKeywords(_input: IssueInput, documents: SourceDocument[]): IssueTriageDecision {
  const { value: kind, hits: kindHits } = mostHits<PrimaryLabel>(KIND_KEYWORDS, documents, UNKNOWN_KIND);
  const { value: priority, hit: priorityHit } = firstHit<IssuePriority>(PRIORITY_KEYWORDS, documents, 'p2');

  const words = documents.map((d) => d.text).join(' ').split(/\s+/).filter((w) => w.length > 0).length;
  if (kindHits.length === 0 || words < BASELINE_SHORT_ISSUE_WORDS) {
    const why = kindHits.length === 0 ? 'no kind keyword matched' : `the issue has only ${words} words`;
    return {
      reasoning: `baseline keyword rules: ${why}, so it does not say enough to triage.`,
      evidence: firstSentenceEvidence(documents),
      // Rules make no claims to pair: grounding step 3 is for the model (their quotes are still checked).
      claims: [],
      outcome: 'insufficient_information',
      primary_label: UNKNOWN_KIND,
      labels: [],
      priority: 'p2',
      triage_comment: 'Thanks for opening this issue. It does not yet say enough for automated triage: please describe what you expected, what happened instead, and how to reproduce it.',
      confidence: BASELINE_CONFIDENCE,
      missing_information: ['what happened and what was expected', 'steps to reproduce or a minimal example', 'the version and environment'],
    };
  }

  const labels: IssueLabel[] = [];
  const missing: string[] = [];
  if (kind === 'bug' && findAll(REPRODUCTION_KEYWORDS, documents).length === 0) {
    labels.push('needs-reproduction');
    missing.push('steps to reproduce or a minimal example');
  }

  const evidence: EvidenceItem[] = [];
  addEvidence(evidence, priorityHit);
  for (const hit of kindHits) addEvidence(evidence, hit);

  const matched = [
    `kind ${kind} from ${kindHits.map((h) => `"${h.keyword}"`).join(', ')}`,
    priorityHit ? `priority ${priority} from "${priorityHit.keyword}"` : 'no priority keyword, so p2',
    labels.length > 0 ? 'no reproduction keyword, so needs-reproduction' : undefined,
  ].filter((s): s is string => s !== undefined);

  return {
    reasoning: `baseline keyword rules: ${matched.join('; ')}.`,
    evidence,
    // Rules make no claims to pair: grounding step 3 is for the model (their quotes are still checked).
    claims: [],
    outcome: 'triaged',
    primary_label: kind,
    labels,
    priority,
    triage_comment:
      labels.includes('needs-reproduction')
        ? 'Thanks for the report. It has been labelled by automated keyword triage; please add steps or a minimal example that reproduce the problem.'
        : 'Thanks for opening this issue. It has been labelled by automated keyword triage; a maintainer will take a look.',
    confidence: BASELINE_CONFIDENCE,
    missing_information: missing,
  };
}
