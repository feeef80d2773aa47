import { ConnectorRejected, ConnectorUnavailable } from '../core/errors.js';
import { CONNECTOR_TIMEOUT_MS } from '../core/time-budgets.js';

/** Calls a downstream HTTP API; 429/5xx/network → retryable, other 4xx → rejected for good. */
export async function callConnector(
  connector: string,
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
): Promise<{ status: number; body: string }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(CONNECTOR_TIMEOUT_MS) });
  } catch (err) {
    throw new ConnectorUnavailable(`${connector} did not answer: ${(err as Error).message}`, { cause: err });
  }
  const body = await res.text();
  if (res.status === 429 || res.status >= 500) {
    throw new ConnectorUnavailable(`${connector} answered ${res.status}; will retry.`, { detail: { status: res.status } });
  }
  if (res.status >= 400) {
    throw new ConnectorRejected(`${connector} refused the action with ${res.status}: ${body.slice(0, 200)}`, { detail: { status: res.status } });
  }
  return { status: res.status, body };
}
