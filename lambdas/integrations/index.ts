import type { IntegrationDefinition } from '../core/integration.js';
import { githubIssueTriage } from './github-issue-triage/index.js';
import { shopifyOrderRisk } from './shopify-order-risk/index.js';
import { supportTriage } from './support-triage/index.js';

/** Every deployed integration, by name. Adding one = one folder + one line here. */
export const INTEGRATIONS: Record<string, IntegrationDefinition> = {
  [supportTriage.name]: supportTriage,
  [githubIssueTriage.name]: githubIssueTriage,
  [shopifyOrderRisk.name]: shopifyOrderRisk,
};

/** Looks an integration up by name. */
export function getIntegration(name: string): IntegrationDefinition | undefined {
  return Object.hasOwn(INTEGRATIONS, name) ? INTEGRATIONS[name] : undefined;
}
