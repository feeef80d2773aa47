import { ConnectorRejected, ConnectorUnavailable } from '../core/errors.js';
import { CONNECTOR_TIMEOUT_MS } from '../core/time-budgets.js';

/** A connector's answer, as far as the caller needs it. */
export interface ConnectorResponse {
  status: number;
  body: string;
  headers: Headers;
}

/** Options of {@link callConnector}. */
export interface CallConnectorOptions {
  /**
   * Marks a 4xx answer retryable that the default rule would reject for good, e.g. GitHub's rate
   * limit, which answers 403 with `x-ratelimit-remaining: 0` or a `retry-after` header.
   * @default only 429 and 5xx are retryable
   */
  retryable?: (res: ConnectorResponse) => boolean;
}

/** Calls a downstream HTTP API; 429/5xx/network → retryable, other 4xx → rejected for good. */
export async function callConnector(
  connector: string,
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
  opts: CallConnectorOptions = {},
): Promise<ConnectorResponse> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(CONNECTOR_TIMEOUT_MS) });
  } catch (err) {
    throw new ConnectorUnavailable(`${connector} did not answer: ${(err as Error).message}`, { cause: err });
  }
  const body = await res.text();
  const answer: ConnectorResponse = { status: res.status, body, headers: res.headers };
  if (res.status === 429 || res.status >= 500 || (res.status >= 400 && opts.retryable?.(answer))) {
    throw new ConnectorUnavailable(`${connector} answered ${res.status}; will retry.`, { detail: { status: res.status } });
  }
  if (res.status >= 400) {
    throw new ConnectorRejected(`${connector} refused the action with ${res.status}: ${body.slice(0, 200)}`, { detail: { status: res.status } });
  }
  return answer;
}
