import { ConnectorRejected } from '../core/errors.js';
import { callConnector, parseConnectorJson, type ConnectorResponse } from './http.js';
import { actionMarker, hasActionMarker, lookBackStart, ReconcileInconclusive, type ReconcileResult } from './marker.js';

/** The REST API version every request pins (`X-GitHub-Api-Version`). */
export const GITHUB_API_VERSION = '2022-11-28';

/** GitHub.com's REST API; GitHub Enterprise Server uses `https://<host>/api/v3`. */
export const GITHUB_API_URL = 'https://api.github.com';

/** Identifies Seamwork to GitHub, which rejects requests without a User-Agent. */
export const GITHUB_USER_AGENT = 'seamwork-connector';

/** GitHub credentials: an installation access token or a fine-grained token with Issues: write. */
export interface GitHubCredentials {
  token: string;
}

/** The issue an action targets. */
export interface GitHubIssueTarget {
  owner: string;
  repo: string;
  issueNumber: number;
}

/** Parameters of `github.add_labels`. */
export interface GitHubAddLabelsParams extends GitHubIssueTarget {
  labels: string[];
}

/** Parameters of `github.create_comment`. */
export interface GitHubCommentParams extends GitHubIssueTarget {
  body: string;
}

/** Options of one GitHub call. */
export interface GitHubCallOptions {
  /** @default CONNECTOR_TIMEOUT_MS */
  timeoutMs?: number;
}

/** Options of the marker actions: the key the comment carries, and how far back to look for it. */
export interface GitHubMarkerOptions extends GitHubCallOptions {
  idempotencyKey: string;
  /** Earliest time the comment could have been created; bounds the look-up (`since`). */
  notBefore?: Date;
}

/** GitHub's limit on a comment body, in characters (the marker counts). */
export const GITHUB_COMMENT_MAX = 65_536;

/** Comments per page when looking for a marker (GitHub's maximum). */
export const GITHUB_COMMENTS_PER_PAGE = 100;

/** Most pages a look-up reads before it gives up as inconclusive (3,000 comments). */
export const GITHUB_RECONCILE_MAX_PAGES = 30;

// Owner and repository names as GitHub allows them; anything else would change the URL's path.
const NAME = /^[A-Za-z0-9_.-]+$/;

function isPathName(name: unknown): boolean {
  return NAME.test(String(name)) && name !== '.' && name !== '..';
}

function issueUrl(baseUrl: string, t: GitHubIssueTarget): string {
  // `.` and `..` match NAME but would walk the URL's path (`/repos/../orgs/...`).
  if (!isPathName(t.owner) || !isPathName(t.repo)) {
    throw new ConnectorRejected(`GitHub repository "${t.owner}/${t.repo}" is not a valid owner/name.`);
  }
  if (!Number.isInteger(t.issueNumber) || t.issueNumber < 1) throw new ConnectorRejected(`GitHub issue number "${t.issueNumber}" is not a positive integer.`);
  return `${baseUrl.replace(/\/$/, '')}/repos/${t.owner}/${t.repo}/issues/${t.issueNumber}`;
}

function headers(creds: GitHubCredentials, withBody = true): Record<string, string> {
  return {
    authorization: `Bearer ${creds.token}`,
    accept: 'application/vnd.github+json',
    'x-github-api-version': GITHUB_API_VERSION,
    'user-agent': GITHUB_USER_AGENT,
    ...(withBody ? { 'content-type': 'application/json' } : {}),
  };
}

/**
 * GitHub's rate limits answer 403 (or 429) with `x-ratelimit-remaining: 0` or a `retry-after`
 * header: those are worth retrying. Any other 403 (missing permission) is not.
 */
export function isGitHubRateLimited(res: ConnectorResponse): boolean {
  return (res.status === 403 || res.status === 429) && (res.headers.get('x-ratelimit-remaining') === '0' || res.headers.has('retry-after'));
}

/**
 * Adds labels to an issue: `POST /repos/{owner}/{repo}/issues/{n}/labels` with `{ labels }`.
 * Exactly once by nature: GitHub adds to the existing set, so a re-run after a commit changes nothing.
 */
export async function addGitHubLabels(
  baseUrl: string, creds: GitHubCredentials, params: GitHubAddLabelsParams, opts: GitHubCallOptions = {},
): Promise<Record<string, unknown>> {
  const url = `${issueUrl(baseUrl, params)}/labels`;
  const labels = params.labels;
  if (!Array.isArray(labels) || labels.length === 0 || labels.some((l) => typeof l !== 'string' || l.trim() === '')) {
    throw new ConnectorRejected('github.add_labels needs a non-empty list of non-blank label names.');
  }
  const init = { method: 'POST', headers: headers(creds), body: JSON.stringify({ labels }) };
  const res = await callConnector('github', url, init, { retryable: isGitHubRateLimited, timeoutMs: opts.timeoutMs });
  return { status: res.status, issueNumber: params.issueNumber, labels };
}

/**
 * Comments on an issue: `POST /repos/{owner}/{repo}/issues/{n}/comments` with `{ body }`, the body
 * ending in the action's hidden marker. GitHub has no idempotency key, so exactly once is by
 * marker: a retry first calls {@link findGitHubComment} and skips the post when it finds it.
 */
export async function createGitHubComment(
  baseUrl: string, creds: GitHubCredentials, params: GitHubCommentParams, opts: GitHubMarkerOptions,
): Promise<Record<string, unknown>> {
  const url = `${issueUrl(baseUrl, params)}/comments`;
  if (typeof params.body !== 'string' || params.body.trim() === '') throw new ConnectorRejected('github.create_comment needs a non-blank body.');
  const body = `${params.body}\n\n${actionMarker(opts.idempotencyKey)}`;
  if (body.length > GITHUB_COMMENT_MAX) {
    throw new ConnectorRejected(`A GitHub comment holds at most ${GITHUB_COMMENT_MAX} characters, marker included; this one has ${body.length}.`);
  }
  const init = { method: 'POST', headers: headers(creds), body: JSON.stringify({ body }) };
  const res = await callConnector('github', url, init, { retryable: isGitHubRateLimited, timeoutMs: opts.timeoutMs });
  let commentId: unknown;
  try {
    commentId = (JSON.parse(res.body) as { id?: unknown }).id;
  } catch (err) {
    // The comment exists (2xx); only its id is unknown. Say so rather than fail an action that happened.
    commentId = `unreadable response: ${(err as Error).message}`;
  }
  return { status: res.status, issueNumber: params.issueNumber, commentId };
}

interface GitHubComment { id?: unknown; body?: unknown; html_url?: unknown }

/**
 * Looks for the comment an earlier attempt left: `GET /repos/{owner}/{repo}/issues/{n}/comments`,
 * `per_page=100`, page by page (from `since` = notBefore less the clock skew, when given), for a
 * body carrying the key's marker. Throws {@link ReconcileInconclusive} after
 * {@link GITHUB_RECONCILE_MAX_PAGES} pages without reaching the end.
 */
export async function findGitHubComment(
  baseUrl: string, creds: GitHubCredentials, target: GitHubIssueTarget, opts: GitHubMarkerOptions,
): Promise<ReconcileResult> {
  const url = `${issueUrl(baseUrl, target)}/comments`;
  actionMarker(opts.idempotencyKey);
  const since = lookBackStart(opts.notBefore);
  for (let page = 1; page <= GITHUB_RECONCILE_MAX_PAGES; page++) {
    const query = new URLSearchParams({ per_page: String(GITHUB_COMMENTS_PER_PAGE), page: String(page) });
    if (since) query.set('since', since.toISOString());
    const res = await callConnector('github', `${url}?${query}`, { method: 'GET', headers: headers(creds, false) }, { retryable: isGitHubRateLimited, timeoutMs: opts.timeoutMs });
    const comments = parseConnectorJson<GitHubComment[]>('github', res);
    if (!Array.isArray(comments)) throw new ReconcileInconclusive('GitHub answered the comment list with something other than a list.', { status: res.status });
    const hit = comments.find((c) => hasActionMarker(c.body, opts.idempotencyKey));
    if (hit) return { found: true, response: { issueNumber: target.issueNumber, commentId: hit.id, reconciled: true } };
    const link = res.headers.get('link');
    const more = link ? /rel="next"/.test(link) : comments.length === GITHUB_COMMENTS_PER_PAGE;
    if (!more) return { found: false };
  }
  throw new ReconcileInconclusive(`GitHub issue ${target.owner}/${target.repo}#${target.issueNumber} has more than ${GITHUB_RECONCILE_MAX_PAGES} pages of comments to search for ${opts.idempotencyKey}.`);
}
