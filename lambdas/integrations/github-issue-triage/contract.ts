import { z } from 'zod';
import { observed } from '../../core/contracts/observed.js';

/**
 * Layer 1 contract for GitHub's `issues` (action `opened`) and `issue_comment` (action
 * `created`) webhooks, REST API version 2022-11-28, as GitHub documents and sends them.
 *
 * Closed where the integration reads: the issue, the comment, the repository and their labels are
 * plain `z.object`s, so a field GitHub adds there is reported as drift (and stripped). Loose where
 * it does not: user objects, the sender, installation, organization, milestone, reactions and the
 * app that performed an action are `.loose()` with only their ids declared. Enum-like fields the
 * integration never reads are `observed()`: a new value is reported, never a reason to reject.
 * Bump the `#n` suffix on any change here so audit records say which contract an input was
 * checked against.
 */
export const CONTRACT_VERSION = 'github.issues/2022-11-28#1';

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
  id: z.number().int(),
  node_id: z.string(),
  url,
  name: z.string().min(1),
  color: z.string(),
  default: z.boolean(),
  description: z.string().nullable(),
});

/** Reactions counters: not tracked. */
const Reactions = z.object({ url, total_count: z.number().int() }).loose();

/** A GitHub App (e.g. the one that opened the issue): not tracked. */
const App = z.object({ id: z.number().int() }).loose();

/** The issue. Closed: the integration reads number, title, body, user, labels, state and association. */
const Issue = z.object({
  url,
  repository_url: url,
  labels_url: url,
  comments_url: url,
  events_url: url,
  html_url: url,
  id: z.number().int(),
  node_id: z.string(),
  number: z.number().int().positive(),
  title: z.string(),
  user: GitHubUser,
  labels: z.array(Label).default([]),
  state: z.enum(['open', 'closed']),
  locked: z.boolean().optional(),
  assignee: GitHubUser.nullable().optional(),
  assignees: z.array(GitHubUser),
  milestone: z.object({ id: z.number().int(), number: z.number().int() }).loose().nullable(),
  comments: z.number().int(),
  created_at: dateTime,
  updated_at: dateTime,
  closed_at: dateTime.nullable(),
  author_association: z.enum(AUTHOR_ASSOCIATIONS),
  active_lock_reason: observed(z.enum(['resolved', 'off-topic', 'too heated', 'spam']).nullable()),
  // GitHub sends null, not "", for an issue opened with an empty description.
  body: z.string().nullable(),
  reactions: Reactions,
  timeline_url: url.optional(),
  performed_via_github_app: App.nullable().optional(),
  state_reason: observed(z.enum(['completed', 'reopened', 'not_planned', 'duplicate']).nullable(), { optional: true }),
  draft: z.boolean().optional(),
  /** Present only when the "issue" is a pull request; ingest ignores comments on those. */
  pull_request: z.object({ url, html_url: url }).loose().optional(),
  sub_issues_summary: z.object({ total: z.number().int() }).loose().optional(),
  issue_dependencies_summary: z.object({ blocked_by: z.number().int() }).loose().optional(),
  issue_field_values: z.array(z.object({}).loose()).optional(),
  type: z.object({ id: z.number().int(), name: z.string() }).loose().nullable().optional(),
});

/** The new comment. Closed: the integration reads its body, author and association. */
const Comment = z.object({
  url,
  html_url: url,
  issue_url: url,
  id: z.number().int(),
  node_id: z.string(),
  user: GitHubUser,
  created_at: dateTime,
  updated_at: dateTime,
  author_association: z.enum(AUTHOR_ASSOCIATIONS),
  body: z.string(),
  reactions: Reactions,
  performed_via_github_app: App.nullable(),
});

/** A repository's license: not tracked. */
const License = z.object({ key: z.string() }).loose();

/**
 * The repository, all of it (GitHub's `repository-webhooks` schema). Closed: the integration
 * reads `full_name`, `name` and `owner.login` to address its API calls, and a field that appears
 * here is a change worth knowing about; the fields it does not read are declared by type only.
 */
const Repository = z.object({
  id: z.number().int(),
  node_id: z.string(),
  name: z.string().min(1),
  full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected owner/name'),
  private: z.boolean(),
  owner: GitHubUser,
  html_url: url,
  description: z.string().nullable(),
  fork: z.boolean(),
  url,
  forks_url: url,
  keys_url: url,
  collaborators_url: url,
  teams_url: url,
  hooks_url: url,
  issue_events_url: url,
  events_url: url,
  assignees_url: url,
  branches_url: url,
  tags_url: url,
  blobs_url: url,
  git_tags_url: url,
  git_refs_url: url,
  trees_url: url,
  statuses_url: url,
  languages_url: url,
  stargazers_url: url,
  contributors_url: url,
  subscribers_url: url,
  subscription_url: url,
  commits_url: url,
  git_commits_url: url,
  comments_url: url,
  issue_comment_url: url,
  contents_url: url,
  compare_url: url,
  merges_url: url,
  archive_url: url,
  downloads_url: url,
  issues_url: url,
  pulls_url: url,
  milestones_url: url,
  notifications_url: url,
  labels_url: url,
  releases_url: url,
  deployments_url: url,
  // Unix seconds in `push` payloads, ISO strings everywhere else.
  created_at: z.union([dateTime, z.number().int()]),
  updated_at: dateTime,
  pushed_at: z.union([dateTime, z.number().int()]).nullable(),
  git_url: url,
  ssh_url: url,
  clone_url: url,
  svn_url: url,
  homepage: z.string().nullable(),
  size: z.number().int(),
  stargazers_count: z.number().int(),
  watchers_count: z.number().int(),
  language: z.string().nullable(),
  has_issues: z.boolean(),
  has_projects: z.boolean(),
  has_downloads: z.boolean(),
  has_wiki: z.boolean(),
  has_pages: z.boolean(),
  has_discussions: z.boolean().optional(),
  forks_count: z.number().int(),
  mirror_url: z.string().nullable(),
  archived: z.boolean(),
  disabled: z.boolean().optional(),
  open_issues_count: z.number().int(),
  license: License.nullable(),
  allow_forking: z.boolean().optional(),
  is_template: z.boolean().optional(),
  web_commit_signoff_required: z.boolean().optional(),
  topics: z.array(z.string()),
  visibility: observed(z.enum(['public', 'private', 'internal'])),
  forks: z.number().int(),
  open_issues: z.number().int(),
  watchers: z.number().int(),
  default_branch: z.string(),
  stargazers: z.number().int().optional(),
  master_branch: z.string().optional(),
  organization: z.string().optional(),
  public: z.boolean().optional(),
  permissions: z.object({}).loose().optional(),
  role_name: z.string().optional(),
  allow_squash_merge: z.boolean().optional(),
  allow_merge_commit: z.boolean().optional(),
  allow_rebase_merge: z.boolean().optional(),
  allow_auto_merge: z.boolean().optional(),
  allow_update_branch: z.boolean().optional(),
  delete_branch_on_merge: z.boolean().optional(),
  custom_properties: z.record(z.string(), z.unknown()).optional(),
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
