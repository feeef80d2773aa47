import { CardinalityViolation, ContractViolation } from '../errors.js';
import type { Envelope } from '../envelope.js';
import type { TokenVault } from '../ports.js';
import { newRedactionState, redactFields } from '../redact.js';
import { windowDocuments } from '../window.js';
import type { IntegrationLookup, StageOutcome } from './types.js';

/** Dependencies of the validate stage. */
export interface ValidateDeps {
  integration: IntegrationLookup;
  vault: TokenVault;
  now: () => Date;
  /** How long redaction tokens stay restorable. */
  vaultTtlSeconds: number;
}

/** Turns a zod issue path into a JSON pointer. */
export function toPointer(path: ReadonlyArray<PropertyKey>): string {
  return path.length === 0 ? '' : '/' + path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/**
 * Layer 1: parse against the versioned contract, redact PII, window to the token budget.
 * The raw body leaves the envelope here; the model only ever sees what this stage emits.
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
    throw new CardinalityViolation(`Expected one ${def.source.vendor} event per webhook, got an array of ${body.length}.`, { contractVersion: version, pointer: '' });
  }

  const parsed = def.contract.schema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const pointer = toPointer(first?.path ?? []);
    const all = parsed.error.issues.map((i) => `${toPointer(i.path) || '/'}: ${i.message}`);
    throw new ContractViolation(
      `The ${def.name} event does not match contract ${version}: ${all.slice(0, 3).join('; ')}${all.length > 3 ? ` (+${all.length - 3} more)` : ''}.`,
      { contractVersion: version, pointer, detail: { issues: all } },
    );
  }

  const state = newRedactionState();
  const input = redactFields(parsed.data, def.redactFields, state);
  if (Object.keys(state.tokens).length > 0) {
    await deps.vault.put(envelope.decisionId, state.tokens, deps.vaultTtlSeconds, deps.now());
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
        redacted: state.counts,
        window: { budgetTokens: def.windowTokens, totalTokens: windowed.totalTokens, dropped: windowed.dropped },
        input,
        documents: windowed.documents,
      },
    },
  };
}
