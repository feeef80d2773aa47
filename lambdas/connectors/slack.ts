import { callConnector } from './http.js';

/** Parameters of `slack.post_urgent`. */
export interface SlackPostParams {
  channel?: string;
  text: string;
}

/** Posts to a Slack incoming webhook (`POST {base}{webhookPath}` with `{ text }`). */
export async function postSlackMessage(baseUrl: string, webhookPath: string, params: SlackPostParams): Promise<Record<string, unknown>> {
  const res = await callConnector('slack', `${baseUrl.replace(/\/$/, '')}${webhookPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: params.text, ...(params.channel ? { channel: params.channel } : {}) }),
  });
  return { status: res.status };
}
