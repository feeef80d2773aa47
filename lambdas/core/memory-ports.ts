import { auditKey, type AuditRecord } from './audit-record.js';
import type { AuditArchive, AuditObject, DeleteMarkerScan } from './audit/archive.js';
import { keyOnce, sameRecord, withWriterMac, type AuditWriter } from './audit/record-mac.js';
import { AuditIntegrityError } from './errors.js';
import { FLAG_OFF, type IntegrationFlag } from './flags.js';
import type { ActionExecutor, ActionResult, AuditStore, CapScope, CostLedger, DriftCount, DriftStore, FlagSource, MetricsSink, QueueSender, ReleasedReservation, Reservation, ReservationHold, TokenPacer, TokenVault } from './ports.js';
import type { ActionRequest } from './integration.js';
import type { BreakerCounts, BreakerSignal, BreakerStore } from './breaker.js';

/**
 * In-memory implementations of the ports, with the same semantics as the AWS ones
 * (write-once audit, atomic caps, expiry compared in code). Used by the eval's dry runs and by
 * unit tests; never by a deployed handler.
 */

/** Options of {@link MemoryAuditStore}. */
export interface MemoryAuditStoreOptions {
  /** Seal every appended record with this writer's MAC. @default none: records are stored as sealed */
  writer?: AuditWriter;
  /** Clock for objects' last-modified times. @default () => new Date() */
  now?: () => Date;
  /** Deletes leave delete markers, as in a versioned S3 bucket. @default false */
  versioned?: boolean;
}

/**
 * Write-once audit log in memory, with the bucket-wide view the verifier and the checkpointer
 * use ({@link AuditArchive}). Appending the very same record again is a no-op (`'exists'`).
 */
export class MemoryAuditStore implements AuditStore, AuditArchive {
  /** Objects under `decisions/`, by key. */
  readonly records = new Map<string, AuditRecord>();
  /** Other objects (checkpoints), by key. */
  readonly objects = new Map<string, unknown>();
  private readonly modified = new Map<string, Date>();
  private readonly markers: Array<{ key: string; at: Date }> = [];
  private readonly writer?: { stage: string; key: () => Promise<Buffer> };
  private readonly now: () => Date;
  private readonly versioned: boolean;

  constructor(options: MemoryAuditStoreOptions = {}) {
    this.writer = options.writer && { stage: options.writer.stage, key: keyOnce(options.writer.key) };
    this.now = options.now ?? (() => new Date());
    this.versioned = options.versioned ?? false;
  }

  async append(record: AuditRecord): Promise<void | 'exists'> {
    return this.appendSealed(record, this.writer);
  }
  private async appendSealed(record: AuditRecord, writer: { stage: string; key: () => Promise<Buffer> } | undefined): Promise<void | 'exists'> {
    const key = auditKey(record);
    // Sealed before the check, so check and write happen in one synchronous step.
    const body = structuredClone(await withWriterMac(record, key, writer));
    const existing = this.records.get(key);
    if (existing) {
      if (sameRecord(existing, record)) return 'exists';
      throw new AuditIntegrityError(`Audit record ${key} already exists with other content; audit records are write-once.`);
    }
    this.put(key, body);
  }
  async listDecision(integration: string, decisionId: string): Promise<AuditRecord[]> {
    const prefix = `decisions/${integration}/${decisionId}/`;
    return [...this.records.entries()].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => a.localeCompare(b)).map(([, r]) => structuredClone(r));
  }
  /** This log as another writer sees it: several stages appending to one bucket, each with its own key. */
  as(writer: AuditWriter): AuditStore {
    const view = new MemoryAuditStore({ writer, now: this.now });
    return { append: (record) => this.appendSealed(record, view.writer), listDecision: (i, d) => this.listDecision(i, d) };
  }

  async *listObjects(prefix: string): AsyncIterable<AuditObject> {
    const keys = [...this.records.keys(), ...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) yield { key, lastModified: this.modified.get(key) ?? new Date(0) };
  }
  async readObject(key: string): Promise<unknown> {
    const body = this.records.get(key) ?? this.objects.get(key);
    if (body === undefined) throw new AuditIntegrityError(`Audit object ${key} does not exist.`);
    return structuredClone(body);
  }
  async writeOnce(key: string, body: unknown): Promise<void> {
    if (this.records.has(key) || this.objects.has(key)) throw new AuditIntegrityError(`Audit object ${key} already exists; audit objects are write-once.`);
    this.put(key, structuredClone(body));
  }
  /** Deletes an object (an operator's power): a delete marker when versioned, gone without a trace otherwise. */
  async deleteObject(key: string): Promise<void> {
    const existed = this.records.delete(key) || this.objects.delete(key);
    this.modified.delete(key);
    if (existed && this.versioned) this.markers.push({ key, at: this.now() });
  }
  async deleteMarkers(prefixes: string[]): Promise<DeleteMarkerScan> {
    if (!this.versioned) return { supported: false, reason: 'this in-memory audit store is not versioned, so a delete leaves no marker.' };
    return { supported: true, markers: this.markers.filter((m) => prefixes.some((p) => m.key.startsWith(p))).map((m) => ({ ...m })) };
  }

  private put(key: string, body: unknown): void {
    if (key.startsWith('decisions/')) this.records.set(key, body as AuditRecord);
    else this.objects.set(key, body);
    this.modified.set(key, this.now());
  }
}

/** A cost ledger in memory: check-and-add in one synchronous step, so it is atomic. */
export class MemoryCostLedger implements CostLedger {
  readonly spent = new Map<string, number>();
  readonly holds = new Map<string, { reservation: Reservation; hold: ReservationHold; expiresAt: number; invoked?: boolean }>();
  async markInvoked(reservation: Reservation): Promise<void> {
    const h = reservation.id !== undefined ? this.holds.get(reservation.id) : undefined;
    if (h) h.invoked = true;
  }
  async reserve(scopes: CapScope[], microUsd: number, hold?: ReservationHold) {
    for (const s of scopes) {
      const cur = this.spent.get(s.key) ?? 0;
      if (cur + microUsd > s.capMicroUsd) return { ok: false as const, refusedBy: s, spentMicroUsd: cur };
    }
    for (const s of scopes) this.spent.set(s.key, (this.spent.get(s.key) ?? 0) + microUsd);
    const reservation: Reservation = { scopes, reservedMicroUsd: microUsd, spentAfterMicroUsd: Object.fromEntries(scopes.map((s) => [s.key, this.spent.get(s.key) ?? 0])), ...(hold ? { id: hold.id } : {}) };
    if (hold) this.holds.set(hold.id, { reservation, hold, expiresAt: hold.now.getTime() + hold.ttlSeconds * 1000 });
    return { ok: true as const, reservation };
  }
  async reconcile(reservation: Reservation, actualMicroUsd: number): Promise<void> {
    // Released already by the sweeper (the whole reservation went back): charge the actual cost in full.
    const released = reservation.id !== undefined && !this.holds.delete(reservation.id);
    const delta = released ? actualMicroUsd : actualMicroUsd - reservation.reservedMicroUsd;
    for (const s of reservation.scopes) this.spent.set(s.key, (this.spent.get(s.key) ?? 0) + delta);
  }
  async releaseExpired(now: Date, limit = 25): Promise<ReleasedReservation[]> {
    const out: ReleasedReservation[] = [];
    for (const [id, h] of this.holds) {
      if (out.length >= limit) break;
      if (h.expiresAt > now.getTime()) continue;
      this.holds.delete(id);
      if (!h.invoked) for (const s of h.reservation.scopes) this.spent.set(s.key, (this.spent.get(s.key) ?? 0) - h.reservation.reservedMicroUsd);
      out.push({ id, decisionId: h.hold.decisionId, reservedMicroUsd: h.reservation.reservedMicroUsd, scopes: h.reservation.scopes.map((s) => s.key), ...(h.invoked ? { charged: true } : {}) });
    }
    return out;
  }
}

/** Fixed flags. */
export class StaticFlagSource implements FlagSource {
  constructor(private readonly flags: Record<string, IntegrationFlag>) {}
  async get(integration: string): Promise<IntegrationFlag> {
    return this.flags[integration] ?? FLAG_OFF;
  }
}

/** Token vault in memory with expiry compared in code. */
export class MemoryTokenVault implements TokenVault {
  private readonly items = new Map<string, { tokens: Record<string, string>; expiresAt: number }>();
  async put(decisionId: string, tokens: Record<string, string>, ttlSeconds: number, now: Date): Promise<void> {
    this.items.set(decisionId, { tokens: { ...tokens }, expiresAt: now.getTime() + ttlSeconds * 1000 });
  }
  async get(decisionId: string, now: Date): Promise<Record<string, string>> {
    const item = this.items.get(decisionId);
    return item && item.expiresAt >= now.getTime() ? { ...item.tokens } : {};
  }
  private readonly keys = new Map<string, { key: Buffer; expiresAt: number }>();
  async putBodyKey(decisionId: string, key: Buffer, ttlSeconds: number, now: Date): Promise<void> {
    this.keys.set(decisionId, { key: Buffer.from(key), expiresAt: now.getTime() + ttlSeconds * 1000 });
  }
  async getBodyKey(decisionId: string, now: Date): Promise<Buffer | undefined> {
    const item = this.keys.get(decisionId);
    return item && item.expiresAt >= now.getTime() ? Buffer.from(item.key) : undefined;
  }
}

/** Records actions instead of executing them; repeats are reported as duplicates. */
export class RecordingExecutor implements ActionExecutor {
  readonly executed: Array<{ decisionId: string; action: ActionRequest }> = [];
  private readonly seen = new Set<string>();
  async execute(decisionId: string, action: ActionRequest): Promise<ActionResult> {
    const key = `${decisionId}:${action.name}`;
    if (this.seen.has(key)) return { action: action.name, status: 'duplicate' };
    this.seen.add(key);
    this.executed.push({ decisionId, action });
    return { action: action.name, status: 'recorded' };
  }
}

/** Collects sent messages per queue. */
export class MemoryQueues implements QueueSender {
  readonly sent: Array<{ queue: string; body: unknown; delaySeconds?: number }> = [];
  async send(queue: string, body: unknown, options: { delaySeconds?: number } = {}): Promise<void> {
    this.sent.push({ queue, body: structuredClone(body), delaySeconds: options.delaySeconds });
  }
  /** Removes and returns the messages sent to one queue. */
  take(queue: string): unknown[] {
    const out = this.sent.filter((m) => m.queue === queue).map((m) => m.body);
    for (let i = this.sent.length - 1; i >= 0; i--) if (this.sent[i].queue === queue) this.sent.splice(i, 1);
    return out;
  }
}

/** Counts metrics in memory. */
export class MemoryMetrics implements MetricsSink {
  readonly counts = new Map<string, number>();
  add(name: string, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }
}

/** In-memory drift counts (tests, eval). */
export class MemoryDriftStore implements DriftStore {
  readonly counts = new Map<string, DriftCount>();

  async record(integration: string, contractVersion: string, findings: Parameters<DriftStore['record']>[2], at: Date): Promise<void> {
    const day = at.toISOString().slice(0, 10);
    for (const f of findings) {
      const tolerated = f.migration !== undefined && !f.migration.expired;
      const key = [integration, day, contractVersion, f.kind, f.field, tolerated].join('#');
      const c = this.counts.get(key) ?? { contractVersion, day, field: f.field, kind: f.kind, count: 0, tolerated, message: f.message };
      this.counts.set(key, { ...c, count: c.count + 1, message: f.message });
    }
  }

  async list(integration: string, since: string): Promise<DriftCount[]> {
    return [...this.counts.entries()]
      .filter(([k, c]) => k.startsWith(`${integration}#`) && c.day >= since)
      .map(([, c]) => c)
      .sort((a, b) => a.day.localeCompare(b.day));
  }
}

/** In-memory circuit breaker counts (tests, eval). */
export class MemoryBreakerStore implements BreakerStore {
  readonly windows = new Map<string, BreakerCounts>();
  readonly markers = new Map<string, { until: number; reason: string }>();
  constructor(private readonly clock: () => Date = () => new Date()) {}
  async add(integration: string, window: number, signal: BreakerSignal): Promise<BreakerCounts> {
    const key = `${integration}#${window}`;
    const c = { ...(this.windows.get(key) ?? { calls: 0, modelErrors: 0, qualityFailures: 0 }) };
    if (signal === 'call') c.calls += 1;
    else if (signal === 'model_error') c.modelErrors += 1;
    else c.qualityFailures += 1;
    this.windows.set(key, c);
    return c;
  }
  async counts(integration: string, window: number): Promise<BreakerCounts> {
    return this.windows.get(`${integration}#${window}`) ?? { calls: 0, modelErrors: 0, qualityFailures: 0 };
  }
  async openUntil(integration: string) {
    return this.markers.get(integration);
  }
  async open(integration: string, until: number, reason: string): Promise<boolean> {
    const cur = this.markers.get(integration);
    if (cur && cur.until > this.clock().getTime()) return false;
    this.markers.set(integration, { until, reason });
    return true;
  }
}

/** In-memory tokens-per-minute budgets (tests). */
export class MemoryTokenPacer implements TokenPacer {
  readonly used = new Map<string, number>();
  async take(key: string, tokens: number, limit: number, now: Date) {
    const minute = Math.floor(now.getTime() / 60_000);
    const k = `${key}#${minute}`;
    const cur = this.used.get(k) ?? 0;
    if (cur + tokens > limit) return { ok: false as const, retryAfterSeconds: Math.max(1, Math.ceil(((minute + 1) * 60_000 - now.getTime()) / 1000)), usedThisMinute: cur };
    this.used.set(k, cur + tokens);
    return { ok: true as const };
  }
}
