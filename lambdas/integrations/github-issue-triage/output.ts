import { z } from 'zod';
import { claimsSchema, quoteId } from '../../core/grounding/schema.js';

/**
 * The structured output of GitHub issue triage (layer 4 validates it, layer 5 acts on it).
 *
 * Each enum field's description lists cues per value as `<value>: <cue>, <cue>.` and may end
 * with `Default: <value>.` — a real model reads them as guidance, the deterministic local
 * reference model reads them as its rules (whole-word matches, counted over every sentence of
 * every document; on a tie the value listed first in the enum wins). Keep that shape when
 * editing: no colons or full stops inside a cue.
 */

/** What the decision is: a triage, or an explicit abstention. */
export const OUTCOMES = ['triaged', 'insufficient_information'] as const;
export type IssueOutcome = (typeof OUTCOMES)[number];

/** The outcome meaning "the issue does not say enough to triage it". */
export const ABSTAIN_OUTCOME = 'insufficient_information' satisfies IssueOutcome;

/**
 * The fixed label set the integration may put on an issue (besides its priority label). Labels
 * outside it are never applied, whatever the model writes.
 */
export const LABELS = ['bug', 'security', 'performance', 'documentation', 'enhancement', 'question', 'needs-reproduction'] as const;
export type IssueLabel = (typeof LABELS)[number];

/**
 * What kind of issue it is: one label of the set, or `needs-triage` when the kind cannot be
 * told (always so on an abstention). Order matters to the reference model: on a tie the
 * earlier value wins, so a crash that is also a vulnerability is `security`, and a how-to question
 * that mentions the docs is a `question`.
 */
export const PRIMARY_LABELS = ['security', 'bug', 'performance', 'question', 'documentation', 'enhancement', 'needs-triage'] as const;
export type PrimaryLabel = (typeof PRIMARY_LABELS)[number];

/** The kind label meaning "a maintainer must decide what this is". */
export const UNKNOWN_KIND = 'needs-triage' satisfies PrimaryLabel;

/** Priorities, most urgent first; applied as a `priority:<p>` label. */
export const PRIORITIES = ['p0', 'p1', 'p2', 'p3'] as const;
export type IssuePriority = (typeof PRIORITIES)[number];

/** Longest triage comment accepted: it is posted publicly on the issue. */
export const TRIAGE_COMMENT_MAX = 600;

/** At most this many extra labels besides the primary one. */
export const MAX_EXTRA_LABELS = 3;

/** The decision fields each claim supports (grounding step 3): every one that holds a value needs a claim paired to a verified quote. */
export const CLAIM_FIELDS = ['primary_label', 'labels', 'priority'] as const;

/** One verbatim quote from an issue document; grounding checks it exists. */
export const EvidenceItem = z.object({
  id: quoteId(),
  quote: z
    .string()
    .min(1)
    .describe(
      'A quote copied character for character from one of the issue documents: same spelling, typos, case, punctuation and code, no paraphrase, no ellipsis, no joining of separate lines. Placeholders such as [EMAIL_1] are copied as they appear.',
    ),
  source: z
    .string()
    .min(1)
    .describe('The id of the document the quote was copied from, exactly as given: issue.title, issue.body or comment.body.'),
});
export type EvidenceItem = z.infer<typeof EvidenceItem>;

/** The zod schema the model's `record_issue_triage` tool input must satisfy. */
export const IssueTriageDecision = z.object({
  reasoning: z
    .string()
    .describe(
      'Think first, before any other field: what the reporter describes or asks, whether it is a defect, a request or a question, what is affected and how badly, whether there are steps to reproduce, and whether the issue says enough to act on. Kept in the audit log only; never posted on GitHub and never used by an action.',
    ),
  evidence: z
    .array(EvidenceItem)
    .describe(
      'Extract these before choosing labels: one to three verbatim quotes from the issue documents that support the kind, the priority and any extra label. source is the document id. A quote not found verbatim in its document is retracted.',
    ),
  claims: claimsSchema(CLAIM_FIELDS),
  outcome: z
    .enum(OUTCOMES)
    .describe(
      'Whether the issue holds enough to triage. Choose insufficient_information instead of guessing when it does not say what is wrong or what is wanted. triaged: . insufficient_information: . Default: triaged.',
    ),
  primary_label: z
    .enum(PRIMARY_LABELS)
    .describe(
      'What kind of issue this is, by what the reporter needs rather than by the words of the issue template. security: vulnerability, security, exploit, exploitable, xss, cross-site scripting, path traversal, prototype pollution, injection, cve, secret, credentials, arbitrary file, unauthenticated. bug: crash, crashes, crashed, exception, traceback, stack trace, segfault, panic, regression, broken, fails, failing, error, errors, throws, TypeError, ReferenceError, ENOENT, undefined is not, incorrect, missing, deleted, wiped, no longer, stopped working, instead of. performance: slow, slower, slowly, performance, memory, memory leak, cpu, takes minutes, seconds per, heap, out of memory, faster. documentation: docs, documentation, readme, typo, typos, misspelled, broken link, broken links, dead link, dead links, guide, tutorial, outdated. question: how do i, how can i, how to, is it possible, is there a way, can i, question, what is the recommended, wondering. enhancement: feature request, feature, would be nice, would be great, please add, add support, support for, proposal, suggestion, option to, ability to, allow. needs-triage: . Default: needs-triage.',
    ),
  labels: z
    .array(z.enum(LABELS))
    .max(MAX_EXTRA_LABELS)
    .describe(
      'Other labels from the fixed set that also apply, beyond primary_label, never repeating it: needs-reproduction for a bug report without steps, a sample or a repository that reproduces it; performance for a bug that is also about speed or memory; documentation when the docs must change as well. Empty when none apply.',
    ),
  priority: z
    .enum(PRIORITIES)
    .describe(
      'How soon a maintainer must act. p0: data loss, lost data, deleted, corrupts, corrupted, remote code execution, actively exploited, in production, every build, all users, production is down, cannot install. p1: crash, crashes, regression, no workaround, blocker, vulnerability, xss, path traversal, prototype pollution, since upgrading, after upgrading, worked in, used to work, stopped working, no longer works. p2: workaround, works around, work around, sometimes, intermittent, occasionally, edge case, slow, memory, warning. p3: feature request, would be nice, would be great, typo, cosmetic, minor, nice to have, proposal, suggestion, question, how do i, how can i, docs, documentation, guide, outdated, broken links. Default: p2.',
    ),
  triage_comment: z
    .string()
    .min(1)
    .max(TRIAGE_COMMENT_MAX)
    .describe(
      'A short, friendly comment posted publicly on the issue (at most 600 characters): what the triage concluded and, when something is missing, what the reporter should add. The labels and priority are listed under it automatically, so do not repeat them. State only what the issue says; never include the reasoning, never guess versions, dates or numbers, never repeat secrets or placeholders such as [EMAIL_1], and for a security report ask the reporter to continue privately instead of restating details.',
    ),
  confidence: z
    .number()
    .min(0)
    .max(1)
    .describe('Probability from 0 to 1 that primary_label and priority are right. Low when the issue is vague or mixes several problems.'),
  missing_information: z
    .array(z.string())
    .describe(
      'What a maintainer would need to ask the reporter for, one short item each (for example the version, the full error, or steps to reproduce). Empty when nothing is missing.',
    ),
});
export type IssueTriageDecision = z.infer<typeof IssueTriageDecision>;
