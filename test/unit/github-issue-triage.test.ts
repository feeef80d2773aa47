import { existsSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { detectDrift } from '../../lambdas/core/contracts/drift.js';
import { loadGolden as loadGoldenSet } from '../../lambdas/core/eval/run.js';
import type { Fixture, GoldenExample, SourceDocument } from '../../lambdas/core/integration.js';
import { newRedactionState, redactFields } from '../../lambdas/core/redact.js';
import {
  ACTION_ADD_LABELS,
  ACTION_CREATE_COMMENT,
  SECURITY_COMMENT,
  SEAMWORK_LABEL,
  TRIAGE_MARKER,
  isTriageComment,
  issueTriageActions,
  triageCommentBody,
} from '../../lambdas/integrations/github-issue-triage/actions.js';
import { triageIssueByKeywords } from '../../lambdas/integrations/github-issue-triage/baseline.js';
import { CONTRACT_VERSION, GitHubIssueContract } from '../../lambdas/integrations/github-issue-triage/contract.js';
import type { IssueInput } from '../../lambdas/integrations/github-issue-triage/contract.js';
import { EVENTS, githubEventType, githubIssueTriage } from '../../lambdas/integrations/github-issue-triage/index.js';
import { IssueTriageDecision, LABELS, OUTCOMES, PRIMARY_LABELS, PRIORITIES } from '../../lambdas/integrations/github-issue-triage/output.js';
import { INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { loadFixtures as loadIntegrationFixtures } from '../../lib/local/fixtures.js';

const def = githubIssueTriage;
const NOW = new Date('2026-11-25T12:00:00Z');

const FixtureSchema = z.object({
  name: z.string().min(1),
  description: z.string().min(1),
  body: z.string(),
  headers: z.record(z.string().regex(/^[a-z0-9-]+$/), z.string()),
  signature: z.enum(['valid', 'bad']),
  deliveries: z.number().int().min(1).optional(),
  expect: z.object({ status: z.number().int(), outcome: z.enum(['acted', 'baseline', 'review', 'dlq']).optional() }),
});

const GoldenSchema = z.object({
  id: z.string().min(1),
  headers: z.object({ 'x-github-event': z.enum(['issues', 'issue_comment']), 'x-github-delivery': z.string().uuid() }),
  body: z.unknown(),
  expected: z.object({ outcome: z.enum(OUTCOMES), primary_label: z.enum(PRIMARY_LABELS), priority: z.enum(PRIORITIES) }).strict(),
  rationale: z.string().min(1),
});

// The same loaders `npm start` and `seamwork eval` use, so what is tested is what runs.
const loadFixtures = (): Fixture[] => loadIntegrationFixtures(def);
const loadGolden = (): GoldenExample[] => loadGoldenSet(def.eval.goldenPath);

function fixtureNamed(name: string): Fixture {
  const f = loadFixtures().find((x) => x.name === name);
  if (!f) throw new Error(`no fixture ${name}`);
  return f;
}

const bodyOf = (name: string) => JSON.parse(fixtureNamed(name).body) as Record<string, any>;

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const processed = (f: Fixture) => isJson(f.body) && def.source.events!.includes(def.source.eventType!(JSON.parse(f.body), f.headers ?? {}) ?? '');

/** Fixtures the contract must accept: processed deliveries the pipeline does not expect to reject at validate. */
const contractCleanFixtures = () => loadFixtures().filter((f) => processed(f) && f.expect.outcome !== 'dlq');

const parseInput = (raw: unknown): IssueInput => GitHubIssueContract.parse(raw);

const decision = (over: Partial<IssueTriageDecision> = {}): IssueTriageDecision => ({
  reasoning: 'SECRET-REASONING: the reporter seems junior, I guess they are on Windows',
  evidence: [{ quote: 'Build crashes with TypeError', source: 'issue.title' }],
  claims: [],
  outcome: 'triaged',
  primary_label: 'bug',
  labels: ['needs-reproduction'],
  priority: 'p1',
  triage_comment: 'Thanks for the crash report and the stack trace.',
  confidence: 0.8,
  missing_information: ['the inkwell version'],
  ...over,
});

/** A comment event built from a fixture's issue, for routing tests. */
function commentEvent(over: { body?: string; userType?: string; senderType?: string; pr?: boolean } = {}): Record<string, any> {
  const e = structuredClone(bodyOf('issue-comment-adds-reproduction'));
  if (over.body !== undefined) e.comment.body = over.body;
  if (over.userType) e.comment.user.type = over.userType;
  if (over.senderType) e.sender.type = over.senderType;
  if (over.pr) e.issue.pull_request = { url: 'https://api.github.com/repos/o/r/pulls/1', html_url: 'https://github.com/o/r/pull/1' };
  return e;
}
const commentHeaders = { 'x-github-event': 'issue_comment', 'x-github-delivery': 'd-1' };

describe('github-issue-triage contract', () => {
  it('parses every golden body and every fixture the pipeline accepts, with no drift', () => {
    const bodies = [
      ...loadGolden().map((g) => ({ name: g.id, body: g.body })),
      ...contractCleanFixtures().filter((f) => !f.name.startsWith('drift-')).map((f) => ({ name: f.name, body: JSON.parse(f.body) })),
    ];
    expect(bodies.length).toBeGreaterThanOrEqual(40);
    for (const { name, body } of bodies) {
      const result = GitHubIssueContract.safeParse(body);
      expect(result.success, `${name}: ${result.error?.message}`).toBe(true);
      expect(detectDrift(GitHubIssueContract, body, def.contract.drift, NOW).findings, name).toEqual([]);
    }
  });

  it('trims an issues.opened payload to the fields the pipeline uses', () => {
    const input = parseInput(bodyOf('clean-feature-request'));
    expect(input).toEqual({
      event: 'issues.opened',
      repo: 'inkwell-dev/inkwell',
      owner: 'inkwell-dev',
      name: 'inkwell',
      issueNumber: 2012,
      title: 'Feature request: per-collection RSS feeds',
      body: expect.stringContaining('one feed per collection'),
      labels: [],
      author: 'jo-mcallister',
      authorAssociation: 'NONE',
      createdAt: '2026-11-20T10:03:19Z',
      comment: null,
    });
  });

  it('carries the new comment, its author and association for issue_comment.created', () => {
    const input = parseInput(bodyOf('issue-comment-adds-reproduction'));
    expect(input.event).toBe('issue_comment.created');
    expect(input.body).toBe('The dev server is broken since the update.');
    expect(input.comment).toEqual({ id: 3520014477, body: expect.stringContaining('EADDRINUSE'), author: 'samuel-ito', authorAssociation: 'NONE' });
  });

  it('reads a null issue body (GitHub sends null for an empty description) as an empty string', () => {
    const golden = loadGolden().find((g) => g.id === 'vague-title-only-empty-body')!;
    expect((golden.body as { issue: { body: unknown } }).issue.body).toBeNull();
    expect(parseInput(golden.body).body).toBe('');
  });

  it('rejects the contract-violation fixture with the pointer to issue.number', () => {
    const result = GitHubIssueContract.safeParse(bodyOf('contract-violation-number-string'));
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toEqual(['issue.number']);
  });

  it('rejects an action it does not process and an author association GitHub does not document', () => {
    const closed = { ...bodyOf('clean-question'), action: 'closed' };
    const association = bodyOf('clean-question');
    association.issue.author_association = 'MAINTAINER';
    expect(GitHubIssueContract.safeParse(closed).error?.issues[0].path).toEqual(['action']);
    expect(GitHubIssueContract.safeParse(association).error?.issues[0].path).toEqual(['issue', 'author_association']);
  });

  it('reports new fields in the objects it reads as drift, and parses them', () => {
    const body = bodyOf('drift-unknown-repository-fields');
    expect(GitHubIssueContract.safeParse(body).success).toBe(true);
    const report = detectDrift(GitHubIssueContract, body, def.contract.drift, NOW);
    expect(report.findings.map((f) => [f.kind, f.pointer])).toEqual([
      ['unknown_field', '/repository/has_pull_requests'],
      ['unknown_field', '/repository/pull_request_creation_policy'],
    ]);
    expect(report.action).toBe('pass-and-report');
    const issueField = bodyOf('clean-question');
    issueField.issue.ai_summary = 'x';
    expect(detectDrift(GitHubIssueContract, issueField, def.contract.drift, NOW).findings.map((f) => f.pointer)).toEqual(['/issue/ai_summary']);
  });

  it('does not report new fields in the subtrees it does not track', () => {
    const body = bodyOf('clean-question');
    body.sender.new_flag = true;
    body.issue.user.pronouns = 'they/them';
    body.installation.account = { login: 'inkwell-dev' };
    body.organization.plan = { name: 'free' };
    body.issue.reactions.thinking = 0;
    expect(detectDrift(GitHubIssueContract, body, def.contract.drift, NOW).findings).toEqual([]);
  });

  it('reports a new repository visibility without rejecting the event (an observed field)', () => {
    const body = bodyOf('clean-question');
    body.repository.visibility = 'restricted';
    expect(GitHubIssueContract.safeParse(body).success).toBe(true);
    expect(detectDrift(GitHubIssueContract, body, def.contract.drift, NOW).findings.map((f) => [f.kind, f.pointer])).toEqual([['new_enum_value', '/repository/visibility']]);
  });

  it('is versioned and passes drift on with a report', () => {
    expect(CONTRACT_VERSION).toMatch(/^github\.issues\/2022-11-28#\d+$/);
    expect(def.contract.version).toBe(CONTRACT_VERSION);
    expect(def.contract.drift).toEqual({ default: 'pass-and-report' });
  });
});

describe('github-issue-triage event routing', () => {
  it('processes issues.opened and issue_comment.created', () => {
    expect(EVENTS).toEqual(['issues.opened', 'issue_comment.created']);
    expect(def.source.events).toEqual(EVENTS);
    expect(githubEventType(bodyOf('clean-question'), { 'x-github-event': 'issues' })).toBe('issues.opened');
    expect(githubEventType(commentEvent(), commentHeaders)).toBe('issue_comment.created');
  });

  it('gives comments by bots, and comments carrying the triage marker, a type that is not processed', () => {
    const types = [
      githubEventType(commentEvent({ senderType: 'Bot' }), commentHeaders),
      githubEventType(commentEvent({ userType: 'Bot' }), commentHeaders),
      githubEventType(commentEvent({ body: `Looks like a bug.\n${TRIAGE_MARKER}` }), commentHeaders),
    ];
    expect(types).toEqual(['issue_comment.created:bot', 'issue_comment.created:bot', 'issue_comment.created:bot']);
    for (const t of types) expect(EVENTS).not.toContain(t);
  });

  it('ignores its own triage comment when it comes back as a webhook, even from a User-type token (no loop)', () => {
    const input = parseInput(bodyOf('clean-bug-crash-stack-trace'));
    const comment = issueTriageActions(decision(), input).find((a) => a.name === ACTION_CREATE_COMMENT)!;
    const echo = commentEvent({ body: String(comment.params.body), senderType: 'User', userType: 'User' });
    expect(githubEventType(echo, commentHeaders)).toBe('issue_comment.created:bot');
  });

  it('gives comments on pull requests a type that is not processed', () => {
    expect(githubEventType(commentEvent({ pr: true }), commentHeaders)).toBe('issue_comment.created:pull-request');
  });

  it('names other events by event and action, and ping by its event alone', () => {
    expect(githubEventType(bodyOf('ping-ignored'), { 'x-github-event': 'ping' })).toBe('ping');
    expect(githubEventType(bodyOf('issues-closed-ignored'), { 'x-github-event': 'issues' })).toBe('issues.closed');
    expect(githubEventType({ action: 'labeled' }, { 'x-github-event': 'issues' })).toBe('issues.labeled');
    expect(githubEventType(bodyOf('clean-question'), {})).toBeUndefined();
  });

  it('agrees with every fixture: 200 fixtures are ignored, accepted ones are processed', () => {
    const fixtures = loadFixtures().filter((f) => isJson(f.body) && f.signature === 'valid' && f.headers?.['x-github-delivery']);
    const ignored = fixtures.filter((f) => f.expect.status === 200);
    expect(ignored.map((f) => f.name).sort()).toEqual(['bot-comment-ignored', 'issues-closed-ignored', 'ping-ignored', 'pr-comment-ignored']);
    for (const f of ignored) expect(processed(f), f.name).toBe(false);
    for (const f of fixtures.filter((x) => x.expect.status === 202)) expect(processed(f), f.name).toBe(true);
  });

  it('reads the event id from x-github-delivery and the tenant from the repository owner', () => {
    const body = bodyOf('clean-question');
    expect(def.source.eventId(body, { 'x-github-delivery': ' 72d3162e-cc78-11e3-81ab-4c9367dc0958 ' })).toBe('72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect(def.source.eventId(body, {})).toBeUndefined();
    expect(def.source.eventId(body, { 'x-github-delivery': '  ' })).toBeUndefined();
    expect(def.source.tenant(body, {})).toBe('github:inkwell-dev');
    expect(def.source.tenant({ repository: { owner: 42 } }, {})).toBeUndefined();
    expect(def.source.tenant('nope', {})).toBeUndefined();
    expect(def.source).toMatchObject({ vendor: 'github', signature: 'github', secretName: 'github-issue-triage' });
  });
});

describe('github-issue-triage documents', () => {
  it('gives an issue its title and first message, pointing at the issue', () => {
    const docs = def.documents(parseInput(bodyOf('clean-question')));
    expect(docs.map((d) => d.id)).toEqual(['issue.title', 'issue.body']);
    expect(docs.every((d) => d.origin === 'github:inkwell-dev/inkwell/issues/2013')).toBe(true);
  });

  it('adds the new comment, windowed before the first message', () => {
    const docs = def.documents(parseInput(bodyOf('issue-comment-adds-reproduction')));
    expect(docs.map((d) => d.id)).toEqual(['issue.title', 'issue.body', 'comment.body']);
    const [title, body, comment] = docs;
    expect(title.priority!).toBeLessThan(comment.priority!);
    expect(comment.priority!).toBeLessThan(body.priority!);
    expect(comment.origin).toBe('github:inkwell-dev/inkwell/issues/comments/3520014477');
  });

  it('drops an empty body, and redacts title, body and comment', () => {
    const golden = loadGolden().find((g) => g.id === 'vague-title-only-empty-body')!;
    expect(def.documents(parseInput(golden.body)).map((d) => d.id)).toEqual(['issue.title']);
    const state = newRedactionState();
    const pii = redactFields(parseInput(bodyOf('pii-email-and-api-key')), def.redactFields, state);
    expect(pii.body).toContain('[EMAIL_1]');
    expect(pii.body).not.toContain('priyanka.v@oldmail-example.com');
    expect(pii.body).toContain('accessKey: "[SECRET_1]"');
    expect(pii.body).not.toContain('bny_live_');
    const withComment = { ...parseInput(bodyOf('issue-comment-adds-reproduction')) };
    withComment.comment = { ...withComment.comment!, body: 'mail me at sam@example.org' };
    expect(redactFields(withComment, def.redactFields, newRedactionState()).comment!.body).toBe('mail me at [EMAIL_1]');
  });
});

describe('github-issue-triage output schema', () => {
  it('describes every enum with per-value cues in the reference-model convention', () => {
    const shape = IssueTriageDecision.shape;
    for (const [field, values] of [
      ['outcome', OUTCOMES],
      ['primary_label', PRIMARY_LABELS],
      ['priority', PRIORITIES],
    ] as const) {
      const text = shape[field].description ?? '';
      for (const v of values) expect(text, `${field}.${v}`).toMatch(new RegExp(`(^|\\s)${v}: [^:]*\\.`));
      expect(text).toMatch(/Default: [\w-]+\.$/);
    }
  });

  it('turns into a JSON schema for the tool input with reasoning and evidence first', () => {
    const json = z.toJSONSchema(IssueTriageDecision) as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(json.properties).slice(0, 2)).toEqual(['reasoning', 'evidence']);
    expect(json.required).toEqual(expect.arrayContaining(['primary_label', 'labels', 'priority', 'triage_comment']));
  });

  it('accepts only labels of the fixed set, at most three, and a comment of at most 600 characters', () => {
    expect(IssueTriageDecision.safeParse(decision()).success).toBe(true);
    expect(IssueTriageDecision.safeParse(decision({ labels: ['wontfix' as never] })).success).toBe(false);
    expect(IssueTriageDecision.safeParse(decision({ labels: ['bug', 'security', 'performance', 'question'] })).success).toBe(false);
    expect(IssueTriageDecision.safeParse(decision({ triage_comment: 'x'.repeat(601) })).success).toBe(false);
    expect(LABELS).toHaveLength(7);
  });
});

describe('github-issue-triage baseline', () => {
  const inputs = (): Array<{ name: string; input: IssueInput }> => [
    ...contractCleanFixtures().map((f) => ({ name: f.name, input: parseInput(JSON.parse(f.body)) })),
    ...loadGolden().map((g) => ({ name: g.id, input: parseInput(g.body) })),
  ];

  it('returns schema-valid decisions whose evidence quotes are substrings of their documents', () => {
    for (const { name, input } of inputs()) {
      const docs = def.documents(input);
      const out = def.baseline(input, docs);
      expect(IssueTriageDecision.safeParse(out).success, name).toBe(true);
      expect(out.reasoning.startsWith('baseline keyword rules:'), name).toBe(true);
      expect(out.evidence.length, name).toBeGreaterThanOrEqual(1);
      for (const e of out.evidence) expect(docs.find((d) => d.id === e.source)?.text, `${name}: ${e.quote}`).toContain(e.quote);
      expect(out.triage_comment, `${name}: a digit in the comment would fail the numbers check`).not.toMatch(/\d/);
    }
  });

  it('abstains on an issue that says nothing actionable', () => {
    const input = parseInput(bodyOf('vague-abstains'));
    const out = triageIssueByKeywords(input, def.documents(input));
    expect(out).toMatchObject({ outcome: 'insufficient_information', primary_label: 'needs-triage', priority: 'p2', labels: [] });
    expect(out.missing_information.length).toBeGreaterThan(0);
  });

  it('labels a crash report bug, p1, without needs-reproduction when it has steps', () => {
    const input = parseInput(bodyOf('clean-bug-crash-stack-trace'));
    const out = triageIssueByKeywords(input, def.documents(input));
    expect(out).toMatchObject({ outcome: 'triaged', primary_label: 'bug', priority: 'p1', labels: [] });
  });

  it('adds needs-reproduction to a bug report without steps', () => {
    const input = parseInput(loadGolden().find((g) => g.id === 'injection-inside-front-matter-bug')!.body);
    const out = triageIssueByKeywords(input, def.documents(input));
    expect(out).toMatchObject({ primary_label: 'bug', labels: ['needs-reproduction'] });
  });

  it('labels a vulnerability report security', () => {
    const input = parseInput(bodyOf('clean-security-report'));
    expect(triageIssueByKeywords(input, def.documents(input)).primary_label).toBe('security');
  });

  it('always quotes verbatim from arbitrary text', () => {
    const words = fc.constantFrom('crash', 'typo', 'how do i', 'slow', 'xss', 'the', 'it', 'Hello', 'broken.', 'would be nice!', '\n', '  ', 'docs?');
    fc.assert(
      fc.property(fc.array(words, { maxLength: 30 }), fc.array(words, { maxLength: 40 }), fc.option(fc.array(words, { minLength: 1, maxLength: 20 })), (t, b, c) => {
        const input: IssueInput = {
          event: c ? 'issue_comment.created' : 'issues.opened', repo: 'o/r', owner: 'o', name: 'r', issueNumber: 1, title: t.join(' '), body: b.join(' '),
          labels: [], author: 'a', authorAssociation: 'NONE', createdAt: '2026-01-01T00:00:00Z',
          comment: c ? { id: 1, body: c.join(' '), author: 'b', authorAssociation: 'NONE' } : null,
        };
        const docs: SourceDocument[] = def.documents(input);
        const out = triageIssueByKeywords(input, docs);
        expect(IssueTriageDecision.safeParse(out).success).toBe(true);
        for (const e of out.evidence) expect(docs.find((d) => d.id === e.source)!.text).toContain(e.quote);
      }),
    );
  });
});

describe('github-issue-triage actions', () => {
  const input = parseInput(bodyOf('clean-bug-crash-stack-trace'));

  it('adds the labels and posts one comment on a new issue, never carrying the reasoning or restoring PII', () => {
    const actions = issueTriageActions(decision(), input);
    expect(actions.map((a) => `${a.connector}:${a.name}`)).toEqual(['github:github.add_labels', 'github:github.create_comment']);
    expect(actions[0].params).toEqual({ owner: 'inkwell-dev', repo: 'inkwell', issueNumber: 2011, labels: ['bug', 'needs-reproduction', 'priority:p1', SEAMWORK_LABEL] });
    expect(actions[1].params).toMatchObject({ owner: 'inkwell-dev', repo: 'inkwell', issueNumber: 2011 });
    const body = String(actions[1].params.body);
    expect(body).toContain('Thanks for the crash report and the stack trace.');
    expect(body).toContain('- the inkwell version');
    expect(isTriageComment(body)).toBe(true);
    expect(JSON.stringify(actions)).not.toContain('SECRET-REASONING');
    for (const a of actions) expect(a.restore).toBeUndefined();
  });

  it('masks vault placeholders in the public comment instead of restoring them', () => {
    const body = triageCommentBody(decision({ triage_comment: 'We will email [EMAIL_1] about it.', missing_information: ['logs from [EMAIL_1]'] }), ['bug']);
    expect(body).not.toMatch(/\[EMAIL_1\]/);
    expect(body).toContain('We will email [redacted] about it.');
  });

  it('posts the fixed private-reporting text for a security report, not the model text or what is missing', () => {
    const body = String(issueTriageActions(decision({ primary_label: 'security', triage_comment: 'The XSS payload <img onerror> works.' }), input)[1].params.body);
    expect(body.startsWith(SECURITY_COMMENT)).toBe(true);
    expect(body).not.toContain('onerror');
    expect(body).not.toContain('the inkwell version');
  });

  it('produces no actions for an insufficient_information decision', () => {
    expect(issueTriageActions(decision({ outcome: 'insufficient_information', primary_label: 'needs-triage', labels: [] }), input)).toEqual([]);
  });

  it('does not re-add labels the issue already has, and keeps only labels of the fixed set', () => {
    const labelled = { ...input, labels: ['Bug', 'priority:p1'] };
    const actions = issueTriageActions(decision({ labels: ['needs-reproduction', 'wontfix' as never] }), labelled);
    expect(actions.find((a) => a.name === ACTION_ADD_LABELS)!.params.labels).toEqual(['needs-reproduction', SEAMWORK_LABEL]);
  });

  it('never adds a second priority label; suggests an escalation to p0 or p1 in the comment instead', () => {
    const lower = { ...input, labels: ['priority:p3'] };
    const escalate = issueTriageActions(decision({ priority: 'p0', labels: [] }), lower);
    expect(escalate[0].params.labels).toEqual(['bug', SEAMWORK_LABEL]);
    expect(String(escalate[1].params.body)).toContain('Suggested priority: `priority:p0` (the issue has `priority:p3`');
    const calmer = issueTriageActions(decision({ priority: 'p2', labels: [] }), { ...input, labels: ['priority:p1'] });
    expect(calmer[0].params.labels).toEqual(['bug', SEAMWORK_LABEL]);
    expect(String(calmer[1].params.body)).not.toContain('Suggested priority');
  });

  it('answers a new comment only when the triage adds a label or an escalation', () => {
    const comment = parseInput(bodyOf('issue-comment-adds-reproduction'));
    const unchanged = { ...comment, labels: ['bug', 'needs-reproduction', 'priority:p1'] };
    expect(issueTriageActions(decision(), unchanged)).toEqual([]);
    expect(issueTriageActions(decision({ priority: 'p3' }), unchanged)).toEqual([]);
    const changed = { ...comment, labels: ['needs-reproduction'] };
    const actions = issueTriageActions(decision({ labels: [] }), changed);
    expect(actions.map((a) => a.name)).toEqual([ACTION_ADD_LABELS, ACTION_CREATE_COMMENT]);
    expect(actions[0].params.labels).toEqual(['bug', 'priority:p1', SEAMWORK_LABEL]);
    const escalated = issueTriageActions(decision({ priority: 'p0' }), unchanged);
    expect(escalated.map((a) => a.name)).toEqual([ACTION_ADD_LABELS, ACTION_CREATE_COMMENT]);
    expect(escalated[0].params.labels).toEqual([SEAMWORK_LABEL]);
  });

  it('never leaks the baseline reasoning either', () => {
    for (const f of contractCleanFixtures()) {
      const i = parseInput(JSON.parse(f.body));
      const out = triageIssueByKeywords(i, def.documents(i));
      for (const a of issueTriageActions(out, i)) expect(JSON.stringify(a.params)).not.toContain(out.reasoning);
    }
  });
});

describe('github-issue-triage fixtures', () => {
  const fixtures = loadFixtures();

  it('are at least 12 well-formed Fixtures with unique names matching their files', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
    for (const f of fixtures) expect(FixtureSchema.safeParse(f).success, f.name).toBe(true);
    expect(new Set(fixtures.map((f) => f.name)).size).toBe(fixtures.length);
    const files = readdirSync(def.fixturesDir).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(fixtures.map((f) => `${f.name}.json`).sort());
  });

  it('carry the GitHub headers, each delivery its own id', () => {
    for (const f of fixtures) expect(f.headers?.['x-github-event'], f.name).toMatch(/^(issues|issue_comment|ping)$/);
    const ids = fixtures.map((f) => f.headers?.['x-github-delivery']).filter((id) => id !== undefined);
    expect(ids.length).toBe(fixtures.length - 1); // missing-delivery-id
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('cover every answer at the door and every outcome the pipeline must show', () => {
    const byStatus = (s: number) => fixtures.filter((f) => f.expect.status === s);
    expect(byStatus(400).some((f) => !isJson(f.body))).toBe(true);
    expect(byStatus(400).some((f) => isJson(f.body) && !f.headers?.['x-github-delivery'])).toBe(true);
    expect(fixtures.some((f) => f.signature === 'bad' && f.expect.status === 401)).toBe(true);
    expect(byStatus(200).every((f) => f.expect.outcome === undefined)).toBe(true);
    expect(fixtures.some((f) => (f.deliveries ?? 1) > 1 && f.expect.status === 202 && f.expect.outcome === 'acted')).toBe(true);
    expect(fixtures.some((f) => f.expect.outcome === 'dlq' && isJson(f.body))).toBe(true);
    expect(fixtures.some((f) => f.expect.outcome === 'review')).toBe(true);
    expect(fixtures.filter((f) => f.expect.outcome === 'acted' && f.signature === 'valid').length).toBeGreaterThanOrEqual(6);
  });

  it('include the PII the redaction layer must catch and the secret a reporter pasted', () => {
    const pii = fixtureNamed('pii-email-and-api-key').body;
    expect(pii).toMatch(/[\w.+-]+@[\w-]+\.[a-z]{2,}/i);
    expect(pii).toMatch(/bny_live_[0-9a-f]{32}/);
  });
});

describe('github-issue-triage golden set', () => {
  const golden = loadGolden();

  it('has at least 28 well-formed examples with unique ids and unique delivery ids', () => {
    expect(golden.length).toBeGreaterThanOrEqual(28);
    for (const g of golden) expect(GoldenSchema.safeParse(g).success, g.id).toBe(true);
    expect(new Set(golden.map((g) => g.id)).size).toBe(golden.length);
    expect(new Set(golden.map((g) => def.source.eventId(g.body, g.headers ?? {}))).size).toBe(golden.length);
  });

  it('routes every example to a processed event type matching its header', () => {
    for (const g of golden) {
      const type = def.source.eventType!(g.body, g.headers ?? {});
      expect(EVENTS, g.id).toContain(type);
      expect(type!.startsWith(`${g.headers!['x-github-event']}.`), g.id).toBe(true);
    }
    expect(golden.filter((g) => g.headers!['x-github-event'] === 'issue_comment').length).toBeGreaterThanOrEqual(6);
  });

  it('rates every abstention needs-triage / p2, and has at least four', () => {
    const abstain = golden.filter((g) => g.expected.outcome === 'insufficient_information');
    expect(abstain.length).toBeGreaterThanOrEqual(4);
    for (const g of abstain) expect(g.expected, g.id).toEqual({ outcome: 'insufficient_information', primary_label: 'needs-triage', priority: 'p2' });
  });

  it('covers every kind and every priority among triaged examples', () => {
    const triaged = golden.filter((g) => g.expected.outcome === 'triaged');
    expect(new Set(triaged.map((g) => g.expected.primary_label))).toEqual(new Set(PRIMARY_LABELS.filter((l) => l !== 'needs-triage')));
    expect(new Set(triaged.map((g) => g.expected.priority))).toEqual(new Set(PRIORITIES));
  });

  it('includes prompt-injection attempts rated on what the issue actually reports', () => {
    const injections = golden.filter((g) => g.id.includes('injection'));
    expect(injections.length).toBeGreaterThanOrEqual(3);
    for (const g of injections) expect(g.expected.priority, g.id).not.toBe('p0');
  });
});

describe('githubIssueTriage definition', () => {
  it('is registered, and points at files that exist', () => {
    expect(INTEGRATIONS['github-issue-triage']).toBe(def);
    expect(existsSync(def.eval.goldenPath)).toBe(true);
    expect(existsSync(def.eval.baselinePath)).toBe(true);
    expect(existsSync(def.fixturesDir)).toBe(true);
  });

  it('compares outcome, primary_label and priority exactly', () => {
    expect(def.eval.fields).toEqual([
      { name: 'outcome', compare: 'exact' },
      { name: 'primary_label', compare: 'exact' },
      { name: 'priority', compare: 'exact' },
    ]);
  });

  it('keys canary buckets by issue, so a comment takes the same path as its issue', () => {
    const opened = parseInput(bodyOf('clean-bug-crash-stack-trace'));
    const comment = parseInput(commentEvent());
    expect(def.stickyKey(opened)).toBe('github:inkwell-dev/inkwell#2011');
    expect(def.stickyKey(comment)).toBe('github:inkwell-dev/inkwell#2015');
  });

  it('declares the abstain outcome, tells the model it may use it, and treats issue text as data', () => {
    expect(def.output.abstainOutcome).toBe('insufficient_information');
    expect(def.prompt.instructions).toContain('insufficient_information');
    expect(def.prompt.instructions).toMatch(/character for character/);
    expect(def.prompt.instructions).toMatch(/not instructions to you/);
  });
});
