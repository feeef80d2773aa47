import { ConfigurationError, SeamworkError } from '../core/errors.js';
import { FLAG_OFF, FLAGS_STALE_HEADER, IntegrationFlagSchema, type FlagReading } from '../core/flags.js';
import type { FlagSource } from '../core/ports.js';

/** One read of the flags document, and whether the agent said it is its last good version. */
interface DocumentRead {
  at: number;
  doc: Record<string, unknown>;
  stale?: { since: string; why: string };
}

/**
 * Reads flags through the AppConfig agent's HTTP interface (the Lambda extension in AWS, the
 * local agent in `npm start`). The agent caches and polls AppConfig itself, so each read is a
 * localhost call; a flip therefore takes effect within the agent's poll interval, no deploy.
 *
 * Each answer says how it was read (see {@link FlagReading}), so the route's recorded reason is
 * what really happened: a flag the document lacks is not a kill switch, and a last good version
 * the agent serves while it cannot load the current one is marked stale, with since when.
 */
export class AppConfigFlagSource implements FlagSource {
  private last?: DocumentRead;
  /** First stale answer of the current run of stale answers. */
  private staleSince?: string;
  /** First failed read of the current run of failures. */
  private failingSince?: string;

  constructor(private readonly url: string, private readonly maxAgeMs = 1000, private readonly now: () => Date = () => new Date()) {}

  /**
   * The integration's flag. When the flags cannot be read, the answer is the baseline path:
   * an unreadable flag must never turn the AI on (the reason is kept for the audit record).
   */
  async get(integration: string): Promise<FlagReading> {
    let read: DocumentRead;
    try {
      read = await this.document();
      this.failingSince = undefined;
    } catch (err) {
      this.failingSince ??= this.now().toISOString();
      return { ...FLAG_OFF, unavailable: `${(err as Error).message}${this.lastKnown(integration)}`, unavailableSince: this.failingSince };
    }
    const stale = read.stale ? { stale: read.stale } : {};
    if (read.doc[integration] === undefined) return { ...FLAG_OFF, notInDocument: true, ...stale };
    // Each integration's flag is parsed on its own: one malformed flag does not take the others down.
    const parsed = IntegrationFlagSchema.safeParse(read.doc[integration]);
    if (!parsed.success) {
      return { ...FLAG_OFF, unavailable: `the ${integration} flag is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
    }
    return { ...parsed.data, ...stale };
  }

  /** What the last successful read said about the flag, for the reason of a failed read. */
  private lastKnown(integration: string): string {
    if (!this.last) return '';
    const parsed = IntegrationFlagSchema.safeParse(this.last.doc[integration]);
    const flag = parsed.success ? `enabled=${parsed.data.enabled}, ${parsed.data.rolloutPercent}% ${parsed.data.mode}` : 'none usable';
    return `; the last known flag (read ${new Date(this.last.at).toISOString()}: ${flag}) is not used`;
  }

  private async document(): Promise<DocumentRead> {
    if (this.last && this.now().getTime() - this.last.at < this.maxAgeMs) return this.last;
    let res: Response;
    try {
      res = await fetch(this.url, { signal: AbortSignal.timeout(2000) });
    } catch (err) {
      throw new SeamworkError('FLAGS_UNAVAILABLE', `The AppConfig agent at ${this.url} did not answer: ${(err as Error).message}`, true, { cause: err });
    }
    if (!res.ok) throw new SeamworkError('FLAGS_UNAVAILABLE', `The AppConfig agent answered ${res.status}: ${(await res.text()).slice(0, 200)}`, true);
    let doc: unknown;
    try {
      doc = await res.json();
    } catch (err) {
      throw new ConfigurationError(`The flags document is not JSON: ${(err as Error).message}`, { cause: err });
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigurationError('The flags document is not a JSON object.');
    const why = res.headers.get(FLAGS_STALE_HEADER);
    this.staleSince = why ? (this.staleSince ?? this.now().toISOString()) : undefined;
    this.last = { at: this.now().getTime(), doc: doc as Record<string, unknown>, ...(why && this.staleSince ? { stale: { since: this.staleSince, why } } : {}) };
    return this.last;
  }
}
