/** A decision some other store says exists (the ingest dedupe table, for one). */
export interface IndexedDecision {
  integration: string;
  decisionId: string;
}

/**
 * Decisions known outside the audit log: every `enqueued` dedupe claim names one, and its
 * `accepted` record was written before the claim was confirmed. A decision listed here with no
 * audit record was deleted from the log.
 */
export interface DecisionIndex {
  list(): AsyncIterable<IndexedDecision>;
}

/** A fixed list (tests, and stacks without a dedupe table). */
export class StaticDecisionIndex implements DecisionIndex {
  constructor(private readonly decisions: IndexedDecision[]) {}
  async *list(): AsyncIterable<IndexedDecision> {
    yield* this.decisions;
  }
}
