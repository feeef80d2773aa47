import { contractFingerprint, detectDrift, describeDrift, safeKey, type DriftFinding, type DriftReport } from '../contracts/drift.js';
import { CardinalityViolation, ContractDrift, ContractViolation } from '../errors.js';
import type { Envelope } from '../envelope.js';
import type { DriftStore, TokenVault } from '../ports.js';
import { containsPii, newRedactionState, redactFields } from '../redact.js';
import { windowDocuments } from '../window.js';
import type { IntegrationLookup, StageOutcome } from './types.js';

/** Dependencies of the validate stage. */
export interface ValidateDeps {
  integration: IntegrationLookup;
  vault: TokenVault;
  /** Drift counts for `seamwork contracts drift`; best effort (a failure is noted, not fatal). */
  drift?: DriftStore;
  now: () => Date;
  /** How long redaction tokens stay restorable. */
  vaultTtlSeconds: number;
}

/** Turns a zod issue path into a JSON pointer. */
export function toPointer(path: ReadonlyArray<PropertyKey>): string {
  return path.length === 0 ? '' : '/' + path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/** A JSON pointer into a vendor payload that is safe to record: keys that could be data are hashed. */
function payloadPointer(path: ReadonlyArray<PropertyKey>): string {
  return toPointer(path.map((p) => (typeof p === 'number' ? p : safeKey(String(p)))));
}

/** The drift part of an audit record: findings and what the policy made of them. */
function driftData(report: DriftReport): Record<string, unknown> {
  return { findings: report.findings, action: report.action ?? null, tolerated: report.tolerated.length, expiredMigrations: report.expiredMigrations.length };
}

/**
 * Layer 1: parse against the versioned contract, detect and act on drift, redact PII, window to
 * the token budget. The raw body leaves the envelope here; the model only ever sees what this
 * stage emits.
 *
 * - A body that is not one JSON object is rejected (cardinality: one record per inference).
 * - A body the contract cannot parse is rejected with the pointer of the first problem, named in
 *   drift terms when drift explains it ("/detail/priority is null; the contract requires …").
 * - A body that parses but drifted goes where the integration's drift policy says: on with a
 *   report, to quarantine, or to the DLQ. Drift covered by an open migration window is reported
 *   and never acted on; drift under an expired window is acted on and counted loudly.
 */
export async function validateStage(envelope: Envelope, deps: ValidateDeps): Promise<StageOutcome> {
  const def = deps.integration(envelope.integration);
  const version = def.contract.version;
  if (!envelope.raw) throw new ContractViolation('The envelope carries no raw body to validate.', { contractVersion: version });

  let body: unknown;
  try {
    body = JSON.parse(envelope.raw.body);
  } catch (err) {
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new ContractViolation(`The body is not valid JSON${position ? ` (at byte ${position})` : ''}.`, { contractVersion: version, pointer: '', cause: err });
  }
  if (Array.isArray(body)) {
    throw new CardinalityViolation(`Expected one ${def.source.vendor} event per webhook, got a batch (an array of ${body.length}); Seamwork makes one decision per record.`, { contractVersion: version, pointer: '' });
  }

  const now = deps.now();
  const fingerprint = contractFingerprint(def.contract);
  const drift = detectDrift(def.contract.schema, body, def.contract.drift, now);
  const driftNote = drift.findings.length > 0 ? await recordDrift(deps, def.name, version, drift.findings, now) : undefined;

  const parsed = def.contract.schema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const pointer = payloadPointer(i.path);
      // A contract's own refinement messages are written by people and could quote the payload:
      // one that carries personal data is replaced by the pointer alone.
      const message = i.code === 'custom' && containsPii(i.message).length > 0 ? 'fails the contract\'s check' : i.message;
      return drift.findings.find((f) => f.pointer === pointer)?.message ?? `${pointer || '/'}: ${message}.`;
    });
    const unique = [...new Set(issues)];
    throw new ContractViolation(
      `The ${def.name} event does not match contract ${version}: ${unique.slice(0, 3).join(' ')}${unique.length > 3 ? ` (+${unique.length - 3} more)` : ''}`,
      { contractVersion: version, pointer: payloadPointer(parsed.error.issues[0]?.path ?? []), detail: { issues: unique, contractFingerprint: fingerprint, drift: driftData(drift), ...(driftNote ? { driftStore: driftNote } : {}) } },
    );
  }

  const acted = drift.findings.filter((f) => !drift.tolerated.includes(f));
  if (drift.action === 'reject' || drift.action === 'quarantine') {
    const first = firstActedOn(acted, def.contract.drift, drift.action);
    const reason = `The ${def.name} event drifted from contract ${version} and its drift policy says ${drift.action}: ${describeDrift(acted)}`;
    if (drift.action === 'reject') {
      throw new ContractDrift(reason, { contractVersion: version, pointer: first.pointer, detail: { contractFingerprint: fingerprint, drift: driftData(drift), ...(driftNote ? { driftStore: driftNote } : {}) } });
    }
    return {
      kind: 'quarantine', envelope, code: 'CONTRACT_DRIFT', reason, pointer: first.pointer, contractVersion: version,
      audit: { kind: 'quarantined', data: { contractVersion: version, contractFingerprint: fingerprint, drift: driftData(drift), ...(driftNote ? { driftStore: driftNote } : {}) } },
    };
  }

  const state = newRedactionState();
  const input = redactFields(parsed.data, def.redactFields, state);
  if (Object.keys(state.tokens).length > 0) {
    await deps.vault.put(envelope.decisionId, state.tokens, deps.vaultTtlSeconds, now);
  }
  const windowed = windowDocuments(def.documents(input), def.windowTokens);

  const next: Envelope = { ...envelope, stage: 'infer', input, contractVersion: version, documents: windowed.documents };
  delete next.raw;
  return {
    kind: 'forward',
    to: 'infer',
    envelope: next,
    audit: {
      kind: 'validated',
      data: {
        contractVersion: version,
        ...(drift.findings.length > 0 ? { drift: driftData(drift) } : {}),
        ...(driftNote ? { driftStore: driftNote } : {}),
        redacted: state.counts,
        window: { budgetTokens: def.windowTokens, totalTokens: windowed.totalTokens, dropped: windowed.dropped },
        input,
        documents: windowed.documents,
      },
    },
  };
}

/** The first finding the policy acted on with `action` (the pointer a rejection names). */
function firstActedOn(acted: DriftFinding[], policy: { default: string; byKind?: Record<string, string | undefined> }, action: string): DriftFinding {
  return acted.find((f) => (policy.byKind?.[f.kind] ?? policy.default) === action) ?? acted[0];
}

/** Counts the findings for `seamwork contracts drift`; a store failure must not lose the event. */
async function recordDrift(deps: ValidateDeps, integration: string, version: string, findings: DriftFinding[], now: Date): Promise<string | undefined> {
  if (!deps.drift) return undefined;
  try {
    await deps.drift.record(integration, version, findings, now);
    return undefined;
  } catch (err) {
    return `drift counts not recorded: ${(err as Error).message}`;
  }
}
