import type { ActionRequest } from '../../core/integration.js';
import { EVENT_COMMENT_CREATED, type IssueInput } from './contract.js';
import { LABELS, PRIORITIES, type IssuePriority, type IssueTriageDecision } from './output.js';

/**
 * Layer 5 routing: a verified triage decision becomes labels on the issue and a public triage
 * comment. Built only from the decision's public fields; `reasoning` stays in the audit log.
 * Nothing is ever restored from the PII vault: the comment is public, so any placeholder the
 * model wrote is masked, never filled in.
 */

/** Action names: stable, they are part of the idempotency key. */
export const ACTION_ADD_LABELS = 'github.add_labels';
export const ACTION_CREATE_COMMENT = 'github.create_comment';

/** Label every issue touched by this integration carries, so maintainers can filter on it. */
export const SEAMWORK_LABEL = 'seamwork-triaged';

/**
 * Hidden marker at the end of every triage comment. Ingest ignores comments that carry it, so the
 * integration never triages its own comment even when its token is a machine user's, not an App's.
 */
export const TRIAGE_MARKER = '<!-- seamwork:github-issue-triage -->';

/** What a security report gets instead of the model's comment: no details repeated in public. */
export const SECURITY_COMMENT =
  'Thanks for the report. This looks like it may be a security vulnerability, so please do not post further details here: use this repository\'s private vulnerability reporting (Security tab → "Report a vulnerability") so the maintainers can follow up privately.';

/** Vault placeholders (`[EMAIL_1]`): masked in public text rather than restored. */
const PLACEHOLDER = /\[[A-Z]+_\d+\]/g;

/** Labels that carry a priority; an issue keeps one, set by whoever set it first. */
const PRIORITY_LABEL = /^priority:(p[0-3])$/i;

/** Whether a comment body is one of this integration's triage comments. */
export function isTriageComment(body: string): boolean {
  return body.includes(TRIAGE_MARKER);
}

/** The labels a decision puts on the issue: kind, extra labels from the fixed set, priority, marker. */
export function decisionLabels(decision: IssueTriageDecision): string[] {
  const extra = decision.labels.filter((l) => (LABELS as readonly string[]).includes(l));
  return [...new Set([decision.primary_label, ...extra, `priority:${decision.priority}`, SEAMWORK_LABEL])];
}

function masked(text: string): string {
  return text.replace(PLACEHOLDER, '[redacted]').trim();
}

/**
 * The public comment: the model's short text (or the fixed security text), labels, an escalation
 * suggestion, what to add, marker. Never the reasoning.
 */
export function triageCommentBody(decision: IssueTriageDecision, added: string[], escalation?: { from: string }): string {
  const security = decision.primary_label === 'security' || decision.labels.includes('security');
  const lines = [security ? SECURITY_COMMENT : masked(decision.triage_comment), ''];
  if (added.length > 0) lines.push(`Labels: ${added.map((l) => `\`${l}\``).join(', ')}`);
  if (escalation) lines.push(`Suggested priority: \`priority:${decision.priority}\` (the issue has \`${escalation.from}\`; a maintainer decides).`);
  if (!security && decision.missing_information.length > 0) {
    lines.push('', 'To move this forward, please add:');
    for (const m of decision.missing_information) lines.push(`- ${masked(m)}`);
  }
  lines.push('', '<sub>Automated triage by Seamwork; a maintainer may change these labels.</sub>', TRIAGE_MARKER);
  return lines.join('\n');
}

const rank = (p: string) => PRIORITIES.indexOf(p.toLowerCase() as IssuePriority);

/**
 * Routes a verified decision to its actions. An abstention leads to none (it goes to review).
 * Labels only ever get added, so an issue that already has a priority label keeps it: a second
 * one would contradict it. When the triage finds the issue more urgent (p0 or p1) than that
 * label says, the comment suggests the escalation instead. A new issue always gets a comment; a
 * new comment only when it adds a label or an escalation, so a conversation is not answered
 * comment by comment.
 */
export function issueTriageActions(decision: IssueTriageDecision, input: IssueInput): ActionRequest[] {
  if (decision.outcome === 'insufficient_information') return [];
  const existing = new Set(input.labels.map((l) => l.toLowerCase()));
  const currentPriority = input.labels.find((l) => PRIORITY_LABEL.test(l));
  const wanted = decisionLabels(decision).filter((l) => !(currentPriority && PRIORITY_LABEL.test(l)));
  const added = wanted.filter((l) => !existing.has(l.toLowerCase()));
  const current = currentPriority ? PRIORITY_LABEL.exec(currentPriority)![1] : undefined;
  const escalation = current && rank(decision.priority) <= 1 && rank(decision.priority) < rank(current) ? { from: currentPriority! } : undefined;
  if (input.event === EVENT_COMMENT_CREATED && added.filter((l) => l !== SEAMWORK_LABEL).length === 0 && !escalation) return [];

  const target = { owner: input.owner, repo: input.name, issueNumber: input.issueNumber };
  const actions: ActionRequest[] = [];
  if (added.length > 0) actions.push({ name: ACTION_ADD_LABELS, connector: 'github', params: { ...target, labels: added } });
  actions.push({ name: ACTION_CREATE_COMMENT, connector: 'github', params: { ...target, body: triageCommentBody(decision, added, escalation) } });
  return actions;
}
