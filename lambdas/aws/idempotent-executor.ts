import { executeAction, reconcileAction, type ConnectorSettings } from '../connectors/index.js';
import { ExactlyOnceExecutor, type ConnectorPort } from '../core/exactly-once.js';
import type { FaultInjector } from '../core/stage-runner.js';
import { CONNECTOR_TIMEOUT_MS } from '../core/time-budgets.js';
import { DynamoActionLedger } from './dynamo-ledgers.js';

/** The connectors behind the act stage's port, with settings and secrets read when first needed. */
export function connectorPort(settings: () => Promise<ConnectorSettings>): ConnectorPort {
  return {
    execute: async (action, ctx) => executeAction(action, await settings(), ctx),
    reconcile: async (action, ctx) => reconcileAction(action, await settings(), ctx),
  };
}

/**
 * Layer 5 in AWS: actions exactly once at the vendor, their progress on the idempotency table
 * (keys `seamwork/v1/action#seamwork:v1:<decision>:<action>`: stable across deploys). An
 * attempt's lease covers a connector call with room to spare; reconciling reads the vendor first.
 */
export function dynamoActionExecutor(
  tableName: string, settings: () => Promise<ConnectorSettings>, opts: { remainingMs?: () => number | undefined; faults?: FaultInjector } = {},
): ExactlyOnceExecutor {
  // The invocation cannot outlive its remaining time: past it, the attempt is dead for sure.
  const leaseMs = () => opts.remainingMs?.() ?? 3 * CONNECTOR_TIMEOUT_MS;
  return new ExactlyOnceExecutor({
    ledger: new DynamoActionLedger(tableName), connector: connectorPort(settings), now: () => new Date(), leaseMs, ...(opts.faults ? { faults: opts.faults } : {}),
    ...(opts.remainingMs ? { remainingMs: opts.remainingMs } : {}),
  });
}
