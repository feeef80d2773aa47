import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SeamworkError } from '../core/errors.js';
import type { CapScope, CostLedger, DedupeClaim, DedupeStore, DriftCount, DriftStore, ReleasedReservation, Reservation, ReservationHold, TokenPacer, TokenVault } from '../core/ports.js';
import { dynamoClient } from './clients.js';
import type { BreakerCounts, BreakerSignal, BreakerStore } from '../core/breaker.js';
import type { TenantCaps, TenantCapsStore } from '../core/caps.js';

/**
 * DynamoDB adapters. TTL (`expiresAt`, epoch seconds) only cleans up: expiry is always compared
 * in code, because DynamoDB deletes expired items lazily (and local emulators never do).
 */

const epoch = (d: Date) => Math.floor(d.getTime() / 1000);
const isConditionFailure = (err: unknown) => err instanceof ConditionalCheckFailedException || (err as Error)?.name === 'ConditionalCheckFailedException';
const storeError = (what: string, err: unknown) => new SeamworkError('STORE_UNAVAILABLE', `${what}: ${(err as Error).message}`, true, { cause: err });

/** Ingest dedupe on conditional writes, in two phases (pending with a lease, then enqueued). */
export class DynamoDedupeStore implements DedupeStore {
  constructor(private readonly table: string) {}

  async claim(key: string, decisionId: string, opts: { ttlSeconds: number; leaseSeconds: number; now: Date }): Promise<DedupeClaim> {
    const pk = `dedupe#${key}`;
    const now = epoch(opts.now);
    try {
      await dynamoClient().send(
        new PutCommand({
          TableName: this.table,
          Item: { pk, decisionId, state: 'pending', leaseUntil: now + opts.leaseSeconds, claimedAt: opts.now.toISOString(), expiresAt: now + opts.ttlSeconds },
          // Free, expired, or pending with a lapsed lease (its claimer died before enqueueing).
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR (#state = :pending AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':now': now, ':pending': 'pending' },
        }),
      );
      return { claimed: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw storeError('Dedupe claim failed', err);
      const existing = await dynamoClient().send(new GetCommand({ TableName: this.table, Key: { pk }, ConsistentRead: true }));
      return { claimed: false, decisionId: String(existing.Item?.decisionId ?? 'unknown'), state: existing.Item?.state === 'pending' ? 'pending' : 'enqueued' };
    }
  }

  async confirm(key: string, decisionId: string): Promise<void> {
    try {
      await dynamoClient().send(
        new UpdateCommand({
          TableName: this.table, Key: { pk: `dedupe#${key}` }, UpdateExpression: 'SET #state = :enqueued REMOVE leaseUntil',
          ConditionExpression: 'decisionId = :d', ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':enqueued': 'enqueued', ':d': decisionId },
        }),
      );
    } catch (err) {
      throw storeError(`Dedupe confirm of ${decisionId} failed`, err);
    }
  }

  async release(key: string, decisionId: string): Promise<void> {
    try {
      await dynamoClient().send(
        new DeleteCommand({ TableName: this.table, Key: { pk: `dedupe#${key}` }, ConditionExpression: 'decisionId = :d', ExpressionAttributeValues: { ':d': decisionId } }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw storeError('Dedupe release failed', err);
    }
  }
}

/**
 * The cost ledger: integer micro-dollars per scope, reserved with a conditional atomic ADD so
 * concurrent reservations can never overshoot a cap. Several scopes are reserved in order and
 * rolled back on refusal (no transactions: they are not available on every local emulator).
 *
 * A reservation with a hold is then recorded (`resv#<id>`, with its scopes, amount and expiry).
 * Reconcile deletes that record conditionally and applies the difference; the sweeper
 * ({@link releaseExpired}) deletes expired ones conditionally and gives their amount back. The
 * conditional delete decides who owns the release, so the two can race safely: a reconcile that
 * finds its record gone charges the actual cost in full. A crash between the scope ADDs and the
 * record leaves the amount reserved until the day's scope rolls over — too high, never too low.
 */
export class DynamoCostLedger implements CostLedger {
  constructor(private readonly table: string) {}

  async reserve(scopes: CapScope[], microUsd: number, hold?: ReservationHold) {
    const done: CapScope[] = [];
    const spentAfter: Record<string, number> = {};
    for (const scope of scopes) {
      const ok = await this.add(scope, microUsd, true);
      if (!ok.ok) {
        for (const d of done) await this.add(d, -microUsd, false);
        return { ok: false as const, refusedBy: scope, spentMicroUsd: ok.spent };
      }
      spentAfter[scope.key] = ok.spent;
      done.push(scope);
    }
    if (hold) {
      try {
        await dynamoClient().send(new PutCommand({
          TableName: this.table,
          Item: {
            pk: `resv#${hold.id}`, decisionId: hold.decisionId, integration: hold.integration, tenant: hold.tenant, reservedMicro: microUsd,
            scopes: scopes.map((s) => ({ key: s.key, capMicroUsd: s.capMicroUsd })), createdAt: hold.now.toISOString(), expiresAt: epoch(hold.now) + hold.ttlSeconds,
          },
        }));
      } catch (err) {
        // The put may have landed although the client saw an error: remove it first, and roll
        // the scopes back only if that answer is certain; otherwise the sweeper releases it.
        const certain = await this.deleteHold(hold.id).then(() => true, () => false);
        if (certain) for (const d of done) await this.add(d, -microUsd, false).catch(() => undefined);
        throw storeError('Recording a reservation failed', err);
      }
    }
    return { ok: true as const, reservation: { scopes, reservedMicroUsd: microUsd, spentAfterMicroUsd: spentAfter, ...(hold ? { id: hold.id } : {}) } };
  }

  async reconcile(reservation: Reservation, actualMicroUsd: number): Promise<void> {
    let delta = actualMicroUsd - reservation.reservedMicroUsd;
    if (reservation.id !== undefined) {
      const owned = await this.deleteHold(reservation.id);
      // The sweeper released the whole reservation first: the actual cost is charged in full.
      if (!owned) delta = actualMicroUsd;
    }
    if (delta === 0) return;
    for (const scope of reservation.scopes) await this.add(scope, delta, false);
  }

  async releaseExpired(now: Date, limit = 25): Promise<ReleasedReservation[]> {
    const released: ReleasedReservation[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await dynamoClient().send(new ScanCommand({
        TableName: this.table,
        FilterExpression: 'begins_with(pk, :p) AND expiresAt < :now',
        ExpressionAttributeValues: { ':p': 'resv#', ':now': epoch(now) },
        ExclusiveStartKey: start,
      }));
      for (const item of res.Items ?? []) {
        if (released.length >= limit) return released;
        const id = String(item.pk).slice('resv#'.length);
        if (!(await this.deleteHold(id))) continue; // reconciled meanwhile
        const amount = Number(item.reservedMicro);
        const scopes = (item.scopes ?? []) as CapScope[];
        // Invoked: the model may have billed; the worst case stays as spend (too high, never too low).
        const charged = item.invoked === true;
        if (!charged) for (const scope of scopes) await this.add(scope, -amount, false);
        released.push({ id, decisionId: String(item.decisionId), reservedMicroUsd: amount, scopes: scopes.map((s) => s.key), ...(charged ? { charged } : {}) });
      }
      start = res.LastEvaluatedKey;
    } while (start);
    return released;
  }

  async markInvoked(reservation: Reservation): Promise<void> {
    if (reservation.id === undefined) return;
    try {
      await dynamoClient().send(new UpdateCommand({
        TableName: this.table, Key: { pk: `resv#${reservation.id}` }, UpdateExpression: 'SET invoked = :t',
        ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':t': true },
      }));
    } catch (err) {
      if (!isConditionFailure(err)) throw storeError(`Marking reservation ${reservation.id} invoked failed`, err);
    }
  }

  /** Deletes a reservation record if it is still there; true when this call deleted it. */
  private async deleteHold(id: string): Promise<boolean> {
    try {
      await dynamoClient().send(new DeleteCommand({ TableName: this.table, Key: { pk: `resv#${id}` }, ConditionExpression: 'attribute_exists(pk)' }));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw storeError(`Releasing reservation ${id} failed`, err);
    }
  }

  /** Spent micro-dollars in one scope (for the CLI and tests). */
  async spent(key: string): Promise<number> {
    const res = await dynamoClient().send(new GetCommand({ TableName: this.table, Key: { pk: `ledger#${key}` }, ConsistentRead: true }));
    return Number(res.Item?.spentMicro ?? 0);
  }

  private async add(scope: CapScope, amount: number, guard: boolean): Promise<{ ok: true; spent: number } | { ok: false; spent: number }> {
    const pk = `ledger#${scope.key}`;
    if (guard && amount > scope.capMicroUsd) return { ok: false, spent: await this.spent(scope.key) };
    try {
      const res = await dynamoClient().send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk },
          UpdateExpression: 'ADD spentMicro :a SET capMicro = :cap',
          ...(guard ? { ConditionExpression: 'attribute_not_exists(spentMicro) OR spentMicro <= :limit' } : {}),
          ExpressionAttributeValues: { ':a': amount, ':cap': scope.capMicroUsd, ...(guard ? { ':limit': scope.capMicroUsd - amount } : {}) },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return { ok: true, spent: Number(res.Attributes?.spentMicro ?? 0) };
    } catch (err) {
      if (guard && isConditionFailure(err)) return { ok: false, spent: await this.spent(scope.key) };
      throw storeError(`Ledger update of ${scope.key} failed`, err);
    }
  }
}

/** The PII token vault: originals of redaction tokens, restorable by the act stage only. */
export class DynamoTokenVault implements TokenVault {
  constructor(private readonly table: string) {}

  async put(decisionId: string, tokens: Record<string, string>, ttlSeconds: number, now: Date): Promise<void> {
    try {
      await dynamoClient().send(new PutCommand({ TableName: this.table, Item: { pk: `vault#${decisionId}`, tokens, expiresAt: epoch(now) + ttlSeconds } }));
    } catch (err) {
      throw storeError('Token vault write failed', err);
    }
  }

  async get(decisionId: string, now: Date): Promise<Record<string, string>> {
    const res = await dynamoClient().send(new GetCommand({ TableName: this.table, Key: { pk: `vault#${decisionId}` }, ConsistentRead: true }));
    if (!res.Item || Number(res.Item.expiresAt) < epoch(now)) return {};
    return res.Item.tokens as Record<string, string>;
  }

  async putBodyKey(decisionId: string, key: Buffer, ttlSeconds: number, now: Date): Promise<void> {
    try {
      await dynamoClient().send(new PutCommand({ TableName: this.table, Item: { pk: `bodykey#${decisionId}`, key: key.toString('base64'), expiresAt: epoch(now) + ttlSeconds } }));
    } catch (err) {
      throw storeError('Body key write failed', err);
    }
  }

  async getBodyKey(decisionId: string, now: Date): Promise<Buffer | undefined> {
    const res = await dynamoClient().send(new GetCommand({ TableName: this.table, Key: { pk: `bodykey#${decisionId}` }, ConsistentRead: true }));
    if (!res.Item || Number(res.Item.expiresAt) < epoch(now)) return undefined;
    return Buffer.from(String(res.Item.key), 'base64');
  }
}

/** How long drift counts are kept: long enough to compare this quarter with the last. */
export const DRIFT_RETENTION_DAYS = 400;

/**
 * Drift counts: one item per integration, day, contract version, kind, field and tolerance,
 * counted with atomic ADDs so concurrent validate invocations never lose an increment.
 * pk `drift#<integration>`, sk `<day>#<version>#<kind>#<tolerated>#<field>`.
 */
export class DynamoDriftStore implements DriftStore {
  constructor(private readonly table: string) {}

  async record(integration: string, contractVersion: string, findings: Parameters<DriftStore['record']>[2], at: Date): Promise<void> {
    const day = at.toISOString().slice(0, 10);
    try {
      await Promise.all(findings.map((f) => {
        const tolerated = f.migration !== undefined && !f.migration.expired;
        return dynamoClient().send(new UpdateCommand({
          TableName: this.table,
          Key: { pk: `drift#${integration}`, sk: `${day}#${contractVersion}#${f.kind}#${tolerated ? 'tolerated' : 'drift'}#${f.field}` },
          UpdateExpression: 'ADD #count :one SET contractVersion = :v, #day = :day, #field = :field, kind = :kind, tolerated = :t, message = :m, expiresAt = :exp',
          ExpressionAttributeNames: { '#count': 'count', '#day': 'day', '#field': 'field' },
          ExpressionAttributeValues: {
            ':one': 1, ':v': contractVersion, ':day': day, ':field': f.field, ':kind': f.kind, ':t': tolerated, ':m': f.message,
            ':exp': epoch(at) + DRIFT_RETENTION_DAYS * 86_400,
          },
        }));
      }));
    } catch (err) {
      throw storeError('Recording drift failed', err);
    }
  }

  async list(integration: string, since: string): Promise<DriftCount[]> {
    const out: DriftCount[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await dynamoClient().send(new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk >= :since',
        ExpressionAttributeValues: { ':pk': `drift#${integration}`, ':since': since },
        ExclusiveStartKey: start,
      }));
      for (const i of res.Items ?? []) {
        out.push({ contractVersion: String(i.contractVersion), day: String(i.day), field: String(i.field), kind: String(i.kind), count: Number(i.count), tolerated: Boolean(i.tolerated), message: String(i.message ?? '') });
      }
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }
}

/**
 * Circuit breaker counts in the ledger table: `breaker#<integration>#w#<window>` with atomic ADDs
 * (calls, modelErrors, qualityFailures), and `breaker#<integration>#open` with `until` (epoch ms)
 * and the reason, written only when not already open so one opening is counted once.
 */
export class DynamoBreakerStore implements BreakerStore {
  constructor(private readonly table: string) {}

  async add(integration: string, window: number, signal: BreakerSignal, ttlSeconds: number): Promise<BreakerCounts> {
    const field = signal === 'call' ? 'calls' : signal === 'model_error' ? 'modelErrors' : 'qualityFailures';
    try {
      const res = await dynamoClient().send(new UpdateCommand({
        TableName: this.table,
        Key: { pk: `breaker#${integration}#w#${window}` },
        UpdateExpression: 'ADD #f :one SET expiresAt = if_not_exists(expiresAt, :exp)',
        ExpressionAttributeNames: { '#f': field },
        ExpressionAttributeValues: { ':one': 1, ':exp': Math.floor(Date.now() / 1000) + ttlSeconds },
        ReturnValues: 'ALL_NEW',
      }));
      return countsOf(res.Attributes);
    } catch (err) {
      throw storeError('Recording a breaker signal failed', err);
    }
  }

  async counts(integration: string, window: number): Promise<BreakerCounts> {
    const res = await dynamoClient().send(new GetCommand({ TableName: this.table, Key: { pk: `breaker#${integration}#w#${window}` } }));
    return countsOf(res.Item);
  }

  async openUntil(integration: string): Promise<{ until: number; reason: string } | undefined> {
    const res = await dynamoClient().send(new GetCommand({ TableName: this.table, Key: { pk: `breaker#${integration}#open` } }));
    return res.Item ? { until: Number(res.Item.until), reason: String(res.Item.reason) } : undefined;
  }

  async open(integration: string, until: number, reason: string): Promise<boolean> {
    try {
      await dynamoClient().send(new PutCommand({
        TableName: this.table,
        Item: { pk: `breaker#${integration}#open`, until, reason, openedAt: new Date().toISOString(), expiresAt: Math.floor(until / 1000) + 86_400 },
        ConditionExpression: 'attribute_not_exists(pk) OR #until < :now',
        ExpressionAttributeNames: { '#until': 'until' },
        ExpressionAttributeValues: { ':now': Date.now() },
      }));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw storeError('Opening the breaker failed', err);
    }
  }
}

function countsOf(item: Record<string, unknown> | undefined): BreakerCounts {
  return { calls: Number(item?.calls ?? 0), modelErrors: Number(item?.modelErrors ?? 0), qualityFailures: Number(item?.qualityFailures ?? 0) };
}

/**
 * Tenant caps set at run time, in the ledger table: `caps#tenant#<tenant>` with the current caps
 * and the history of every change (who, when, why), so raising a tenant needs no deploy and
 * leaves a trail.
 */
export class DynamoTenantCapsStore implements TenantCapsStore {
  constructor(private readonly table: string) {}

  async get(tenant: string): Promise<TenantCaps | undefined> {
    const res = await dynamoClient().send(new GetCommand({ TableName: this.table, Key: { pk: `caps#tenant#${tenant}` } }));
    return res.Item?.current as TenantCaps | undefined;
  }

  async set(tenant: string, caps: TenantCaps): Promise<void> {
    await this.write(tenant, caps, caps);
  }

  async clear(tenant: string, by: { setBy: string; setAt: string; reason: string }): Promise<void> {
    await this.write(tenant, undefined, { ...by });
  }

  async list(): Promise<Array<{ tenant: string; caps: TenantCaps; history: TenantCaps[] }>> {
    const out: Array<{ tenant: string; caps: TenantCaps; history: TenantCaps[] }> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await dynamoClient().send(new ScanCommand({ TableName: this.table, FilterExpression: 'begins_with(pk, :p)', ExpressionAttributeValues: { ':p': 'caps#tenant#' }, ExclusiveStartKey: start }));
      for (const i of res.Items ?? []) if (i.current) out.push({ tenant: String(i.pk).slice('caps#tenant#'.length), caps: i.current as TenantCaps, history: (i.history ?? []) as TenantCaps[] });
      start = res.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.tenant.localeCompare(b.tenant));
  }

  private async write(tenant: string, current: TenantCaps | undefined, entry: TenantCaps): Promise<void> {
    const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
    current = current ? defined(current) : undefined;
    entry = defined(entry);
    try {
      await dynamoClient().send(new UpdateCommand({
        TableName: this.table,
        Key: { pk: `caps#tenant#${tenant}` },
        UpdateExpression: current ? 'SET #c = :c, history = list_append(if_not_exists(history, :empty), :e)' : 'REMOVE #c SET history = list_append(if_not_exists(history, :empty), :e)',
        ExpressionAttributeNames: { '#c': 'current' },
        ExpressionAttributeValues: { ...(current ? { ':c': current } : {}), ':e': [entry], ':empty': [] },
      }));
    } catch (err) {
      throw storeError(`Setting the caps of ${tenant} failed`, err);
    }
  }
}

/**
 * Tokens-per-minute budgets in the ledger table: `tpm#<key>#<minute>` with a conditional atomic
 * ADD, so concurrent invocations share one budget exactly; items expire after a few minutes.
 */
export class DynamoTokenPacer implements TokenPacer {
  constructor(private readonly table: string) {}

  async take(key: string, tokens: number, limit: number, now: Date) {
    const minute = Math.floor(now.getTime() / 60_000);
    const pk = `tpm#${key}#${minute}`;
    const retryAfterSeconds = Math.max(1, Math.ceil(((minute + 1) * 60_000 - now.getTime()) / 1000));
    if (tokens > limit) return { ok: false as const, retryAfterSeconds, usedThisMinute: 0 };
    try {
      await dynamoClient().send(new UpdateCommand({
        TableName: this.table,
        Key: { pk },
        UpdateExpression: 'ADD used :t SET expiresAt = :exp',
        ConditionExpression: 'attribute_not_exists(used) OR used <= :room',
        ExpressionAttributeValues: { ':t': tokens, ':room': limit - tokens, ':exp': epoch(now) + 300 },
      }));
      return { ok: true as const };
    } catch (err) {
      if (!isConditionFailure(err)) throw storeError('Taking from the tokens-per-minute budget failed', err);
      const res = await dynamoClient().send(new GetCommand({ TableName: this.table, Key: { pk }, ConsistentRead: true }));
      return { ok: false as const, retryAfterSeconds, usedThisMinute: Number(res.Item?.used ?? 0) };
    }
  }
}
