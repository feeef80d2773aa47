import { createHash } from 'node:crypto';
import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FlagsDocumentSchema, type FlagsDocument } from '../../lambdas/core/flags.js';
import { FLAGS } from '../topology.js';

/** Options for {@link startFlagsAgent}. */
export interface FlagsAgentOptions {
  /** The local flags file: JSON in the shape of `FlagsDocumentSchema`. */
  file: string;
  /** @default 0 (a free port) */
  port?: number;
  /** Told when the file becomes invalid (the last good version keeps being served) or valid again. */
  onProblem?: (problem: string | undefined) => void;
}

/** A running local AppConfig agent. */
export interface FlagsAgent {
  /** The full configuration URL of the flags profile: the value for `ENV.FLAGS_URL`. */
  url: string;
  stop(): Promise<void>;
}

/** Response header set when the file is invalid and the last good version is served instead. */
export const STALE_HEADER = 'x-seamwork-flags-stale';

/**
 * Serves the AppConfig agent's HTTP interface for the flags profile from a local file. The file
 * is read on every request, so editing it flips a flag at once. An invalid file never replaces
 * a valid one: the last good version is served with {@link STALE_HEADER} saying why (AppConfig
 * itself validates before deploying, so an agent never hands out a broken document). With no
 * good version yet, the answer is 500 with the reason.
 */
export async function startFlagsAgent(opts: FlagsAgentOptions): Promise<FlagsAgent> {
  const configPath = `/applications/${FLAGS.application}/environments/${FLAGS.environment}/configurations/${FLAGS.profile}`;
  let lastGood: { flags: FlagsDocument; version: string } | undefined;

  async function load(): Promise<{ flags: FlagsDocument; version: string; problem?: string } | { problem: string }> {
    let text: string;
    try {
      text = await readFile(opts.file, 'utf8');
    } catch (error) {
      return withLastGood(`cannot read flags file ${opts.file}: ${(error as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      return withLastGood(`flags file ${opts.file} is not valid JSON: ${(error as Error).message}`);
    }
    const parsed = FlagsDocumentSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      return withLastGood(`flags file ${opts.file} does not match FlagsDocumentSchema: ${issues}`);
    }
    lastGood = { flags: parsed.data, version: createHash('sha256').update(text).digest('hex').slice(0, 16) };
    return lastGood;
  }

  function withLastGood(problem: string): { flags: FlagsDocument; version: string; problem: string } | { problem: string } {
    return lastGood ? { ...lastGood, problem } : { problem };
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' || url.pathname !== configPath) {
      return send(res, 404, { message: `no configuration at ${url.pathname}; this agent serves ${configPath}` });
    }
    load().then((loaded) => {
      if (!('flags' in loaded)) return send(res, 500, { message: loaded.problem });
      const headers: Record<string, string> = { 'configuration-version': loaded.version };
      if (loaded.problem) headers[STALE_HEADER] = `serving last good version; ${loaded.problem}`.replace(/[\r\n]+/g, ' ');
      const wanted = url.searchParams.getAll('flag');
      if (wanted.length === 0) return send(res, 200, loaded.flags, headers);
      const missing = wanted.filter((name) => !(name in loaded.flags));
      if (missing.length > 0) return send(res, 400, { message: `flag(s) not found: ${missing.join(', ')}` }, headers);
      // One flag: its value alone; several: an object of them, as the agent answers.
      const body = wanted.length === 1
        ? loaded.flags[wanted[0]]
        : Object.fromEntries(wanted.map((name) => [name, loaded.flags[name]]));
      return send(res, 200, body, headers);
    }).catch((error: unknown) => send(res, 500, { message: `flags agent failed: ${(error as Error).message}` }));
  });

  // Validate every write as it happens, so "last good" is the last valid version written — not
  // merely the last one a handler happened to read before the file broke.
  let reported: string | undefined;
  const check = () =>
    load().then((loaded) => {
      const problem = loaded.problem;
      if (problem !== reported) opts.onProblem?.(problem);
      reported = problem;
    }, () => undefined);
  await check();
  watchFile(opts.file, { interval: 200 }, () => void check());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${configPath}`,
    stop: () => new Promise<void>((resolve, reject) => {
      unwatchFile(opts.file);
      server.close((e) => (e ? reject(e) : resolve()));
      server.closeAllConnections();
    }),
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
