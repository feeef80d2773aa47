import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/aws/runtime-config.js';
import { SecretsDocumentSchema } from '../../lambdas/aws/secrets.js';
import { ENV } from '../../lambdas/core/config-keys.js';
import { ConfigurationError } from '../../lambdas/core/errors.js';
import { INTEGRATIONS } from '../../lambdas/integrations/index.js';

describe('connector settings', () => {
  const base = { [ENV.AUDIT_BUCKET]: 'audit' };

  it('reads the GitHub API and Shopify shop URLs from the environment', () => {
    const config = loadConfig({ ...base, [ENV.GITHUB_API_URL]: 'https://api.github.com', [ENV.SHOPIFY_SHOP_URL]: 'https://acme.myshopify.com' });
    expect(config).toMatchObject({ githubApiUrl: 'https://api.github.com', shopifyShopUrl: 'https://acme.myshopify.com' });
    expect(loadConfig(base)).toMatchObject({ githubApiUrl: undefined, shopifyShopUrl: undefined });
  });

  it('fails fast, naming the variable, when a connector URL is not a URL', () => {
    expect(() => loadConfig({ ...base, [ENV.SHOPIFY_SHOP_URL]: 'acme.myshopify.com' })).toThrow(ConfigurationError);
    expect(() => loadConfig({ ...base, [ENV.SHOPIFY_SHOP_URL]: 'acme.myshopify.com' })).toThrow(ENV.SHOPIFY_SHOP_URL);
  });

  it('accepts GitHub and Shopify credentials in the secrets document, and refuses them empty', () => {
    expect(SecretsDocumentSchema.parse({ github: { token: 't' }, shopify: { accessToken: 'a' } })).toMatchObject({ github: { token: 't' }, shopify: { accessToken: 'a' } });
    expect(SecretsDocumentSchema.safeParse({ github: { token: '' } }).success).toBe(false);
    expect(SecretsDocumentSchema.safeParse({ shopify: { token: 'wrong key' } }).success).toBe(false);
  });

  it('accepts a Slack bot token and default channel, and refuses the old incoming-webhook path or an empty token', () => {
    expect(SecretsDocumentSchema.parse({ slack: { botToken: 'xoxb-1', defaultChannel: '#alerts' } }).slack).toEqual({ botToken: 'xoxb-1', defaultChannel: '#alerts' });
    expect(SecretsDocumentSchema.safeParse({ slack: { webhookPath: '/services/T/B/x' } }).success).toBe(false);
    expect(SecretsDocumentSchema.safeParse({ slack: { botToken: '', defaultChannel: '#alerts' } }).success).toBe(false);
  });

  it('has a local secrets file with a signing secret for every registered integration and the GitHub and Shopify ones', () => {
    const doc = SecretsDocumentSchema.parse(JSON.parse(readFileSync('config/secrets.local.json', 'utf8')));
    for (const def of Object.values(INTEGRATIONS)) expect(doc.webhooks[def.source.secretName], def.name).toBeDefined();
    expect(Object.keys(doc.webhooks)).toEqual(expect.arrayContaining(['github-issue-triage', 'shopify-order-risk']));
    expect(doc.github?.token).toBeTruthy();
    expect(doc.shopify?.accessToken).toBeTruthy();
    expect(doc.slack).toMatchObject({ botToken: expect.stringMatching(/^xoxb-/), defaultChannel: expect.any(String) });
  });
});
