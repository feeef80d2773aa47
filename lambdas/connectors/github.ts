import { ConnectorRejected } from '../core/errors.js';
import { callConnector, type ConnectorResponse } from './http.js';

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

/** GitHub's limit on a comment body, in characters. */
export const GITHUB_COMMENT_MAX = 65_536;

// Owner and repository names as GitHub allows them; anything else would change the URL's path.
const NAME = /^[A-Za-z0-9_.-]+$/;

function issueUrl(baseUrl: string, t: GitHubIssueTarget): string {
  if (!NAME.test(String(t.owner)) || !NAME.test(String(t.repo)) || t.repo === '.' || t.repo === '..') {
    throw new ConnectorRejected(`GitHub repository "${t.owner}/${t.repo}" is not a valid owner/name.`);
  }
  if (!Number.isInteger(t.issueNumber) || t.issueNumber < 1) throw new ConnectorRejected(`GitHub issue number "${t.issueNumber}" is not a positive integer.`);
  return `${baseUrl.replace(/\/$/, '')}/repos/${t.owner}/${t.repo}/issues/${t.issueNumber}`;
}

function headers(creds: GitHubCredentials): Record<string, string> {
  return {
    authorization: `Bearer ${creds.token}`,
    accept: 'application/vnd.github+json',
    'x-github-api-version': GITHUB_API_VERSION,
    'user-agent': GITHUB_USER_AGENT,
    'content-type': 'application/json',
  };
}

/**
 * GitHub's rate limits answer 403 (or 429) with `x-ratelimit-remaining: 0` or a `retry-after`
 * header: those are worth retrying. Any other 403 (missing permission) is not.
 */
export function isGitHubRateLimited(res: ConnectorResponse): boolean {
  return (res.status === 403 || res.status === 429) && (res.headers.get('x-ratelimit-remaining') === '0' || res.headers.has('retry-after'));
}

/** Adds labels to an issue: `POST /repos/{owner}/{repo}/issues/{n}/labels` with `{ labels }` (existing ones are kept). */
export async function addGitHubLabels(baseUrl: string, creds: GitHubCredentials, params: GitHubAddLabelsParams): Promise<Record<string, unknown>> {
  const url = `${issueUrl(baseUrl, params)}/labels`;
  const labels = params.labels;
  if (!Array.isArray(labels) || labels.length === 0 || labels.some((l) => typeof l !== 'string' || l.trim() === '')) {
    throw new ConnectorRejected('github.add_labels needs a non-empty list of non-blank label names.');
  }
  const res = await callConnector('github', url, { method: 'POST', headers: headers(creds), body: JSON.stringify({ labels }) }, { retryable: isGitHubRateLimited });
  return { status: res.status, issueNumber: params.issueNumber, labels };
}

/** Comments on an issue: `POST /repos/{owner}/{repo}/issues/{n}/comments` with `{ body }`. */
export async function createGitHubComment(baseUrl: string, creds: GitHubCredentials, params: GitHubCommentParams): Promise<Record<string, unknown>> {
  const url = `${issueUrl(baseUrl, params)}/comments`;
  if (typeof params.body !== 'string' || params.body.trim() === '') throw new ConnectorRejected('github.create_comment needs a non-blank body.');
  if (params.body.length > GITHUB_COMMENT_MAX) throw new ConnectorRejected(`A GitHub comment holds at most ${GITHUB_COMMENT_MAX} characters; this one has ${params.body.length}.`);
  const res = await callConnector('github', url, { method: 'POST', headers: headers(creds), body: JSON.stringify({ body: params.body }) }, { retryable: isGitHubRateLimited });
  let commentId: unknown;
  try {
    commentId = (JSON.parse(res.body) as { id?: unknown }).id;
  } catch (err) {
    // The comment exists (2xx); only its id is unknown. Say so rather than fail an action that happened.
    commentId = `unreadable response: ${(err as Error).message}`;
  }
  return { status: res.status, issueNumber: params.issueNumber, commentId };
}
