import { verifyChain, type AuditRecord } from './audit-record.js';
import { describeConflict, findConflicts } from './audit/conflicts.js';
import type { DecisionCheckpointState } from './audit/decision-state.js';
import type { CheckResult } from './envelope.js';

/** What one decision came to, reconstructed from its audit records alone (invariant 6). */
export interface DecisionSummary {
  decisionId: string;
  integration: string;
  outcome?: string;
  path?: string;
  decision?: Record<string, unknown>;
  checks: CheckResult[];
  actions: Array<{ action: string; status: string }>;
  reason?: string;
  code?: string;
  tokens?: { input: number; output: number; cacheRead: number; cacheWrite: number };
  costUsd?: number;
  /** What prompt caching saved on this decision's call. */
  cacheSavingUsd?: number;
  promptHash?: string;
  chainOk: boolean;
  chainProblems: string[];
  /** Two outcome records of one stage at one position: the outcome is undecided, never picked silently. */
  conflicts: string[];
  stages: string[];
}

/** Summarises a decision's audit chain. */
export function summariseDecision(records: AuditRecord[]): DecisionSummary {
  const verdict = verifyChain(records);
  const conflicts = findConflicts(records).map(describeConflict);
  const chain = verdict.chain.length > 0 ? verdict.chain : records;
  const find = (kind: string) => chain.filter((r) => r.kind === kind).at(-1);
  const inferred = find('inferred') ?? find('cost_refused');
  const verified = find('verified');
  const acted = find('acted');
  const last = chain.at(-1);
  const route = inferred?.data.route as { path?: string } | undefined;
  const usage = inferred?.data.usage as { inputTokens: number; outputTokens: number; cacheReadTokens?: number; cacheWriteTokens?: number; costUsd: number } | undefined;
  const prompt = inferred?.data.prompt as { hash?: string } | undefined;
  return {
    decisionId: records[0]?.decisionId ?? 'unknown',
    integration: records[0]?.integration ?? 'unknown',
    outcome: verdict.ok && conflicts.length === 0 ? (last?.data.outcome as string | undefined) : undefined,
    path: route?.path,
    decision: (verified?.data.decision as Record<string, unknown> | undefined) ?? (inferred?.data.response as { toolInput?: Record<string, unknown> } | undefined)?.toolInput,
    checks: (verified?.data.checks as CheckResult[] | undefined) ?? [],
    actions: ((acted?.data.results as Array<{ action: string; status: string }> | undefined) ?? []).map((a) => ({ action: a.action, status: a.status })),
    reason: last?.data.reason as string | undefined,
    code: last?.data.code as string | undefined,
    tokens: usage ? { input: usage.inputTokens, output: usage.outputTokens, cacheRead: usage.cacheReadTokens ?? 0, cacheWrite: usage.cacheWriteTokens ?? 0 } : undefined,
    costUsd: usage?.costUsd,
    cacheSavingUsd: (usage as { cacheSavingUsd?: number } | undefined)?.cacheSavingUsd,
    promptHash: prompt?.hash,
    chainOk: verdict.ok,
    chainProblems: verdict.problems,
    conflicts,
    stages: chain.map((r) => `${r.stage}:${r.kind}`),
  };
}

const short = (v: unknown, n = 160) => {
  // One line per fact: newlines inside vendor text would break the layout.
  const s = (typeof v === 'string' ? v : JSON.stringify(v)).replace(/\s+/g, ' ');
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
};

/** `EMAIL×1, CARD×2`, or `nothing`. */
function redactions(counts: Record<string, number> | undefined): string {
  const found = Object.entries(counts ?? {}).filter(([, n]) => n > 0);
  return found.length ? found.map(([k, n]) => `${k}×${n}`).join(', ') : 'nothing';
}

function outcomeLine(s: DecisionSummary): string {
  if (!s.chainOk) return 'unknown: the audit chain does not verify';
  if (s.conflicts.length > 0) return 'undecided: conflicting outcome records (see conflict)';
  return s.outcome ?? 'in flight';
}

/** One line on where a decision stands against the signed checkpoints. */
export function renderCheckpointState(state: DecisionCheckpointState): string {
  switch (state.state) {
    case 'conflict':
      return `checkpoint CONFLICT — ${state.conflicts.join('; ')}`;
    case 'not-checkpointed':
      return 'checkpoint not yet checkpointed (deleting its last records would not be detected until it is)';
    case 'covered':
      return `checkpoint covered by checkpoint ${state.checkpoint} at head seq ${state.headSeq ?? 'none'}${state.signature === 'unverified' ? ' (signature not verified: no checkpointer key)' : ''}${state.problems.length ? ` — ${state.problems.join('; ')}` : ''}`;
  }
}

/** The whole story of a decision as readable text. */
export function renderTrace(records: AuditRecord[]): string {
  const s = summariseDecision(records);
  const lines: string[] = [];
  lines.push(`decision ${s.decisionId}  (${s.integration})`);
  lines.push(`outcome  ${outcomeLine(s)}${s.path ? `   path ${s.path}` : ''}${s.code ? `   code ${s.code}` : ''}`);
  lines.push(`chain    ${s.chainOk ? 'intact' : 'BROKEN'} — ${records.length} records`);
  for (const p of s.chainProblems) lines.push(`         ${p}`);
  for (const c of s.conflicts) lines.push(`conflict ${c}`);
  lines.push('');
  const verdict = verifyChain(records);
  const onChain = new Set(verdict.chain.map((r) => r.hash));
  for (const r of records) {
    const mark = onChain.has(r.hash) ? ' ' : '↺';
    lines.push(`${mark} #${r.seq} ${r.at}  ${r.stage.padEnd(8)} ${r.kind}  (attempt ${r.attempt}, hash ${r.hash.slice(0, 12)})`);
    const d = r.data as Record<string, any>;
    switch (r.kind) {
      case 'accepted':
        lines.push(`     vendor event ${d.vendorEventId}, tenant ${d.tenant}; raw delivery sealed (${d.bytes} bytes, sha256 ${String(d.body?.sha256 ?? '').slice(0, 16)}…, key in the vault until it expires) with the signature headers`);
        break;
      case 'validated':
        lines.push(`     contract ${d.contractVersion}; redacted ${redactions(d.redacted)}; window ${d.window?.totalTokens}/${d.window?.budgetTokens} tokens${d.window?.dropped?.length ? `, dropped ${short(d.window.dropped)}` : ''}`);
        for (const f of d.drift?.findings ?? []) lines.push(`     drift ${f.kind} ${f.pointer}: ${f.message}`);
        for (const doc of d.documents ?? []) lines.push(`     doc ${doc.id}: ${short(doc.text, 120)}`);
        break;
      case 'quarantined':
      case 'rejected':
        for (const f of (d.drift ?? d.detail?.drift)?.findings ?? []) lines.push(`     drift ${f.kind} ${f.pointer}: ${f.message}`);
        break;
      case 'review_approved':
        lines.push(`     approved by ${d.approvedBy}${d.code ? ` (was ${d.code})` : ''}: ${short(d.reason ?? '', 200)}${d.override ? `; one-off cap override +$${d.override.extraUsd}` : ''}`);
        break;
      case 'redriven':
        lines.push(`     redriven by ${d.by} from ${d.from}; it had been parked with ${d.previous?.code} at ${d.previous?.at}: ${short(d.previous?.reason ?? '', 200)}`);
        break;
      case 'inferred':
      case 'cost_refused':
        lines.push(`     path ${d.route?.path}: ${d.route?.reason}`);
        if (d.prompt) lines.push(`     prompt ${d.prompt.version} hash ${String(d.prompt.hash).slice(0, 16)}; pre-flight worst case $${Number(d.preflight?.worstCaseUsd ?? 0).toFixed(6)} (cap $${d.preflight?.perInferenceCapUsd})`);
        if (d.usage) lines.push(`     model ${d.usage.model}: ${d.usage.inputTokens} in / ${d.usage.outputTokens} out tokens, cache ${d.usage.cacheWriteTokens ?? 0} written / ${d.usage.cacheReadTokens ?? 0} read, $${Number(d.usage.costUsd).toFixed(6)}${d.usage.groundingCalls?.length ? ' with the grounding calls' : ''}${d.usage.cacheSavingUsd !== undefined ? ` (caching ${d.usage.cacheSavingUsd >= 0 ? 'saved' : 'cost'} $${Math.abs(d.usage.cacheSavingUsd).toFixed(6)})` : ''}`);
        if (d.response?.toolInput) lines.push(`     model output ${short(d.response.toolInput, 300)}`);
        for (const r of d.route?.lineage?.refused ?? []) lines.push(`     source kept out of the prompt: ${r.id} (${r.reason})`);
        for (const c of d.groundingCalls ?? []) {
          lines.push(`     grounding call ${c.purpose} (${c.usage?.model}): ${c.usage?.inputTokens} in / ${c.usage?.outputTokens} out tokens, $${Number(c.usage?.costUsd ?? 0).toFixed(6)}${c.response?.error ? ` — failed: ${c.response.error}` : ''}`);
        }
        if (d.shadowRefused) lines.push(`     shadow call refused: ${d.shadowRefused.reason}`);
        if (d.route?.path === 'baseline') lines.push(`     baseline decision ${short(d.baselineDecision, 300)}`);
        break;
      case 'verified':
        if (d.shadow) {
          lines.push(`     shadow: the AI's answer ${d.shadow.blocked ? `would not have acted (${d.shadow.blocked.code})` : 'passed its checks'}; the baseline acts`);
          for (const c of (d.shadow.checks ?? []) as CheckResult[]) lines.push(`       AI check ${c.check}: ${c.verdict} — ${c.detail}`);
        }
        for (const c of (d.checks ?? []) as CheckResult[]) lines.push(`     check ${c.check}: ${c.verdict} — ${c.detail}`);
        if (d.retracted?.length) lines.push(`     retracted ${short(d.retracted, 300)}`);
        if (d.actions) lines.push(`     actions ${d.actions.map((a: { name: string }) => a.name).join(', ') || 'none'}`);
        break;
      case 'acted':
        for (const a of d.results ?? []) lines.push(`     action ${a.action}: ${a.status}`);
        for (const a of d.shadow ?? []) lines.push(`     shadow ${a.action}: recorded, not executed`);
        break;
      default:
        break;
    }
    if (d.outcome) lines.push(`     → ${d.outcome}${d.reason ? `: ${d.reason}` : ''}`);
    if (r.kind === 'attempt_failed') lines.push(`     failed: ${d.code} ${d.message}`);
  }
  return lines.join('\n');
}
