import { join } from 'node:path';
import { parseArgs } from 'node:util';

// Local tooling may run on Node 20; the SDK's Node-22 notice is about its 2027 releases, and the
// deployed Lambdas run Node 24. Keep the demo output readable.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `seamwork — the seams between a vendor's webhook and the action taken on its behalf

  start [--no-samples] [--port N] [--real-model]   local stack + sample webhooks, serves until Ctrl-C
  send <integration> <file> [--new-id] [--signature valid|bad|stale|none] [--no-wait]
                                                   post a payload (or fixture) signed as the vendor would,
                                                   then wait for and print its outcome
  trace <decision-id> [--integration N] [--json] [--bucket AUDIT_BUCKET] [--verify-signature]
                                                   the whole story of a decision, from the audit log
                                                   (--bucket: a deployed stack's, with your AWS credentials;
                                                   --verify-signature: re-check the vendor's signature over
                                                   the sealed raw bytes; exit 4 when it does not match)
  audit verify [--since ISO] [--integration N] [--bucket AUDIT_BUCKET] [--json] [--table DEDUPE_TABLE]
                                                   check the whole audit log: chains, writer MACs, conflicts,
                                                   signed checkpoints, the dedupe table, delete markers;
                                                   exit 1 on any finding (see docs/audit.md)
  audit checkpoint [--bucket AUDIT_BUCKET]         write a signed checkpoint of the audit log now
  replay <decision-id> [--model ID] [--json] [--bucket AUDIT_BUCKET]
                                                   re-run a decision from its audit records, actions suppressed
  eval <integration> [--path ai|baseline] [--update-baseline] [--out DIR]
                                                   golden set through the real stages; exit 1 on a >5 point drop
  queues [<queue>]                                 queue and DLQ depths, or a peek at one queue's messages
                                                   (e.g. review, validate-dlq): decision id, code, reason
  flags [show] | flags set <integration> enabled=false rolloutPercent=5 mode=shadow
                                                   the local flags file the AppConfig agent serves
  contracts [list]                                 contract versions, drift policies, migration windows
                                                   (exit 1 when a migration window has expired)
  contracts drift <integration> [--days 30] [--table DRIFT_TABLE]
                                                   drift seen per field and kind, one mark per day
  contracts infer <folder> [--against <integration>] [--out FILE] [--name NAME]
                                                   draft zod contract from captured payloads; --against
                                                   also checks them against a current contract
  caps [list] | caps set <tenant> [--daily USD] [--monthly USD] --reason "…" | caps clear <tenant> --reason "…"
                                                   a tenant's own spend caps, live within a minute, no deploy
  dlq [list] [--queue Q] [--integration I]         what every DLQ and quarantine hold: code, pointer, reason
  dlq show <decision-id>                           one parked message, its drift, and what a redrive would do
  dlq redrive [--queue Q] [--integration I] [--id D]... [--dry-run]
                                                   re-validate against today's contract and replay what
                                                   passes; the rest stays parked, and why is printed
  review [list] [--integration I] [--code C]       the review queue: decision, integration, code, age, reason
  review show <decision-id>                        one item: the proposed decision, its checks, what approve does
  review approve <decision-id> --reason "…" [--extra-usd N]
                                                   COST_CAP_EXCEEDED: back to infer with a one-off raise of
                                                   every cap by N USD (≤ 100); a verify block: back to verify,
                                                   accepted as it stands; audited with who and why
  review reject <decision-id> --reason "…"         close it: nothing is executed; the rejection is audited
  cost [--days 30] [--tenant T] [--integration I] [--html FILE] [--table LEDGER_TABLE]
                                                   spend per tenant, integration and day against the caps,
                                                   a chart of the window, reservations outstanding
  grounding [measure] [--out DIR]                  the ten grounding checks on the labelled corpus: detection
                                                   and false-positive rate per check, HTML report; exit 1 on a miss
  grounding corpus [--write | --check]             rebuild the corpus from the golden sets and the reference
                                                   model's fault injector
  backfill <integration> <folder> [--batch-over N] [--dry-run]
                                                   captured payloads into the pipeline: N (default 20) or fewer
                                                   through the webhook, more as one Message Batch at the batch
                                                   price; prints the cost against per-call pricing
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  switch (command) {
    case 'start': {
      const { values } = parseArgs({ args: rest, options: { 'no-samples': { type: 'boolean' }, port: { type: 'string' }, 'real-model': { type: 'boolean' } } });
      const port = String(values.port ?? process.env.SEAMWORK_PORT ?? 4580);
      if (!/^\d+$/.test(port) || Number(port) > 65535) return usage(`--port must be a port number (0–65535), got "${port}"`);
      if (values['real-model'] && (!process.env.ANTHROPIC_API_KEY || process.env.ANTHROPIC_BASE_URL)) {
        return usage('--real-model needs ANTHROPIC_API_KEY set (and ANTHROPIC_BASE_URL unset)');
      }
      const { startCommand } = await import('../lib/cli/start.js');
      await startCommand({ samples: !values['no-samples'], apiPort: Number(port), realModel: Boolean(values['real-model']) });
      return 0;
    }
    case 'send': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { 'new-id': { type: 'boolean' }, signature: { type: 'string' }, 'no-wait': { type: 'boolean' } } });
      if (positionals.length !== 2) return usage('send needs <integration> <file>');
      const sig = values.signature as 'valid' | 'bad' | 'stale' | 'none' | undefined;
      if (sig !== undefined && !['valid', 'bad', 'stale', 'none'].includes(sig)) return usage('--signature is valid, bad, stale or none');
      const { sendCommand } = await import('../lib/cli/send.js');
      return sendCommand(positionals[0], positionals[1], { newId: Boolean(values['new-id']), signature: sig, wait: !values['no-wait'] });
    }
    case 'trace': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { integration: { type: 'string' }, json: { type: 'boolean' }, bucket: { type: 'string' }, 'verify-signature': { type: 'boolean' } } });
      if (positionals.length !== 1) return usage('trace needs <decision-id>');
      const { traceCommand } = await import('../lib/cli/trace.js');
      return traceCommand(positionals[0], { integration: values.integration, json: Boolean(values.json), bucket: values.bucket, verifySignature: Boolean(values['verify-signature']) });
    }
    case 'replay': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { model: { type: 'string' }, json: { type: 'boolean' }, bucket: { type: 'string' } } });
      if (positionals.length !== 1) return usage('replay needs <decision-id>');
      const { replayCommand } = await import('../lib/cli/replay.js');
      return replayCommand(positionals[0], { model: values.model, json: Boolean(values.json), bucket: values.bucket });
    }
    case 'eval': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { path: { type: 'string', default: 'ai' }, 'update-baseline': { type: 'boolean' }, out: { type: 'string' } } });
      if (positionals.length !== 1) return usage('eval needs <integration>');
      if (values.path !== 'ai' && values.path !== 'baseline') return usage('--path is ai or baseline');
      const { evalCommand } = await import('../lib/cli/eval.js');
      const res = await evalCommand(positionals[0], { path: values.path, updateBaseline: Boolean(values['update-baseline']), outDir: values.out ?? join(process.cwd(), '.seamwork', 'eval') });
      return res.code;
    }
    case 'queues': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
      if (positionals.length > 1) return usage('queues takes at most one <queue>');
      const { queuesCommand } = await import('../lib/cli/queues.js');
      return queuesCommand(positionals[0]);
    }
    case 'contracts': {
      const { contractsCommand, UsageError } = await import('../lib/cli/contracts.js');
      return contractsCommand(rest).catch((err: unknown) => (err instanceof UsageError ? usage(err.message) : Promise.reject(err)));
    }
    case 'caps': {
      const { capsCommand } = await import('../lib/cli/caps.js');
      const { UsageError } = await import('../lib/cli/contracts.js');
      return capsCommand(rest).catch((err: unknown) => (err instanceof UsageError ? usage(err.message) : Promise.reject(err)));
    }
    case 'dlq': {
      const { dlqCommand } = await import('../lib/cli/dlq.js');
      const { UsageError } = await import('../lib/cli/contracts.js');
      return dlqCommand(rest).catch((err: unknown) => (err instanceof UsageError ? usage(err.message) : Promise.reject(err)));
    }
    case 'review': {
      const { reviewCommand } = await import('../lib/cli/review.js');
      const { UsageError } = await import('../lib/cli/contracts.js');
      return reviewCommand(rest).catch((err: unknown) => (err instanceof UsageError ? usage(err.message) : Promise.reject(err)));
    }
    case 'cost': {
      const { costCommand } = await import('../lib/cli/cost.js');
      const { UsageError } = await import('../lib/cli/contracts.js');
      return costCommand(rest).catch((err: unknown) => (err instanceof UsageError ? usage(err.message) : Promise.reject(err)));
    }
    case 'audit': {
      const { auditCommand } = await import('../lib/cli/audit.js');
      const { UsageError } = await import('../lib/cli/contracts.js');
      return auditCommand(rest).catch((err: unknown) => (err instanceof UsageError ? usage(err.message) : Promise.reject(err)));
    }
    case 'backfill': {
      const { backfillCommand } = await import('../lib/cli/backfill.js');
      const { UsageError } = await import('../lib/cli/contracts.js');
      return backfillCommand(rest).catch((err: unknown) => (err instanceof UsageError ? usage(err.message) : Promise.reject(err)));
    }
    case 'grounding': {
      const { groundingCommand } = await import('../lib/cli/grounding.js');
      const { UsageError } = await import('../lib/cli/contracts.js');
      return groundingCommand(rest).catch((err: unknown) => (err instanceof UsageError ? usage(err.message) : Promise.reject(err)));
    }
    case 'flags': {
      const { flagsCommand } = await import('../lib/cli/flags.js');
      return flagsCommand(join(process.cwd(), 'config', 'flags.local.json'), rest);
    }
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return 0;
    default:
      return usage(`unknown command "${command}"`);
  }
}

function usage(problem: string): number {
  console.error(`seamwork: ${problem}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (String((err as NodeJS.ErrnoException)?.code ?? '').startsWith('ERR_PARSE_ARGS')) process.exit(usage((err as Error).message));
    if ((err as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
      console.error(`seamwork: ${(err as Error).message} — another process (an earlier \`npm start\`?) holds that port; stop it or pass --port.`);
      process.exit(1);
    }
    console.error(`seamwork: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
