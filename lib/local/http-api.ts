import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createLambdaContext, invokeWithTimeout } from './lambda-context.js';

/** An HTTP API route's handler, as Lambda calls it with payload format 2.0. */
export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2> | APIGatewayProxyResultV2;

/** One route, like an HTTP API route with a Lambda proxy integration. */
export interface HttpRoute {
  method: 'POST' | 'GET';
  /** Path template: `{name}` matches one segment, a trailing `{name+}` the rest. */
  path: string;
  handler: HttpHandler;
  /** @default 'local-http-handler' */
  functionName?: string;
  /** Lambda timeout: past it the caller gets 500, as from API Gateway. @default 30 */
  timeoutSeconds?: number;
  /** @default 512 */
  memoryMb?: number;
}

/** Options for {@link startHttpApi}. */
export interface HttpApiOptions {
  /** @default 0 (a free port) */
  port?: number;
  routes: HttpRoute[];
  /** Told about handler failures, which the caller sees only as a 500. @default console.error */
  onError?: (error: unknown, routeKey: string) => void;
}

/** A running local HTTP API. */
export interface HttpApi {
  /** Base URL, e.g. `http://127.0.0.1:4100`. */
  url: string;
  stop(): Promise<void>;
}

/** API Gateway's request payload limit. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** API Gateway's integration timeout for HTTP APIs. */
const INTEGRATION_TIMEOUT_SECONDS = 30;

const TEXT_CONTENT_TYPE = /^(text\/|application\/([\w.+-]*\+)?(json|xml|javascript)\b)/i;

/**
 * Serves routes over node:http the way an API Gateway HTTP API with Lambda proxy integrations
 * (payload format 2.0) does: the same event shape in, the same result handling out.
 */
export async function startHttpApi(opts: HttpApiOptions): Promise<HttpApi> {
  const onError = opts.onError ?? ((error: unknown, routeKey: string) => console.error(`[${routeKey}] handler failed:`, error));
  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const handled = handle(req, res).catch((error: unknown) => {
      onError(error, 'local-http-api');
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal Server Error' });
      else res.destroy();
    });
    inFlight.add(handled);
    void handled.finally(() => inFlight.delete(handled));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    res.setHeader('apigw-requestid', requestId);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const match = matchRoute(opts.routes, method, url.pathname);
    if (!match) { req.resume(); return sendJson(res, 404, { message: 'Not Found' }); }

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_PAYLOAD_BYTES) { req.resume(); return sendJson(res, 413, { message: 'Request Entity Too Large' }); }
    const body = await readBody(req, MAX_PAYLOAD_BYTES);
    if (body === 'too-large') return sendJson(res, 413, { message: 'Request Entity Too Large' });

    const { route, pathParameters } = match;
    const routeKey = `${route.method} ${route.path}`;
    const event = toEvent(req, url, body, { routeKey, pathParameters, requestId, port: (server.address() as AddressInfo).port });
    const functionName = route.functionName ?? 'local-http-handler';
    const timeoutSeconds = Math.min(route.timeoutSeconds ?? INTEGRATION_TIMEOUT_SECONDS, INTEGRATION_TIMEOUT_SECONDS);
    const context = createLambdaContext({ functionName, timeoutSeconds, memoryMb: route.memoryMb });
    const run = invokeWithTimeout(() => route.handler(event, context), functionName, timeoutSeconds);
    let result: APIGatewayProxyResultV2;
    try {
      result = await run.result;
    } catch (error) {
      // An injected crash (chaos tests) is the point of the run, not news; the caller still sees a 500.
      if (!['SimulatedCrash', 'InvocationExpired'].includes((error as Error)?.name)) onError(error, routeKey);
      return sendJson(res, 500, { message: 'Internal Server Error' });
    }
    writeResult(res, result);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      const closed = new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
      server.closeIdleConnections();
      await Promise.all(inFlight);
      server.closeAllConnections();
      await closed;
    },
  };
}

function matchRoute(routes: HttpRoute[], method: string, path: string): { route: HttpRoute; pathParameters: Record<string, string> } | undefined {
  const segments = path.split('/').filter(Boolean);
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.path.split('/').filter(Boolean);
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const part = pattern[i];
      const variable = /^\{(\w+)(\+?)\}$/.exec(part);
      if (variable?.[2] === '+') {
        if (i !== pattern.length - 1 || segments.length <= i) { ok = false; break; }
        params[variable[1]] = decodeURIComponent(segments.slice(i).join('/'));
        return { route, pathParameters: params };
      }
      const segment = segments[i];
      if (segment === undefined) ok = false;
      else if (variable) params[variable[1]] = decodeURIComponent(segment);
      else ok = part === segment;
    }
    if (ok && pattern.length === segments.length) return { route, pathParameters: params };
  }
  return undefined;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) tooLarge = true; // keep draining so the 413 reaches the client
    else chunks.push(chunk);
  }
  return tooLarge ? 'too-large' : Buffer.concat(chunks);
}

function toEvent(
  req: IncomingMessage, url: URL, body: Buffer,
  info: { routeKey: string; pathParameters: Record<string, string>; requestId: string; port: number },
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name === 'cookie') { cookies.push(...raw[i + 1].split(';').map((c) => c.trim()).filter(Boolean)); continue; }
    headers[name] = headers[name] === undefined ? raw[i + 1] : `${headers[name]},${raw[i + 1]}`;
  }
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-port'] = String(info.port);
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] ??= `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)}`;

  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = query[key] === undefined ? value : `${query[key]},${value}`;

  const now = new Date();
  const domainName = headers.host ?? `127.0.0.1:${info.port}`;
  const isText = TEXT_CONTENT_TYPE.test(headers['content-type'] ?? '');
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: info.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0].split(':')[0],
      http: {
        method: (req.method ?? 'GET').toUpperCase(),
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: info.requestId,
      routeKey: info.routeKey,
      stage: '$default',
      time: formatClf(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
  if (cookies.length > 0) event.cookies = cookies;
  if (Object.keys(query).length > 0) event.queryStringParameters = query;
  if (Object.keys(info.pathParameters).length > 0) event.pathParameters = info.pathParameters;
  if (body.length > 0) {
    event.body = isText ? body.toString('utf8') : body.toString('base64');
    event.isBase64Encoded = !isText;
  }
  return event;
}

/** Writes a handler result back as API Gateway does for payload format 2.0. */
function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  // Anything that is not an object with a statusCode is taken as a 200 JSON body.
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    const body = typeof result === 'string' ? result : JSON.stringify(result);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    return;
  }
  const structured = result as APIGatewayProxyStructuredResultV2;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(structured.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (structured.cookies?.length) headers['set-cookie'] = structured.cookies;
  const body = structured.body === undefined
    ? Buffer.alloc(0)
    : Buffer.from(structured.body, structured.isBase64Encoded ? 'base64' : 'utf8');
  if (body.length > 0 && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  res.writeHead(structured.statusCode ?? 200, headers);
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `12/Mar/2020:19:03:58 +0000`, the format of `requestContext.time`. */
function formatClf(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
