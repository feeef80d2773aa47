import { ConnectorRejected, SeamworkError } from './errors.js';
import type { ActionRequest } from './integration.js';
import type { ActionExecutor, ActionLedger, ActionResult } from './ports.js';
import { restoreTokens } from './redact.js';
import { InvocationExpired, type FaultInjector } from './stage-runner.js';

/** Identity of one action of one decision at the vendor (the marker an action leaves, the vendor's idempotency key). */
export interface VendorActionContext {
  decisionId: string;
  /** Stable per (decision, action) across attempts, deploys and redrives. */
  idempotencyKey: string;
  /** The earliest time an earlier attempt could have sent it (bounds a history look-up). */
  notBefore?: Date;
}

/** The vendor side of an action, as the act stage needs it. */
export interface ConnectorPort {
  execute(action: ActionRequest, ctx: VendorActionContext): Promise<Record<string, unknown>>;
  /** Looks at the vendor for the effect of an earlier attempt whose outcome is unknown. */
  reconcile(action: ActionRequest, ctx: VendorActionContext): Promise<{ found: true; response: Record<string, unknown> } | { found: false }>;
}

/** Options of {@link ExactlyOnceExecutor}. */
export interface ExactlyOnceOptions {
  ledger: ActionLedger;
  connector: ConnectorPort;
  now: () => Date;
  /**
   * How long an attempt holds an action: longer than a connector call can last, so a lapsed lease
   * means the attempt died (it is then reconciled with the vendor before anything is sent again).
   */
  leaseMs: () => number;
  faults?: FaultInjector;
  /** What is left of the invocation; past 0 nothing more is sent (see InvocationExpired). @default unbounded */
  remainingMs?: () => number | undefined;
}

/** The idempotency key of one action of one decision: versioned, never a function name. */
export function actionKey(decisionId: string, action: Pick<ActionRequest, 'name'>): string {
  return `seamwork:v1:${decisionId}:${action.name}`;
}

/**
 * Layer 5: each action runs once at the vendor per (decision, action). The ledger says what is
 * known; where an earlier attempt's outcome is unknown (it timed out after sending, the vendor
 * answered 5xx after committing, the process died after the call), the connector reconciles with
 * the vendor — its marker, its idempotency key or its state — before anything is sent again.
 */
export class ExactlyOnceExecutor implements ActionExecutor {
  constructor(private readonly opts: ExactlyOnceOptions) {}

  async execute(decisionId: string, action: ActionRequest, tokens: Record<string, string>): Promise<ActionResult> {
    const { ledger, connector } = this.opts;
    const key = actionKey(decisionId, action);
    const taken = await ledger.take(key, { leaseMs: this.opts.leaseMs(), now: this.opts.now() });
    if (!taken.ok) {
      if (taken.state.state === 'done') return { action: action.name, status: 'duplicate', response: taken.state.response };
      throw new SeamworkError('ACTION_IN_PROGRESS', `Action ${action.name} of ${decisionId} is being sent by another attempt; retry later.`, true);
    }
    const sent = { ...action, params: restoreParams(action, tokens) };
    const ctx: VendorActionContext = { decisionId, idempotencyKey: key, ...(taken.unknown ? { notBefore: new Date(taken.firstAt) } : {}) };
    if (taken.unknown) {
      const found = await this.reconcile(key, taken.token, sent, ctx);
      if (found) return { action: action.name, status: 'reconciled', response: found };
    }
    const left = this.opts.remainingMs?.();
    if (left !== undefined && left <= 0) {
      await ledger.release(key, taken.token);
      throw new InvocationExpired(decisionId);
    }
    let response: Record<string, unknown>;
    try {
      response = await connector.execute(sent, ctx);
    } catch (err) {
      // The vendor refused it outright (a 4xx): nothing was committed, and the next attempt need
      // not reconcile. Anything else leaves the outcome unknown: the next attempt reconciles first.
      if (err instanceof ConnectorRejected) await ledger.forget(key, taken.token);
      else await ledger.release(key, taken.token);
      throw err;
    }
    this.opts.faults?.crash('after-vendor-call', decisionId);
    await ledger.done(key, response, 'executed', this.opts.now());
    return { action: action.name, status: 'executed', response };
  }

  private async reconcile(key: string, token: string, action: ActionRequest, ctx: VendorActionContext): Promise<Record<string, unknown> | undefined> {
    let found: Awaited<ReturnType<ConnectorPort['reconcile']>>;
    try {
      found = await this.opts.connector.reconcile(action, ctx);
    } catch (err) {
      await this.opts.ledger.release(key, token);
      throw err;
    }
    if (!found.found) return undefined;
    const response = { ...found.response, reconciled: true };
    await this.opts.ledger.done(key, response, 'reconciled', this.opts.now());
    return response;
  }
}

/**
 * Restores vault tokens, for the connector call only (never logged or audited), and only in the
 * parameters and token kinds the action names: free text written by the model stays tokenised.
 */
export function restoreParams(action: ActionRequest, tokens: Record<string, string>): Record<string, unknown> {
  const allowed = action.restore;
  if (!allowed || Object.keys(tokens).length === 0) return action.params;
  const walk = (v: unknown): unknown =>
    typeof v === 'string' ? restoreTokens(v, tokens, allowed.kinds) : Array.isArray(v) ? v.map(walk) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)])) : v;
  return Object.fromEntries(Object.entries(action.params).map(([k, v]) => [k, allowed.params.includes(k) ? walk(v) : v]));
}
