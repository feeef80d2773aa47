import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import type { BenchRunner, BenchSection, BenchTarget } from './types.js';

/**
 * Each Lambda handler bundled the way the CDK stack bundles it (lib/cloud/seamwork-function.ts),
 * its size, and how long a fresh Node process takes to import it (the cold-start share that is ours).
 */

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HANDLERS_DIR = path.join(REPO_ROOT, 'lambdas', 'handlers');

/** The issue's targets, per handler. */
const MAX_KB = 150;
const MAX_IMPORT_MS = 100;

/** Same banner as SeamworkFunction: ESM bundles get a `require` for the CommonJS pieces they carry. */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __seamworkCreateRequire } from 'node:module';" +
  'const require = __seamworkCreateRequire(import.meta.url);';

const execFileAsync = promisify(execFile);

/** Bundles one handler with SeamworkFunction's options (esbuild as NodejsFunction drives it). */
async function bundle(entry: string, outfile: string): Promise<Metafile> {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    sourcemap: true, // SourceMapMode.DEFAULT: a .map file beside the bundle
    platform: 'node',
    format: 'esm',
    target: 'node24',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    // bundleAwsSDK: true in SeamworkFunction, so nothing is external (node: built-ins need no marking).
    external: [],
    metafile: true,
    logLevel: 'silent',
  });
  return result.metafile;
}

/** Milliseconds a fresh `node` takes to import the bundle, as measured inside that process. */
async function importMs(file: string, sourceMaps: boolean): Promise<number> {
  const script = `const t=performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now()-t)`;
  const args = [...(sourceMaps ? ['--enable-source-maps'] : []), '--input-type=module', '-e', script];
  const { stdout } = await execFileAsync(process.execPath, args, {
    cwd: path.dirname(file),
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const ms = Number(stdout.trim().split('\n').pop());
  if (!Number.isFinite(ms)) throw new Error(`Importing ${file} printed no time: ${stdout.slice(0, 200)}`);
  return ms;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Bytes in the output by package (`@aws-sdk/client-s3`, `zod`) or, for our own code, by top folder (`lambdas/core`). */
export function bytesByOrigin(meta: Metafile): Array<{ origin: string; bytes: number }> {
  const totals = new Map<string, number>();
  for (const out of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
      const nm = input.lastIndexOf('node_modules/');
      let origin: string;
      if (nm >= 0) {
        const parts = input.slice(nm + 'node_modules/'.length).split('/');
        origin = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
      } else {
        origin = input.split('/').slice(0, 2).join('/');
      }
      totals.set(origin, (totals.get(origin) ?? 0) + bytesInOutput);
    }
  }
  return [...totals.entries()].map(([origin, bytes]) => ({ origin, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** Our own files (outside node_modules) that import a package directly: how it gets into the bundle. */
export function firstPartyImporters(meta: Metafile, origin: string): string[] {
  const inPkg = (p: string) => p.includes(`node_modules/${origin}/`);
  return Object.entries(meta.inputs)
    .filter(([file, info]) => !file.includes('node_modules/') && info.imports.some((imp) => inPkg(imp.path)))
    .map(([file]) => file)
    .sort();
}

const kb = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;

/** Runs the bundles section. */
export const run: BenchRunner = async (opts) => {
  const runs = opts.quick ? 1 : 7;
  const handlers = readdirSync(HANDLERS_DIR).filter((f) => f.endsWith('.ts')).sort();
  const dir = mkdtempSync(path.join(tmpdir(), 'seamwork-bundles-'));
  const rows: BenchSection['rows'] = [];
  const withModelSdk: string[] = [];
  const targets: BenchTarget[] = [];
  const notes: string[] = [
    `Bundled as SeamworkFunction does (lib/cloud/seamwork-function.ts): esbuild, bundle, minify, ESM, platform node, target node24, mainFields module,main, the createRequire banner, source map beside the bundle. bundleAwsSDK is true there, so the AWS SDK is bundled too and nothing is external: the handlers run the SDK version the lock file pins, not the one the Lambda runtime ships.`,
    `Import time: median of ${runs} fresh \`node\` process${runs === 1 ? '' : 'es'} (${process.version} here; Lambda runs Node 24) timing \`await import(bundle)\` from inside, so process start-up is not counted. "import ms" runs with --enable-source-maps as the functions do (NODE_OPTIONS), which makes Node read the .map on load; "no maps ms" is without.`,
  ];
  try {
    for (const [i, file] of handlers.entries()) {
      const name = path.basename(file, '.ts');
      const outfile = path.join(dir, name, 'index.mjs');
      const meta = await bundle(path.join(HANDLERS_DIR, file), outfile);
      const bytes = statSync(outfile).size;
      if (bytesByOrigin(meta).some((t) => t.origin === '@anthropic-ai/sdk')) withModelSdk.push(name);
      const mapBytes = statSync(`${outfile}.map`).size;
      const withMaps: number[] = [];
      const withoutMaps: number[] = [];
      for (let r = 0; r < runs; r++) {
        withMaps.push(await importMs(outfile, true));
        withoutMaps.push(await importMs(outfile, false));
      }
      const ms = median(withMaps);
      const top = bytesByOrigin(meta).slice(0, 3);
      const via = top
        .filter((t) => !t.origin.startsWith('lambdas/'))
        .map((t) => {
          const importers = firstPartyImporters(meta, t.origin);
          return `${t.origin} via ${importers.slice(0, 3).join(', ') || 'another package'}${importers.length > 3 ? ` (+${importers.length - 3} more)` : ''}`;
        })
        .join('; ');
      rows.push({
        handler: name,
        KB: kb(bytes),
        'map KB': kb(mapBytes),
        'import ms': Math.round(ms * 10) / 10,
        'no maps ms': Math.round(median(withoutMaps) * 10) / 10,
        'largest inputs': top.map((t) => `${t.origin} ${kb(t.bytes)} KB`).join(', '),
      });
      const sizeMet = kb(bytes) <= MAX_KB;
      const timeMet = ms <= MAX_IMPORT_MS;
      targets.push({
        what: `${name} bundle size`,
        target: `≤ ${MAX_KB} KB`,
        actual: `${kb(bytes)} KB`,
        met: sizeMet,
        ...(sizeMet ? {} : { note: `Biggest inputs: ${top.map((t) => `${t.origin} (${kb(t.bytes)} KB)`).join(', ')}; brought in by ${via}.` }),
      });
      targets.push({
        what: `${name} cold import`,
        target: `≤ ${MAX_IMPORT_MS} ms`,
        actual: `${Math.round(ms * 10) / 10} ms`,
        met: timeMet,
        ...(timeMet ? {} : { note: `Import evaluates all ${kb(bytes)} KB of module code; biggest inputs: ${top.map((t) => `${t.origin} (${kb(t.bytes)} KB)`).join(', ')}.` }),
      });
      opts.progress(`bundles: ${name} ${kb(bytes)} KB, import ${Math.round(ms)} ms (${i + 1}/${handlers.length})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const over = rows.filter((r) => Number(r.KB) > MAX_KB).map((r) => r.handler);
  if (over.length > 0) notes.push(`Over ${MAX_KB} KB: ${over.join(', ')}. The "largest inputs" column names the packages that make them big (esbuild metafile, bytes in the output).`);
  if (withModelSdk.length > 1) {
    notes.push(`The Anthropic SDK is in ${withModelSdk.length} of ${handlers.length} bundles (${withModelSdk.join(', ')}), though only infer calls the model: the handlers share one wiring module (lambdas/aws/wiring.ts) that imports every adapter at top level, so each bundle carries every client. Importing adapters where they are used (or lazily) would shrink the stages that do not need them.`);
  }
  return { id: 'bundles', title: 'Lambda bundles: size and cold import', rows, targets, notes };
};
