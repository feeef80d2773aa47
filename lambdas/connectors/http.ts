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
  /**
   * How long one request may take, headers and body, before it is abandoned as unanswered.
   * @default CONNECTOR_TIMEOUT_MS
   */
  timeoutMs?: number;
}

/** A request to a connector: `body` is omitted for reads. */
export interface ConnectorRequestInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * Calls a downstream HTTP API; 429/5xx/no answer → retryable, other 4xx → rejected for good.
 *
 * No answer (a timeout, a reset connection, a body cut short) is retryable although the vendor may
 * have committed the action: the caller reconciles against the vendor before retrying, so the
 * error says `detail.answered: false` to tell it apart from a vendor that answered with a failure.
 */
export async function callConnector(
  connector: string,
  url: string,
  init: ConnectorRequestInit,
  opts: CallConnectorOptions = {},
): Promise<ConnectorResponse> {
  const signal = AbortSignal.timeout(opts.timeoutMs ?? CONNECTOR_TIMEOUT_MS);
  let res: Response;
  let body: string;
  try {
    res = await fetch(url, { ...init, signal });
    body = await res.text();
  } catch (err) {
    throw new ConnectorUnavailable(`${connector} did not answer: ${(err as Error).message}`, { cause: err, detail: { answered: false } });
  }
  const answer: ConnectorResponse = { status: res.status, body, headers: res.headers };
  if (res.status === 429 || res.status >= 500 || (res.status >= 400 && opts.retryable?.(answer))) {
    throw new ConnectorUnavailable(`${connector} answered ${res.status}; will retry.`, { detail: { status: res.status, answered: true } });
  }
  if (res.status >= 400) {
    throw new ConnectorRejected(`${connector} refused the action with ${res.status}: ${body.slice(0, 200)}`, { detail: { status: res.status } });
  }
  return answer;
}

/** Parses a connector's JSON answer; a body that is not JSON is worth retrying (a proxy's error page). */
export function parseConnectorJson<T>(connector: string, res: ConnectorResponse): T {
  try {
    return JSON.parse(res.body) as T;
  } catch (err) {
    throw new ConnectorUnavailable(`${connector} answered ${res.status} with a body that is not JSON; will retry.`, { cause: err, detail: { status: res.status } });
  }
}
