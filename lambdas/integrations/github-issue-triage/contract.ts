import { z } from 'zod';
import { observed } from '../../core/contracts/observed.js';

/**
 * Layer 1 contract for GitHub's `issues` (action `opened`) and `issue_comment` (action
 * `created`) webhooks, REST API version 2022-11-28, as GitHub documents and sends them.
 *
 * Closed where the integration reads: the issue, the comment, the repository and their labels are
 * plain `z.object`s, so a field GitHub adds there is reported as drift (and stripped). Strict only
 * on the fields it reads (numbers, titles, bodies, authors, labels, the repository's name); every
 * other declared field is `observed()`: a change of type, a null or a new value there is reported
 * as drift with a pointer, never a reason to reject. Loose where it does not look at all: user
 * objects, the sender, installation, organization, milestone, reactions and the app that performed
 * an action are `.loose()` with only their ids declared.
 * Bump the `#n` suffix on any change here so audit records say which contract an input was
 * checked against.
 */
export const CONTRACT_VERSION = 'github.issues/2022-11-28#2';

/** How GitHub relates an author to the repository; the integration passes it on to the decision's input. */
export const AUTHOR_ASSOCIATIONS = [
  'COLLABORATOR',
  'CONTRIBUTOR',
  'FIRST_TIMER',
  'FIRST_TIME_CONTRIBUTOR',
  'MANNEQUIN',
  'MEMBER',
  'NONE',
  'OWNER',
] as const;
export type AuthorAssociation = (typeof AUTHOR_ASSOCIATIONS)[number];

/**
 * Account types. Strict on purpose: bot detection reads it, so an account type GitHub invents
 * tomorrow stops the event (fails closed) instead of slipping past the loop guard.
 */
export const USER_TYPES = ['Bot', 'User', 'Organization'] as const;

const dateTime = z.iso.datetime({ offset: true });
const url = z.string().min(1);

/** A user as GitHub embeds it (~20 fields); only the ids and the type are tracked. */
const GitHubUser = z
  .object({
    login: z.string().min(1),
    id: z.number().int(),
    type: z.enum(USER_TYPES),
  })
  .loose();

/** A label on the issue: small, read by the integration (existing labels are not re-added). */
const Label = z.object({
  id: observed(z.number().int()),
  node_id: observed(z.string()),
  url,
  name: z.string().min(1),
  color: observed(z.string()),
  default: observed(z.boolean()),
  description: observed(z.string().nullable()),
});

/** Reactions counters: not tracked. */
const Reactions = z.object({ url, total_count: z.number().int() }).loose();

/** A GitHub App (e.g. the one that opened the issue): not tracked. */
const App = z.object({ id: z.number().int() }).loose();

/** The issue. Closed: the integration reads number, title, body, user, labels, state and association. */
const Issue = z.object({
  url,
  repository_url: observed(url),
  labels_url: observed(url),
  comments_url: observed(url),
  events_url: observed(url),
  html_url: observed(url),
  id: z.number().int(),
  node_id: observed(z.string()),
  number: z.number().int().positive(),
  title: z.string(),
  user: GitHubUser,
  labels: z.array(Label).default([]),
  state: z.enum(['open', 'closed']),
  locked: observed(z.boolean(), { optional: true }),
  assignee: observed(GitHubUser.nullable(), { optional: true }),
  assignees: observed(z.array(GitHubUser)),
  milestone: observed(z.object({ id: z.number().int(), number: z.number().int() }).loose().nullable()),
  comments: observed(z.number().int()),
  created_at: dateTime,
  updated_at: observed(dateTime),
  closed_at: observed(dateTime.nullable()),
  author_association: z.enum(AUTHOR_ASSOCIATIONS),
  active_lock_reason: observed(z.enum(['resolved', 'off-topic', 'too heated', 'spam']).nullable()),
  // GitHub sends null, not "", for an issue opened with an empty description.
  body: z.string().nullable(),
  reactions: observed(Reactions),
  timeline_url: observed(url, { optional: true }),
  performed_via_github_app: observed(App.nullable(), { optional: true }),
  state_reason: observed(z.enum(['completed', 'reopened', 'not_planned', 'duplicate']).nullable(), { optional: true }),
  draft: observed(z.boolean(), { optional: true }),
  /** Present only when the "issue" is a pull request; ingest ignores comments on those. */
  pull_request: z.object({ url, html_url: url }).loose().optional(),
  sub_issues_summary: observed(z.object({ total: z.number().int() }).loose(), { optional: true }),
  issue_dependencies_summary: observed(z.object({ blocked_by: z.number().int() }).loose(), { optional: true }),
  issue_field_values: observed(z.array(z.object({}).loose()), { optional: true }),
  type: observed(z.object({ id: z.number().int(), name: z.string() }).loose().nullable(), { optional: true }),
});

/** The new comment. Closed: the integration reads its body, author and association. */
const Comment = z.object({
  url,
  html_url: observed(url),
  issue_url: observed(url),
  id: z.number().int(),
  node_id: observed(z.string()),
  user: GitHubUser,
  created_at: observed(dateTime),
  updated_at: observed(dateTime),
  author_association: z.enum(AUTHOR_ASSOCIATIONS),
  body: z.string(),
  reactions: observed(Reactions),
  performed_via_github_app: observed(App.nullable()),
});

/** A repository's license: not tracked. */
const License = z.object({ key: z.string() }).loose();

/**
 * The repository, all of it (GitHub's `repository-webhooks` schema). Closed: the integration
 * reads `full_name`, `name` and `owner.login` to address its API calls, and a field that appears
 * here is a change worth knowing about; the fields it does not read are observed, not enforced.
 */
const Repository = z.object({
  id: z.number().int(),
  node_id: observed(z.string()),
  name: z.string().min(1),
  full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected owner/name'),
  private: observed(z.boolean()),
  owner: GitHubUser,
  html_url: observed(url),
  description: observed(z.string().nullable()),
  fork: observed(z.boolean()),
  url,
  forks_url: observed(url),
  keys_url: observed(url),
  collaborators_url: observed(url),
  teams_url: observed(url),
  hooks_url: observed(url),
  issue_events_url: observed(url),
  events_url: observed(url),
  assignees_url: observed(url),
  branches_url: observed(url),
  tags_url: observed(url),
  blobs_url: observed(url),
  git_tags_url: observed(url),
  git_refs_url: observed(url),
  trees_url: observed(url),
  statuses_url: observed(url),
  languages_url: observed(url),
  stargazers_url: observed(url),
  contributors_url: observed(url),
  subscribers_url: observed(url),
  subscription_url: observed(url),
  commits_url: observed(url),
  git_commits_url: observed(url),
  comments_url: observed(url),
  issue_comment_url: observed(url),
  contents_url: observed(url),
  compare_url: observed(url),
  merges_url: observed(url),
  archive_url: observed(url),
  downloads_url: observed(url),
  issues_url: observed(url),
  pulls_url: observed(url),
  milestones_url: observed(url),
  notifications_url: observed(url),
  labels_url: observed(url),
  releases_url: observed(url),
  deployments_url: observed(url),
  // Unix seconds in `push` payloads, ISO strings everywhere else.
  created_at: observed(z.union([dateTime, z.number().int()])),
  updated_at: observed(dateTime),
  pushed_at: observed(z.union([dateTime, z.number().int()]).nullable()),
  git_url: observed(url),
  ssh_url: observed(url),
  clone_url: observed(url),
  svn_url: observed(url),
  homepage: observed(z.string().nullable()),
  size: observed(z.number().int()),
  stargazers_count: observed(z.number().int()),
  watchers_count: observed(z.number().int()),
  language: observed(z.string().nullable()),
  has_issues: observed(z.boolean()),
  has_projects: observed(z.boolean()),
  has_downloads: observed(z.boolean()),
  has_wiki: observed(z.boolean()),
  has_pages: observed(z.boolean()),
  has_discussions: observed(z.boolean(), { optional: true }),
  forks_count: observed(z.number().int()),
  mirror_url: observed(z.string().nullable()),
  archived: observed(z.boolean()),
  disabled: observed(z.boolean(), { optional: true }),
  open_issues_count: observed(z.number().int()),
  license: observed(License.nullable()),
  allow_forking: observed(z.boolean(), { optional: true }),
  is_template: observed(z.boolean(), { optional: true }),
  web_commit_signoff_required: observed(z.boolean(), { optional: true }),
  topics: observed(z.array(z.string())),
  visibility: observed(z.enum(['public', 'private', 'internal'])),
  forks: observed(z.number().int()),
  open_issues: observed(z.number().int()),
  watchers: observed(z.number().int()),
  default_branch: observed(z.string()),
  stargazers: observed(z.number().int(), { optional: true }),
  master_branch: observed(z.string(), { optional: true }),
  organization: observed(z.string(), { optional: true }),
  public: observed(z.boolean(), { optional: true }),
  permissions: observed(z.object({}).loose(), { optional: true }),
  role_name: observed(z.string(), { optional: true }),
  allow_squash_merge: observed(z.boolean(), { optional: true }),
  allow_merge_commit: observed(z.boolean(), { optional: true }),
  allow_rebase_merge: observed(z.boolean(), { optional: true }),
  allow_auto_merge: observed(z.boolean(), { optional: true }),
  allow_update_branch: observed(z.boolean(), { optional: true }),
  delete_branch_on_merge: observed(z.boolean(), { optional: true }),
  custom_properties: observed(z.record(z.string(), z.unknown()), { optional: true }),
});

/** Who triggered the delivery: not tracked beyond its id and type (ingest reads the type for the loop guard). */
const Sender = GitHubUser;
/** The GitHub App installation the delivery is for: not tracked. */
const Installation = z.object({ id: z.number().int() }).loose();
/** The organization owning the repository: not tracked. */
const Organization = z.object({ login: z.string(), id: z.number().int() }).loose();
/** GitHub Enterprise: not tracked. */
const Enterprise = z.object({ id: z.number().int() }).loose();

/** Fields every delivery of both events carries besides the issue. */
const envelope = {
  repository: Repository,
  sender: Sender,
  installation: Installation.optional(),
  organization: Organization.optional(),
  enterprise: Enterprise.optional(),
};

/** `X-GitHub-Event: issues`, action `opened`. */
export const IssuesOpenedEvent = z.object({
  action: z.literal('opened'),
  issue: Issue,
  /** Set when the issue was transferred in from another repository: not tracked. */
  changes: z.object({}).loose().optional(),
  ...envelope,
});
export type IssuesOpenedEvent = z.input<typeof IssuesOpenedEvent>;

/** `X-GitHub-Event: issue_comment`, action `created`. */
export const IssueCommentCreatedEvent = z.object({
  action: z.literal('created'),
  issue: Issue,
  comment: Comment,
  ...envelope,
});
export type IssueCommentCreatedEvent = z.input<typeof IssueCommentCreatedEvent>;

/** The two event types this integration processes, as `${x-github-event}.${action}`. */
export const EVENT_ISSUE_OPENED = 'issues.opened';
export const EVENT_COMMENT_CREATED = 'issue_comment.created';

/** The new comment of an `issue_comment.created` event; its body is redacted. */
export interface CommentInput {
  id: number;
  body: string;
  author: string;
  authorAssociation: AuthorAssociation;
}

/** The trimmed input the rest of the pipeline uses; `title`, `body` and `comment.body` are redacted. */
export interface IssueInput {
  event: typeof EVENT_ISSUE_OPENED | typeof EVENT_COMMENT_CREATED;
  /** `owner/name`. */
  repo: string;
  owner: string;
  name: string;
  issueNumber: number;
  title: string;
  /** The issue's first message; `''` when GitHub sends null. */
  body: string;
  /** Label names already on the issue. */
  labels: string[];
  author: string;
  authorAssociation: AuthorAssociation;
  createdAt: string;
  /** The new comment, for `issue_comment.created`; null for `issues.opened`. */
  comment: CommentInput | null;
}

type ParsedEvent = z.output<typeof IssuesOpenedEvent> | z.output<typeof IssueCommentCreatedEvent>;

function toInput(e: ParsedEvent): IssueInput {
  const comment = 'comment' in e ? e.comment : undefined;
  return {
    event: comment ? EVENT_COMMENT_CREATED : EVENT_ISSUE_OPENED,
    repo: e.repository.full_name,
    owner: e.repository.owner.login,
    name: e.repository.name,
    issueNumber: e.issue.number,
    title: e.issue.title,
    body: e.issue.body ?? '',
    labels: e.issue.labels.map((l) => l.name),
    author: e.issue.user.login,
    authorAssociation: e.issue.author_association,
    createdAt: e.issue.created_at,
    comment: comment
      ? { id: comment.id, body: comment.body, author: comment.user.login, authorAssociation: comment.author_association }
      : null,
  };
}

/**
 * Contract schema: parses either event's raw body into an {@link IssueInput}, or fails with issue
 * paths into the event it is (`action` tells them apart in the body; the `x-github-event` header
 * has already routed the delivery at ingest).
 */
export const GitHubIssueContract = z.discriminatedUnion('action', [IssuesOpenedEvent, IssueCommentCreatedEvent]).transform(toInput);
