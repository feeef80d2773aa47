import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { restoreTokens } from '../core/redact.js';
import { SeamworkError, toSeamworkError } from '../core/errors.js';
import type { ActionRequest } from '../core/integration.js';
import { RETENTION_SECONDS } from '../core/time-budgets.js';
import type { ActionExecutor, ActionResult } from '../core/ports.js';
import { executeAction, type ConnectorSettings } from '../connectors/index.js';

/** How long an action's idempotency record is kept: longer than a message can live (4 days queued + 14 in a DLQ). */
const KEEP_SECONDS = RETENTION_SECONDS;

interface ActionCall {
  key: string;
  nonce: string;
  action: ActionRequest;
  tokens: Record<string, string>;
}

/**
 * Layer 5: each action runs at most once per (decision id, action name), through Powertools
 * idempotency on DynamoDB. A repeat returns the stored result; the nonce tells it apart.
 */
export class IdempotentActionExecutor implements ActionExecutor {
  private readonly run: (call: ActionCall) => Promise<{ nonce: string; response: Record<string, unknown> }>;
  private readonly config: IdempotencyConfig;

  constructor(tableName: string, private readonly settings: () => Promise<ConnectorSettings>) {
    const persistenceStore = new DynamoDBPersistenceLayer({ tableName, keyAttr: 'pk', expiryAttr: 'expiresAt' });
    const config = (this.config = new IdempotencyConfig({ eventKeyJmesPath: 'key', expiresAfterSeconds: KEEP_SECONDS, throwOnNoIdempotencyKey: true }));
    this.run = makeIdempotent(
      async (call: ActionCall) => {
        const params = restoreParams(call.action, call.tokens);
        const response = await executeAction({ ...call.action, params }, await this.settings());
        return { nonce: call.nonce, response };
      },
      { persistenceStore, config },
    );
  }

  /** Lets in-progress records expire with the invocation, as Powertools expects. */
  registerLambdaContext(context: Context): void {
    this.config.registerLambdaContext(context);
  }

  async execute(decisionId: string, action: ActionRequest, tokens: Record<string, string>): Promise<ActionResult> {
    const nonce = randomUUID();
    try {
      const out = await this.run({ key: `${decisionId}:${action.name}`, nonce, action, tokens });
      return { action: action.name, status: out.nonce === nonce ? 'executed' : 'duplicate', response: out.response };
    } catch (err) {
      if (err instanceof IdempotencyAlreadyInProgressError) {
        throw new SeamworkError('ACTION_IN_PROGRESS', `Action ${action.name} of ${decisionId} is running elsewhere; retry later.`, true, { cause: err });
      }
      // Powertools wraps the connector's error; keep the connector's retry semantics.
      const inner = (err as { cause?: unknown }).cause;
      throw toSeamworkError(err instanceof SeamworkError ? err : inner instanceof SeamworkError ? inner : err);
    }
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
