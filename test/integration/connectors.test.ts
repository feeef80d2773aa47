import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, ConnectorRejected, ConnectorUnavailable } from '../../lambdas/core/errors.js';
import type { ActionRequest } from '../../lambdas/core/integration.js';
import { GITHUB_API_VERSION, addGitHubLabels, createGitHubComment, findGitHubComment } from '../../lambdas/connectors/github.js';
import {
  CONNECTOR_ACTIONS, actionMarker, executeAction, exactlyOnceMeans, reconcileAction,
  type ActionContext, type ConnectorSettings, type ExactlyOnceMeans,
} from '../../lambdas/connectors/index.js';
import { SHOPIFY_API_VERSION, addShopifyOrderTags } from '../../lambdas/connectors/shopify.js';
import { SLACK_METADATA_EVENT_TYPE, postSlackMessage } from '../../lambdas/connectors/slack.js';
import { startConnectorTargets, type ConnectorTarget, type ConnectorTargets } from '../../lib/local/connector-targets.js';

const ctxFor = (action: ActionRequest, decisionId = 'dec_t1'): ActionContext => ({
  decisionId, idempotencyKey: `seamwork:v1:${decisionId}:${action.name}`, notBefore: new Date(),
});

/** What the act stage does on a retry: look for the earlier attempt's effect, execute only when there is none. */
async function retry(action: ActionRequest, settings: ConnectorSettings, ctx: ActionContext): Promise<Record<string, unknown>> {
  const earlier = await reconcileAction(action, settings, ctx);
  return earlier.found ? earlier.response : executeAction(action, settings, ctx);
}

/** The GitHub, Shopify, Zendesk and Slack connectors against the local stand-ins, over real HTTP. */
describe('connectors against the local stand-ins', () => {
  let targets: ConnectorTargets;
  let settings: ConnectorSettings;
  const issue = { owner: 'inkwell-dev', repo: 'inkwell', issueNumber: 2011 };
  const key = 'seamwork:v1:dec_t1:github.create_comment';

  beforeAll(async () => {
    targets = await startConnectorTargets();
    settings = standInSettings(targets);
  });
  afterEach(() => targets.reset());
  afterAll(async () => { await targets?.stop(); });

  describe('github', () => {
    it('adds labels with the REST headers GitHub requires', async () => {
      const action: ActionRequest = { name: 'github.add_labels', connector: 'github', params: { ...issue, labels: ['bug', 'priority:p1'] } };
      const out = await executeAction(action, settings, ctxFor(action));

      expect(out).toEqual({ status: 200, issueNumber: 2011, labels: ['bug', 'priority:p1'] });
      expect(targets.issue('inkwell-dev', 'inkwell', 2011)?.labels).toEqual(['bug', 'priority:p1']);
      const [req] = targets.requests();
      expect(req).toMatchObject({ target: 'github', method: 'POST', path: '/repos/inkwell-dev/inkwell/issues/2011/labels', body: { labels: ['bug', 'priority:p1'] } });
      expect(req.headers).toMatchObject({ accept: 'application/vnd.github+json', 'x-github-api-version': GITHUB_API_VERSION, 'content-type': 'application/json' });
      expect(req.headers['user-agent']).toMatch(/seamwork/);
    });

    it('creates a comment ending in the hidden marker of its key, and returns its id', async () => {
      const action: ActionRequest = { name: 'github.create_comment', connector: 'github', params: { ...issue, body: 'Thanks for the report.' } };
      const out = await executeAction(action, settings, ctxFor(action));

      const comments = targets.issue('inkwell-dev', 'inkwell', 2011)!.comments;
      expect(comments).toHaveLength(1);
      expect(out).toEqual({ status: 201, issueNumber: 2011, commentId: comments[0].id });
      expect(targets.requests()[0].body).toEqual({ body: `Thanks for the report.\n\n<!-- seamwork:${key} -->` });
    });

    it('finds the comment of its own key only, paging through more than 100 comments', async () => {
      for (let i = 0; i < 120; i++) await createGitHubComment(targets.githubUrl, { token: 't' }, { ...issue, body: `c${i}` }, { idempotencyKey: `${key}_${i}` });
      await createGitHubComment(targets.githubUrl, { token: 't' }, { ...issue, body: 'mine' }, { idempotencyKey: key });

      const found = await findGitHubComment(targets.githubUrl, { token: 't' }, issue, { idempotencyKey: key });
      const absent = await findGitHubComment(targets.githubUrl, { token: 't' }, issue, { idempotencyKey: `${key}_x` });

      expect(found).toEqual({ found: true, response: { issueNumber: 2011, commentId: targets.issue('inkwell-dev', 'inkwell', 2011)!.comments[120].id, reconciled: true } });
      expect(absent).toEqual({ found: false });
      const reads = targets.requests().filter((r) => r.method === 'GET').map((r) => new URL(r.path, 'http://x').searchParams.get('page'));
      expect(reads).toEqual(['1', '2', '1', '2']);
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
      const call = () => createGitHubComment(targets.githubUrl, { token: 't' }, { ...issue, body: 'x' }, { idempotencyKey: key });

      await expect(call()).rejects.toMatchObject({ retryable: true, detail: { status: 403 } });
      await expect(call()).rejects.toMatchObject({ retryable: false, detail: { status: 403 } });
      await expect(call()).rejects.toMatchObject({ retryable: false, detail: { status: 401 } });
      expect(targets.issue('inkwell-dev', 'inkwell', 2011)).toBeUndefined();
    });

    it('refuses a malformed owner or repository (including . and ..), issue number, empty labels, blank or long body before calling GitHub', async () => {
      const attempts = [
        addGitHubLabels(targets.githubUrl, { token: 't' }, { ...issue, repo: '../orgs', labels: ['bug'] }),
        addGitHubLabels(targets.githubUrl, { token: 't' }, { ...issue, owner: '..', labels: ['bug'] }),
        addGitHubLabels(targets.githubUrl, { token: 't' }, { ...issue, owner: '.', labels: ['bug'] }),
        createGitHubComment(targets.githubUrl, { token: 't' }, { ...issue, owner: '..', body: 'x' }, { idempotencyKey: key }),
        findGitHubComment(targets.githubUrl, { token: 't' }, { ...issue, owner: '..' }, { idempotencyKey: key }),
        addGitHubLabels(targets.githubUrl, { token: 't' }, { ...issue, repo: '.', labels: ['bug'] }),
        addGitHubLabels(targets.githubUrl, { token: 't' }, { ...issue, issueNumber: 0, labels: ['bug'] }),
        addGitHubLabels(targets.githubUrl, { token: 't' }, { ...issue, labels: [] }),
        createGitHubComment(targets.githubUrl, { token: 't' }, { ...issue, body: ' ' }, { idempotencyKey: key }),
        createGitHubComment(targets.githubUrl, { token: 't' }, { ...issue, body: 'x'.repeat(65_500) }, { idempotencyKey: key }),
        createGitHubComment(targets.githubUrl, { token: 't' }, { ...issue, body: 'x' }, { idempotencyKey: 'a --> b' }),
      ];
      for (const a of attempts) await expect(a).rejects.toBeInstanceOf(ConnectorRejected);
      expect(targets.requests()).toEqual([]);
    });

    it('reports an action it does not know, a connector it does not have, and an unconfigured connector', async () => {
      const close: ActionRequest = { name: 'github.close_issue', connector: 'github', params: issue };
      const hook: ActionRequest = { name: 'webhook.post', connector: 'webhook', params: {} };
      const labels: ActionRequest = { name: 'github.add_labels', connector: 'github', params: { ...issue, labels: ['x'] } };
      await expect(executeAction(close, settings, ctxFor(close))).rejects.toThrow(/github connector has no action "github.close_issue"/);
      await expect(executeAction(hook, settings, ctxFor(hook))).rejects.toThrow(/No connector "webhook"/);
      expect(() => exactlyOnceMeans(close)).toThrow(ConnectorRejected);
      await expect(executeAction(labels, {}, ctxFor(labels))).rejects.toBeInstanceOf(ConfigurationError);
    });
  });

  describe('shopify', () => {
    const action = (params: Record<string, unknown>): ActionRequest => ({ name: 'shopify.add_order_tags', connector: 'shopify', params });

    it('adds tags with the tagsAdd mutation, the pinned API version and the access token header', async () => {
      const a = action({ orderGid: 'gid://shopify/Order/5512', tags: ['risk:high', 'seamwork'] });
      const out = await executeAction(a, settings, ctxFor(a));

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

  describe('zendesk', () => {
    it('sends tags, priority and the note, marked with its key, in one PUT', async () => {
      const action: ActionRequest = { name: 'zendesk.update_ticket', connector: 'zendesk', params: { ticketId: '42', tags: ['ai-triaged'], priority: 'high', internalNote: 'Summary' } };
      const ctx = ctxFor(action);
      const out = await executeAction(action, settings, ctx);

      expect(out).toEqual({ status: 200, ticketId: '42' });
      expect(targets.requests()).toMatchObject([{
        method: 'PUT', path: '/api/v2/tickets/42.json',
        body: { ticket: { additional_tags: ['ai-triaged'], priority: 'high', comment: { body: `Summary\n\n${actionMarker(ctx.idempotencyKey)}`, public: false } } },
      }]);
      expect(targets.requests()[0].headers.authorization).toBeUndefined();
    });
  });

  describe('slack', () => {
    const post = (params: Record<string, unknown>): ActionRequest => ({ name: 'slack.post_urgent', connector: 'slack', params });

    it('posts through chat.postMessage with the bot token and the key in the message metadata', async () => {
      const action = post({ channel: '#support-urgent', text: 'Urgent ticket #1' });
      const ctx = ctxFor(action);
      const out = await executeAction(action, settings, ctx);

      const [message] = targets.slackMessages('#support-urgent');
      expect(out).toEqual({ status: 200, channel: message.channel, ts: message.ts });
      expect(message).toMatchObject({ text: 'Urgent ticket #1', metadata: { event_type: SLACK_METADATA_EVENT_TYPE, event_payload: { key: ctx.idempotencyKey } } });
      const [req] = targets.requests();
      expect(req).toMatchObject({ method: 'POST', path: '/api/chat.postMessage', body: { channel: '#support-urgent', text: 'Urgent ticket #1' } });
      expect(req.headers['content-type']).toMatch(/^application\/json/);
    });

    it('posts to the default channel when the action names none', async () => {
      const action: ActionRequest = { name: 'slack.post_order_risk', connector: 'slack', params: { text: 'Order #1001 looks risky' } };
      await executeAction(action, settings, ctxFor(action));
      expect(targets.slackMessages('#seamwork-alerts').map((m) => m.text)).toEqual(['Order #1001 looks risky']);
    });

    it('retries ratelimited (HTTP 200, ok false), Slack\'s transient errors and HTTP 429, and rejects every other error code for good', async () => {
      const creds = settings.slack!;
      const call = () => postSlackMessage(targets.slackUrl, creds, { text: 'x' }, { idempotencyKey: 'k1' });
      targets.failNext('slack', 1, { slackError: 'ratelimited' });
      targets.failNext('slack', 1, { slackError: 'internal_error' });
      targets.failNext('slack', 1, 429);
      targets.failNext('slack', 1, { slackError: 'channel_not_found' });
      targets.failNext('slack', 1, { slackError: 'invalid_auth' });

      await expect(call()).rejects.toMatchObject({ retryable: true, detail: { slackError: 'ratelimited' } });
      await expect(call()).rejects.toMatchObject({ retryable: true, detail: { slackError: 'internal_error' } });
      await expect(call()).rejects.toMatchObject({ retryable: true, detail: { status: 429 } });
      await expect(call()).rejects.toMatchObject({ retryable: false, code: 'CONNECTOR_REJECTED', detail: { slackError: 'channel_not_found' } });
      await expect(call()).rejects.toMatchObject({ retryable: false, detail: { slackError: 'invalid_auth' } });
      await expect(postSlackMessage(targets.slackUrl, { ...creds, botToken: '' }, { text: 'x' }, { idempotencyKey: 'k1' })).rejects.toMatchObject({ retryable: false, detail: { slackError: 'not_authed' } });
      expect(targets.effects('slack')).toEqual([]);
    });

    it('refuses a blank text before calling Slack', async () => {
      await expect(postSlackMessage(targets.slackUrl, settings.slack!, { text: ' ' }, { idempotencyKey: 'k1' })).rejects.toBeInstanceOf(ConnectorRejected);
      expect(targets.requests()).toEqual([]);
    });

    it('finds nothing in a channel that does not exist yet, without reading its history', async () => {
      const action = post({ channel: '#never-used', text: 'x' });
      await expect(reconcileAction(action, settings, ctxFor(action))).resolves.toEqual({ found: false });
      expect(targets.requests().map((r) => r.path.split('?')[0])).toEqual(['/api/conversations.list']);
    });
  });
});

interface ExactlyOnceCase {
  action: ActionRequest;
  target: ConnectorTarget;
  means: ExactlyOnceMeans;
  /** The vendor's state the action is about: one comment/message/note per key, or the set it leaves. */
  atVendor: (targets: ConnectorTargets, ctx: ActionContext) => unknown;
  /** That state after the action ran once. */
  once: unknown;
}

const marked = (targets: ConnectorTargets, target: ConnectorTarget, ctx: ActionContext) =>
  targets.effects(target).filter((e) => e.text?.includes(actionMarker(ctx.idempotencyKey)) || (e.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key === ctx.idempotencyKey).length;

const CASES: ExactlyOnceCase[] = [
  {
    action: { name: 'github.create_comment', connector: 'github', params: { owner: 'o', repo: 'r', issueNumber: 7, body: 'Triage: bug' } },
    target: 'github', means: 'marker', atVendor: (t, ctx) => marked(t, 'github', ctx), once: 1,
  },
  {
    action: { name: 'github.add_labels', connector: 'github', params: { owner: 'o', repo: 'r', issueNumber: 7, labels: ['bug', 'p1'] } },
    target: 'github', means: 'natural', atVendor: (t) => t.issue('o', 'r', 7)?.labels, once: ['bug', 'p1'],
  },
  {
    action: { name: 'zendesk.update_ticket', connector: 'zendesk', params: { ticketId: '77', tags: ['ai-triaged'], priority: 'high', internalNote: 'Seamwork triage' } },
    target: 'zendesk', means: 'marker',
    atVendor: (t, ctx) => ({ notes: marked(t, 'zendesk', ctx), tags: t.ticket(77)?.tags, priority: t.ticket(77)?.priority }),
    once: { notes: 1, tags: ['ai-triaged'], priority: 'high' },
  },
  {
    action: { name: 'zendesk.update_ticket', connector: 'zendesk', params: { ticketId: '78', tags: ['ai-triaged'], priority: 'low' } },
    target: 'zendesk', means: 'natural', atVendor: (t) => ({ tags: t.ticket(78)?.tags, priority: t.ticket(78)?.priority, comments: t.ticket(78)?.comments.length }),
    once: { tags: ['ai-triaged'], priority: 'low', comments: 0 },
  },
  {
    action: { name: 'slack.post_urgent', connector: 'slack', params: { channel: '#support-urgent', text: 'Urgent ticket #77' } },
    target: 'slack', means: 'marker', atVendor: (t, ctx) => marked(t, 'slack', ctx), once: 1,
  },
  {
    action: { name: 'slack.post_order_risk', connector: 'slack', params: { text: 'Order #1001 looks risky' } },
    target: 'slack', means: 'marker', atVendor: (t, ctx) => marked(t, 'slack', ctx), once: 1,
  },
  {
    action: { name: 'shopify.add_order_tags', connector: 'shopify', params: { orderGid: 'gid://shopify/Order/9', tags: ['risk:high'] } },
    target: 'shopify', means: 'natural', atVendor: (t) => t.orderTags('gid://shopify/Order/9'), once: ['risk:high'],
  },
];

describe('exactly once at the vendor', () => {
  let targets: ConnectorTargets;
  let settings: ConnectorSettings;

  beforeAll(async () => {
    targets = await startConnectorTargets();
    settings = standInSettings(targets, { connectorTimeoutMs: 250 });
  });
  afterEach(() => targets.reset());
  afterAll(async () => { await targets?.stop(); });

  it('covers every operation of the registry', () => {
    const covered = new Set(CASES.map((c) => (c.action.connector === 'slack' ? 'slack.post_message' : c.action.name)));
    expect([...covered].sort()).toEqual(Object.keys(CONNECTOR_ACTIONS).sort());
  });

  describe.each(CASES.map((c) => [`${c.action.name} (${c.means}${c.action.name === 'zendesk.update_ticket' ? `, ${c.means === 'marker' ? 'with' : 'without'} a note` : ''})`, c] as const))('%s', (_, c) => {
    it(`is exactly once by ${c.means}`, () => {
      expect(exactlyOnceMeans(c.action)).toBe(c.means);
    });

    it.each(['error', 'reset'] as const)('leaves one effect when the vendor commits and then fails (%s) and the retry reconciles first', async (mode) => {
      const ctx = ctxFor(c.action);
      targets.failAfterCommit(c.target, 1, mode);

      await expect(executeAction(c.action, settings, ctx)).rejects.toBeInstanceOf(ConnectorUnavailable);
      const earlier = await reconcileAction(c.action, settings, ctx);
      await retry(c.action, settings, ctx);

      expect(earlier.found).toBe(c.means === 'marker');
      expect(c.atVendor(targets, ctx)).toEqual(c.once);
    });

    it('times out on a vendor that commits and never answers (retryable), and reconciling finds the effect', async () => {
      const ctx = ctxFor(c.action);
      targets.failAfterCommit(c.target, 1, 'hang');

      const attempt = executeAction(c.action, settings, ctx);

      await expect(attempt).rejects.toMatchObject({ code: 'CONNECTOR_UNAVAILABLE', detail: { answered: false } });
      const earlier = await reconcileAction(c.action, settings, ctx);
      if (c.means === 'marker') expect(earlier).toMatchObject({ found: true, response: { reconciled: true } });
      else expect(earlier).toEqual({ found: false });
      await retry(c.action, settings, ctx);
      expect(c.atVendor(targets, ctx)).toEqual(c.once);
    });

    it('finds nothing after a failure before the commit, and the retry commits once', async () => {
      const ctx = ctxFor(c.action);
      targets.failNext(c.target, 1, 503);

      await expect(executeAction(c.action, settings, ctx)).rejects.toBeInstanceOf(ConnectorUnavailable);
      const before = c.atVendor(targets, ctx);
      const earlier = await reconcileAction(c.action, settings, ctx);
      await retry(c.action, settings, ctx);

      expect(before).not.toEqual(c.once);
      expect(earlier).toEqual({ found: false });
      expect(c.atVendor(targets, ctx)).toEqual(c.once);
    });

    it('does not mistake another decision\'s effect for its own', async () => {
      const mine = ctxFor(c.action, 'dec_mine');
      await executeAction(c.action, settings, ctxFor(c.action, 'dec_other'));
      const earlier = await reconcileAction(c.action, settings, mine);
      expect(earlier).toEqual({ found: false });
    });
  });

  it('leaves exactly one effect per action under seeded chaos (before, after-commit, hang and reset faults on every request)', async () => {
    targets.setChaos({ seed: 20260601, failBeforeRate: 0.15, commitThenFailRate: 0.15, hangRate: 0.05, resetRate: 0.1 });
    const runs = CASES.flatMap((c) => ['dec_c1', 'dec_c2', 'dec_c3'].map((d) => ({ c, ctx: ctxFor(c.action, d) })));

    for (const { c, ctx } of runs) {
      for (let attempt = 0; ; attempt++) {
        try {
          await (attempt === 0 ? executeAction(c.action, settings, ctx) : retry(c.action, settings, ctx));
          break;
        } catch (err) {
          if (!(err instanceof ConnectorUnavailable) || attempt > 30) throw err;
        }
      }
    }

    const faults = targets.requests().filter((r) => r.fault).map((r) => r.fault);
    expect(new Set(faults)).toEqual(new Set(['before', 'error', 'hang', 'reset']));
    for (const { c, ctx } of runs) expect(c.atVendor(targets, ctx), ctx.idempotencyKey).toEqual(c.once);
  });
});

/** Connector settings pointing every vendor at the local stand-ins, with local credentials. */
function standInSettings(targets: ConnectorTargets, extra: Partial<ConnectorSettings> = {}): ConnectorSettings {
  return {
    githubApiUrl: targets.githubUrl, github: { token: 'ghs_local' },
    shopifyShopUrl: targets.shopifyUrl, shopify: { accessToken: 'shpat_local' },
    zendeskBaseUrl: targets.zendeskUrl, zendesk: { email: 'bot@example.com', apiToken: 'zd_local' },
    slackBaseUrl: targets.slackUrl, slack: { botToken: 'xoxb-local', defaultChannel: '#seamwork-alerts' },
    ...extra,
  };
}
