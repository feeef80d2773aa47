import { randomUUID } from 'node:crypto';
import type { ActionLedger, ActionState, ActionTake, StageClaim, StageCommit, StageLedger } from './ports.js';

/**
 * In-memory stage and action ledgers with the same semantics as the DynamoDB ones (leases
 * compared in code, commits conditional on the lease). Used by unit tests and dry runs.
 */

interface StageItem {
  token?: string;
  leaseUntil?: number;
  memo: Record<string, unknown>;
  commit?: StageCommit;
  handedOn?: boolean;
}

/** A stage ledger in memory. */
export class MemoryStageLedger implements StageLedger {
  readonly items = new Map<string, StageItem>();

  async claim(key: string, opts: { leaseSeconds: number; now: Date }): Promise<StageClaim> {
    const item = this.items.get(key) ?? { memo: {} };
    const now = opts.now.getTime();
    if (item.commit) {
      const commit = structuredClone(item.commit);
      if (item.handedOn || (item.leaseUntil ?? 0) > now) return { kind: 'completed', commit, handedOn: item.handedOn ?? false };
      // The delivery that committed died before applying it all: this one takes the applying over.
      const applyToken = randomUUID();
      item.token = applyToken;
      item.leaseUntil = now + opts.leaseSeconds * 1000;
      return { kind: 'completed', commit, handedOn: false, applyToken };
    }
    if (item.token && (item.leaseUntil ?? 0) > now) return { kind: 'busy', leaseUntil: item.leaseUntil! };
    const token = randomUUID();
    this.items.set(key, { ...item, token, leaseUntil: now + opts.leaseSeconds * 1000 });
    return { kind: 'claimed', token, memo: structuredClone(item.memo) };
  }

  async remember(key: string, token: string, step: string, value: unknown): Promise<void> {
    const item = this.items.get(key);
    if (item?.token !== token) return;
    item.memo[step] = structuredClone(value);
  }

  async complete(key: string, token: string, commit: StageCommit): Promise<boolean> {
    const item = this.items.get(key);
    if (!item || item.commit || item.token !== token) return false;
    item.commit = structuredClone(commit);
    return true;
  }

  async release(key: string, token: string): Promise<void> {
    const item = this.items.get(key);
    if (item?.token === token) {
      item.token = undefined;
      item.leaseUntil = undefined;
    }
  }

  async markHandedOn(key: string): Promise<void> {
    const item = this.items.get(key);
    if (item) item.handedOn = true;
  }
}

/** An action ledger in memory. */
export class MemoryActionLedger implements ActionLedger {
  readonly items = new Map<string, ActionState & { token?: string }>();
  async get(key: string): Promise<ActionState> {
    const { token: _t, ...state } = this.items.get(key) ?? { state: 'none' as const };
    return structuredClone(state) as ActionState;
  }
  async take(key: string, opts: { leaseMs: number; now: Date }): Promise<ActionTake> {
    const cur = this.items.get(key);
    const now = opts.now.getTime();
    if (cur?.state === 'done' || (cur?.state === 'sending' && cur.leaseUntil > now)) return { ok: false, state: await this.get(key) };
    const token = randomUUID();
    const firstAt = cur?.state === 'sending' ? cur.firstAt : opts.now.toISOString();
    this.items.set(key, { state: 'sending', firstAt, attempts: (cur?.state === 'sending' ? cur.attempts : 0) + 1, leaseUntil: now + opts.leaseMs, token });
    return cur?.state === 'sending' ? { ok: true, token, unknown: true, firstAt } : { ok: true, token, unknown: false };
  }
  async release(key: string, token: string): Promise<void> {
    const cur = this.items.get(key);
    if (cur?.state === 'sending' && cur.token === token) this.items.set(key, { ...cur, leaseUntil: 0, token: undefined });
  }
  async forget(key: string, token: string): Promise<void> {
    const cur = this.items.get(key);
    if (cur?.state === 'sending' && cur.token === token) this.items.delete(key);
  }
  async done(key: string, response: Record<string, unknown>, via: 'executed' | 'reconciled', now: Date): Promise<void> {
    this.items.set(key, { state: 'done', at: now.toISOString(), response: structuredClone(response), via });
  }
}
