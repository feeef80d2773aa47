import { ConfigurationError, ConnectorRejected } from '../core/errors.js';
import type { ActionRequest } from '../core/integration.js';
import { postSlackMessage, type SlackPostParams } from './slack.js';
import { updateZendeskTicket, type ZendeskUpdateParams } from './zendesk.js';

/** Where connectors reach and with what credentials. */
export interface ConnectorSettings {
  zendeskBaseUrl?: string;
  slackBaseUrl?: string;
  zendesk?: { email: string; apiToken: string };
  slack?: { webhookPath: string };
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
    default:
      throw new ConnectorRejected(`No connector "${action.connector}" for action ${action.name}.`);
  }
}
