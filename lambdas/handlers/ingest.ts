import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ingestWebhook } from '../core/stages/ingest.js';
import { isDeadInvocation } from '../core/stage-runner.js';
import { RETENTION_SECONDS } from '../core/time-budgets.js';
import { PowertoolsMetricsSink } from '../aws/metrics.js';
import { Wiring } from '../aws/wiring.js';
import { getIntegration } from '../integrations/index.js';

/** The URL the vendor called (HubSpot signs it): scheme as forwarded, the API's domain, path and query. */
function publicUrl(event: APIGatewayProxyEventV2, headers: Record<string, string>): string {
  const proto = headers['x-forwarded-proto'] ?? 'https';
  const host = event.requestContext?.domainName ?? headers.host ?? '';
  return `${proto}://${host}${event.rawPath ?? ''}${event.rawQueryString ? `?${event.rawQueryString}` : ''}`;
}

const logger = new Logger({ serviceName: 'seamwork', persistentKeys: { stage: 'ingest' } });
let wiring: Wiring | undefined;
let sink: PowertoolsMetricsSink | undefined;

/** Webhook Lambda behind `POST /webhooks/{integration}`: verify, dedupe, record, enqueue, 202. */
export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyStructuredResultV2> => {
  wiring ??= new Wiring();
  wiring.registerContext(context);
  const remaining = wiring.remainingMs();
  sink ??= new PowertoolsMetricsSink('ingest', wiring.config.metricsFile);
  const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v ?? '')]));
  try {
    const res = await ingestWebhook(
      { integration: event.pathParameters?.integration ?? '', body, headers, method: event.requestContext?.http?.method ?? 'POST', url: publicUrl(event, headers) },
      {
        integration: getIntegration, secrets: wiring.secrets, dedupe: wiring.dedupe, vault: wiring.vault, rawBodyTtlSeconds: RETENTION_SECONDS, audit: wiring.auditFor('ingest'), queues: wiring.queues, metrics: sink,
        now: () => new Date(), maxBodyBytes: wiring.config.maxBodyBytes, toleranceSeconds: wiring.config.toleranceSeconds,
        defaultTenant: wiring.config.defaultTenant, dedupeTtlSeconds: 7 * 24 * 3600,
        // Exactly-once acceptance; the lease ends with the invocation (a retry after it takes over).
        ledger: wiring.stageLedger, ...(remaining !== undefined ? { leaseSeconds: Math.max(1, Math.ceil(remaining / 1000)) } : {}), faults: wiring.faults,
      },
    );
    if (res.status >= 400) logger.warn('webhook rejected', { status: res.status, code: res.body.code, reason: res.body.reason });
    return { statusCode: res.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(res.body) };
  } catch (err) {
    if (isDeadInvocation(err)) throw err;
    // Not accepted: the vendor retries on 5xx, and the dedupe claim was released.
    logger.error('webhook ingest failed', { reason: (err as Error).message });
    return { statusCode: 503, headers: { 'content-type': 'application/json', 'retry-after': '5' }, body: JSON.stringify({ status: 'error', code: 'INGEST_UNAVAILABLE', reason: 'Seamwork could not accept the event right now; retry.' }) };
  } finally {
    sink.flush();
  }
};
