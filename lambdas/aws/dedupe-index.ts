import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DecisionIndex, IndexedDecision } from '../core/audit/decision-index.js';
import { SeamworkError } from '../core/errors.js';
import { dynamoClient } from './clients.js';

/**
 * The ingest dedupe table as a {@link DecisionIndex}: every `dedupe#<integration>#<event>` item in
 * state `enqueued` names a decision whose `accepted` record was written before the claim was
 * confirmed. A Scan (the verifier runs rarely, and the table holds one item per recent event).
 */
export class DynamoDedupeIndex implements DecisionIndex {
  constructor(private readonly table: string) {}

  async *list(): AsyncIterable<IndexedDecision> {
    let start: Record<string, unknown> | undefined;
    do {
      let page;
      try {
        page = await dynamoClient().send(new ScanCommand({
          TableName: this.table, ExclusiveStartKey: start,
          FilterExpression: 'begins_with(pk, :dedupe) AND #state = :enqueued',
          ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':dedupe': 'dedupe#', ':enqueued': 'enqueued' },
        }));
      } catch (err) {
        throw new SeamworkError('STORE_UNAVAILABLE', `Could not scan the dedupe table ${this.table}: ${(err as Error).message}`, true, { cause: err });
      }
      for (const item of page.Items ?? []) {
        const integration = String(item.pk).split('#')[1];
        if (integration && typeof item.decisionId === 'string') yield { integration, decisionId: item.decisionId };
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
}
