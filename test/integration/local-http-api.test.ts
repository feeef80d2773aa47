import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { INGEST } from '../../lib/topology.js';
import { startHttpApi, type HttpApi } from '../../lib/local/http-api.js';

describe('startHttpApi', () => {
  let api: HttpApi;
  const calls: Array<{ event: APIGatewayProxyEventV2; context: Context }> = [];

  beforeAll(async () => {
    api = await startHttpApi({
      routes: [
        {
          method: 'POST', path: INGEST.route, functionName: 'seamwork-ingest', timeoutSeconds: INGEST.timeoutSeconds,
          handler: async (event, context) => {
            calls.push({ event, context });
            if (event.pathParameters?.integration === 'boom') throw new Error('handler exploded');
            if (event.pathParameters?.integration === 'plain') return { accepted: true };
            return { statusCode: 202, headers: { 'X-Decision': 'd-1' }, body: JSON.stringify({ accepted: event.pathParameters?.integration }) };
          },
        },
      ],
      onError: () => undefined,
    });
  });

  afterAll(async () => { await api?.stop(); });

  const lastEvent = () => calls[calls.length - 1].event;

  it('builds a payload 2.0 event from a JSON request and returns the handler status', async () => {
    const res = await fetch(`${api.url}/webhooks/zendesk?a=1&b=2&a=3`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Zendesk-Webhook-Signature': 'sig', 'User-Agent': 'Zendesk Webhook' },
      body: '{"ticket":{"id":42}}',
    });

    expect(res.status).toBe(202);
    expect(res.headers.get('x-decision')).toBe('d-1');
    expect(await res.json()).toEqual({ accepted: 'zendesk' });
    const event = lastEvent();
    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('POST /webhooks/{integration}');
    expect(event.rawPath).toBe('/webhooks/zendesk');
    expect(event.rawQueryString).toBe('a=1&b=2&a=3');
    expect(event.queryStringParameters).toEqual({ a: '1,3', b: '2' });
    expect(event.pathParameters).toEqual({ integration: 'zendesk' });
    expect(event.headers['content-type']).toBe('application/json');
    expect(event.headers['x-zendesk-webhook-signature']).toBe('sig');
    expect(event.requestContext.http).toMatchObject({ method: 'POST', path: '/webhooks/zendesk', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'Zendesk Webhook' });
    expect(event.requestContext.requestId).toBe(res.headers.get('apigw-requestid'));
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(event.requestContext.timeEpoch).toBeGreaterThan(0);
    expect(event.body).toBe('{"ticket":{"id":42}}');
    expect(event.isBase64Encoded).toBe(false);
    expect(calls[calls.length - 1].context.functionName).toBe('seamwork-ingest');
    expect(calls[calls.length - 1].context.getRemainingTimeInMillis()).toBeLessThanOrEqual(INGEST.timeoutSeconds * 1000);
  });

  it('base64-encodes a body whose content type is not text', async () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    await fetch(`${api.url}/webhooks/files`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    expect(lastEvent().isBase64Encoded).toBe(true);
    expect(Buffer.from(lastEvent().body ?? '', 'base64')).toEqual(bytes);
  });

  it('comma-joins repeated headers and moves cookies to event.cookies', async () => {
    // fetch merges repeated headers itself; node:http sends them as separate lines, as a proxy may.
    await new Promise<void>((resolve, reject) => {
      const req = request(`${api.url}/webhooks/zendesk`, {
        method: 'POST', headers: { 'x-multi': ['one', 'two'], cookie: 'a=1; b=2', 'content-type': 'text/plain' },
      }, (res) => { res.resume(); res.on('end', resolve); });
      req.on('error', reject);
      req.end('x');
    });
    expect(lastEvent().headers['x-multi']).toBe('one,two');
    expect(lastEvent().cookies).toEqual(['a=1', 'b=2']);
    expect(lastEvent().headers.cookie).toBeUndefined();
  });

  it('answers 404 Not Found for a route that does not exist', async () => {
    const before = calls.length;
    for (const [method, path] of [['POST', '/nope'], ['GET', '/webhooks/zendesk'], ['POST', '/webhooks/a/b']]) {
      const res = await fetch(`${api.url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toEqual({ message: 'Not Found' });
    }
    expect(calls.length).toBe(before);
  });

  it('answers 413 for a body over the 10 MB payload limit without invoking the handler', async () => {
    const before = calls.length;
    const res = await fetch(`${api.url}/webhooks/zendesk`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(10 * 1024 * 1024 + 1),
    });
    expect(res.status).toBe(413);
    expect(calls.length).toBe(before);
  });

  it('answers 500 Internal Server Error when the handler throws', async () => {
    const res = await fetch(`${api.url}/webhooks/boom`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'Internal Server Error' });
  });

  it('treats a result without statusCode as a 200 JSON body', async () => {
    const res = await fetch(`${api.url}/webhooks/plain`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ accepted: true });
  });
});
