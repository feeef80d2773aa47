import { ConfigurationError, SeamworkError } from '../core/errors.js';
import { FLAG_OFF, IntegrationFlagSchema, type IntegrationFlag } from '../core/flags.js';
import type { FlagSource } from '../core/ports.js';

/**
 * Reads flags through the AppConfig agent's HTTP interface (the Lambda extension in AWS, the
 * local agent in `npm start`). The agent caches and polls AppConfig itself, so each read is a
 * localhost call; a flip therefore takes effect within the agent's poll interval, no deploy.
 */
export class AppConfigFlagSource implements FlagSource {
  private last?: { at: number; doc: Record<string, unknown> };

  constructor(private readonly url: string, private readonly maxAgeMs = 1000) {}

  /**
   * The integration's flag. When the flags cannot be read, the answer is the baseline path:
   * an unreadable flag must never turn the AI on (the reason is kept for the audit record).
   */
  async get(integration: string): Promise<IntegrationFlag & { unavailable?: string }> {
    try {
      const doc = await this.document();
      if (doc[integration] === undefined) return FLAG_OFF;
      // Each integration's flag is parsed on its own: one malformed flag does not take the others down.
      const parsed = IntegrationFlagSchema.safeParse(doc[integration]);
      if (!parsed.success) return { ...FLAG_OFF, unavailable: `the ${integration} flag is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
      return parsed.data;
    } catch (err) {
      return { ...FLAG_OFF, unavailable: (err as Error).message };
    }
  }

  private async document(): Promise<Record<string, unknown>> {
    if (this.last && Date.now() - this.last.at < this.maxAgeMs) return this.last.doc;
    let res: Response;
    try {
      res = await fetch(this.url, { signal: AbortSignal.timeout(2000) });
    } catch (err) {
      throw new SeamworkError('FLAGS_UNAVAILABLE', `The AppConfig agent at ${this.url} did not answer: ${(err as Error).message}`, true, { cause: err });
    }
    if (!res.ok) throw new SeamworkError('FLAGS_UNAVAILABLE', `The AppConfig agent answered ${res.status}: ${(await res.text()).slice(0, 200)}`, true);
    const doc = (await res.json()) as unknown;
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigurationError('The flags document is not a JSON object.');
    this.last = { at: Date.now(), doc: doc as Record<string, unknown> };
    return this.last.doc;
  }
}
