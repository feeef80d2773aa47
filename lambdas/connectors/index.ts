import { ConfigurationError, ConnectorRejected } from '../core/errors.js';
import type { ActionRequest } from '../core/integration.js';
import { addGitHubLabels, createGitHubComment, type GitHubAddLabelsParams, type GitHubCommentParams } from './github.js';
import { addShopifyOrderTags, type ShopifyAddOrderTagsParams } from './shopify.js';
import { postSlackMessage, type SlackPostParams } from './slack.js';
import { updateZendeskTicket, type ZendeskUpdateParams } from './zendesk.js';

/** Where connectors reach and with what credentials. */
export interface ConnectorSettings {
  zendeskBaseUrl?: string;
  slackBaseUrl?: string;
  /** GitHub's REST API base (`https://api.github.com`, or a GitHub Enterprise `/api/v3` URL). */
  githubApiUrl?: string;
  /** The shop's admin origin, `https://<shop>.myshopify.com`. */
  shopifyShopUrl?: string;
  zendesk?: { email: string; apiToken: string };
  slack?: { webhookPath: string };
  github?: { token: string };
  shopify?: { accessToken: string };
}

function unknownAction(action: ActionRequest): ConnectorRejected {
  return new ConnectorRejected(`The ${action.connector} connector has no action "${action.name}".`);
}

/** Executes one action against its connector; the caller handles idempotency. */
export async function executeAction(action: ActionRequest, settings: ConnectorSettings): Promise<Record<string, unknown>> {
  switch (action.connector) {
    case 'zendesk': {
      if (!settings.zendeskBaseUrl || !settings.zendesk) throw new ConfigurationError('Zendesk connector is not configured (SEAMWORK_ZENDESK_BASE_URL and zendesk credentials).');
      return updateZendeskTicket(settings.zendeskBaseUrl, settings.zendesk, action.params as unknown as ZendeskUpdateParams);
    }
    case 'slack': {
      if (!settings.slackBaseUrl || !settings.slack) throw new ConfigurationError('Slack connector is not configured (SEAMWORK_SLACK_BASE_URL and slack.webhookPath).');
      return postSlackMessage(settings.slackBaseUrl, settings.slack.webhookPath, action.params as unknown as SlackPostParams);
    }
    case 'github': {
      if (!settings.githubApiUrl || !settings.github) throw new ConfigurationError('GitHub connector is not configured (SEAMWORK_GITHUB_API_URL and github.token).');
      if (action.name === 'github.add_labels') return addGitHubLabels(settings.githubApiUrl, settings.github, action.params as unknown as GitHubAddLabelsParams);
      if (action.name === 'github.create_comment') return createGitHubComment(settings.githubApiUrl, settings.github, action.params as unknown as GitHubCommentParams);
      throw unknownAction(action);
    }
    case 'shopify': {
      if (!settings.shopifyShopUrl || !settings.shopify) throw new ConfigurationError('Shopify connector is not configured (SEAMWORK_SHOPIFY_SHOP_URL and shopify.accessToken).');
      if (action.name === 'shopify.add_order_tags') return addShopifyOrderTags(settings.shopifyShopUrl, settings.shopify, action.params as unknown as ShopifyAddOrderTagsParams);
      throw unknownAction(action);
    }
    default:
      throw new ConnectorRejected(`No connector "${action.connector}" for action ${action.name}.`);
  }
}
