/**
 * Where the verifier and the checkpointer find keys by writer name (`ingest`, …, `operator`,
 * `checkpointer`). Local key files and Secrets Manager implement it in `lambdas/aws/audit-keys.ts`.
 */
export interface AuditKeyRing {
  /** The key of one writer, or undefined when there is none. */
  key(name: string): Promise<Buffer | undefined>;
}

/** The name of the checkpointer's signing key. */
export const CHECKPOINTER_KEY = 'checkpointer';

/** Keys held in memory (tests, eval). */
export class MemoryKeyRing implements AuditKeyRing {
  constructor(private readonly keys: Record<string, Buffer>) {}
  async key(name: string): Promise<Buffer | undefined> {
    return this.keys[name];
  }
}
