import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, ConnectorRejected, ConnectorUnavailable } from '../../lambdas/core/errors.js';
import type { ActionRequest } from '../../lambdas/core/integration.js';
import { GITHUB_API_VERSION, addGitHubLabels, createGitHubComment } from '../../lambdas/connectors/github.js';
import { executeAction, type ConnectorSettings } from '../../lambdas/connectors/index.js';
import { SHOPIFY_API_VERSION, addShopifyOrderTags } from '../../lambdas/connectors/shopify.js';
import { startConnectorTargets, type ConnectorTargets } from '../../lib/local/connector-targets.js';

/** The GitHub and Shopify connectors against the local stand-ins, over real HTTP. */
describe('connectors against the local stand-ins', () => {
  let targets: ConnectorTargets;
  let settings: ConnectorSettings;
  const issue = { owner: 'inkwell-dev', repo: 'inkwell', issueNumber: 2011 };

  beforeAll(async () => {
    targets = await startConnectorTargets();
    settings = {
      githubApiUrl: targets.githubUrl, github: { token: 'ghs_local' },
      shopifyShopUrl: targets.shopifyUrl, shopify: { accessToken: 'shpat_local' },
    };
  });
  afterEach(() => targets.reset());
  afterAll(async () => { await targets?.stop(); });

  describe('github', () => {
    it('adds labels with the REST headers GitHub requires', async () => {
      const out = await executeAction({ name: 'github.add_labels', connector: 'github', params: { ...issue, labels: ['bug', 'priority:p1'] } }, settings);

      expect(out).toEqual({ status: 200, issueNumber: 2011, labels: ['bug', 'priority:p1'] });
      expect(targets.issue('inkwell-dev', 'inkwell', 2011)?.labels).toEqual(['bug', 'priority:p1']);
      const [req] = targets.requests();
      expect(req).toMatchObject({ target: 'github', method: 'POST', path: '/repos/inkwell-dev/inkwell/issues/2011/labels', body: { labels: ['bug', 'priority:p1'] } });
      expect(req.headers).toMatchObject({ accept: 'application/vnd.github+json', 'x-github-api-version': GITHUB_API_VERSION, 'content-type': 'application/json' });
      expect(req.headers['user-agent']).toMatch(/seamwork/);
    });

    it('creates a comment and returns its id', async () => {
      const out = await executeAction({ name: 'github.create_comment', connector: 'github', params: { ...issue, body: 'Thanks for the report.' } }, settings);

      const comments = targets.issue('inkwell-dev', 'inkwell', 2011)!.comments;
      expect(comments).toHaveLength(1);
      expect(out).toEqual({ status: 201, issueNumber: 2011, commentId: comments[0].id });
      expect(targets.requests()[0].body).toEqual({ body: 'Thanks for the report.' });
    });

    it('treats 5xx and 429 as retryable and stops after the stand-in recovers', async () => {
      targets.failNext('github', 1, 502);
      targets.failNext('github', 1, 429);
      const call = () => addGitHubLabels(targets.githubUrl, { token: 't' }, { ...issue, labels: ['bug'] });

      await expect(call()).rejects.toBeInstanceOf(ConnectorUnavailable);
      await expect(call()).rejects.toBeInstanceOf(ConnectorUnavailable);
      await expect(call()).resolves.toMatchObject({ status: 200 });
    });

    it('retries GitHub\'s rate limit (403 with x-ratelimit-remaining: 0) but rejects any other 403 and a 401 for good', async () => {
      targets.failNext('github', 1, 'throttled');
      targets.failNext('github', 1, 403);
      targets.failNext('github', 1, 401);
      const call = () => createGitHubComment(targets.githubUrl, { token: 't' }, { ...issue, body: 'x' });

      await expect(call()).rejects.toMatchObject({ retryable: true, detail: { status: 403 } });
      await expect(call()).rejects.toMatchObject({ retryable: false, detail: { status: 403 } });
      await expect(call()).rejects.toMatchObject({ retryable: false, detail: { status: 401 } });
      expect(targets.issue('inkwell-dev', 'inkwell', 2011)).toBeUndefined();
    });

    it('refuses a malformed repository, issue number, empty labels or blank body before calling GitHub', async () => {
      const attempts = [
        addGitHubLabels(targets.githubUrl, { token: 't' }, { ...issue, repo: '../orgs', labels: ['bug'] }),
        addGitHubLabels(targets.githubUrl, { token: 't' }, { ...issue, issueNumber: 0, labels: ['bug'] }),
        addGitHubLabels(targets.githubUrl, { token: 't' }, { ...issue, labels: [] }),
        createGitHubComment(targets.githubUrl, { token: 't' }, { ...issue, body: ' ' }),
        createGitHubComment(targets.githubUrl, { token: 't' }, { ...issue, body: 'x'.repeat(65_537) }),
      ];
      for (const a of attempts) await expect(a).rejects.toBeInstanceOf(ConnectorRejected);
      expect(targets.requests()).toEqual([]);
    });

    it('reports an action it does not know and an unconfigured connector', async () => {
      await expect(executeAction({ name: 'github.close_issue', connector: 'github', params: issue }, settings)).rejects.toBeInstanceOf(ConnectorRejected);
      await expect(executeAction({ name: 'github.add_labels', connector: 'github', params: { ...issue, labels: ['x'] } }, {})).rejects.toBeInstanceOf(ConfigurationError);
    });
  });

  describe('shopify', () => {
    const action = (params: Record<string, unknown>): ActionRequest => ({ name: 'shopify.add_order_tags', connector: 'shopify', params });

    it('adds tags with the tagsAdd mutation, the pinned API version and the access token header', async () => {
      const out = await executeAction(action({ orderGid: 'gid://shopify/Order/5512', tags: ['risk:high', 'seamwork'] }), settings);

      expect(out).toEqual({ status: 200, orderGid: 'gid://shopify/Order/5512', tags: ['risk:high', 'seamwork'] });
      expect(targets.orderTags('gid://shopify/Order/5512')).toEqual(['risk:high', 'seamwork']);
      const [req] = targets.requests();
      expect(req.path).toBe(`/admin/api/${SHOPIFY_API_VERSION}/graphql.json`);
      expect(req.body).toMatchObject({ query: expect.stringContaining('tagsAdd(id: $id, tags: $tags)'), variables: { id: 'gid://shopify/Order/5512', tags: ['risk:high', 'seamwork'] } });
    });

    it('turns userErrors into a rejection naming the field', async () => {
      const attempt = addShopifyOrderTags(targets.shopifyUrl, { accessToken: 't' }, { orderGid: 'gid://shopify/Order/abc', tags: ['x'] });
      await expect(attempt).rejects.toBeInstanceOf(ConnectorRejected);
      await expect(attempt).rejects.toThrow(/id: Invalid global id/);
    });

    it('retries THROTTLED, 429 and 5xx, and succeeds once the shop recovers', async () => {
      targets.failNext('shopify', 1, 'throttled');
      targets.failNext('shopify', 1, 429);
      targets.failNext('shopify', 1, 503);
      const call = () => addShopifyOrderTags(targets.shopifyUrl, { accessToken: 't' }, { orderGid: 'gid://shopify/Order/7', tags: ['x'] });

      for (let i = 0; i < 3; i++) await expect(call()).rejects.toBeInstanceOf(ConnectorUnavailable);
      await expect(call()).resolves.toMatchObject({ orderGid: 'gid://shopify/Order/7' });
    });

    it('rejects a bad token (401) for good, and refuses a non-order id or no tags before calling', async () => {
      await expect(addShopifyOrderTags(targets.shopifyUrl, { accessToken: '' }, { orderGid: 'gid://shopify/Order/1', tags: ['x'] })).rejects.toMatchObject({ retryable: false, detail: { status: 401 } });
      const before = targets.requests().length;
      await expect(addShopifyOrderTags(targets.shopifyUrl, { accessToken: 't' }, { orderGid: 'gid://shopify/Customer/1', tags: ['x'] })).rejects.toBeInstanceOf(ConnectorRejected);
      await expect(addShopifyOrderTags(targets.shopifyUrl, { accessToken: 't' }, { orderGid: 'gid://shopify/Order/1', tags: [] })).rejects.toBeInstanceOf(ConnectorRejected);
      expect(targets.requests().length).toBe(before);
    });
  });
});
