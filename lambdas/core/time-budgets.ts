/**
 * Time budgets shared by the runtime and the topology, so a stage's Lambda timeout always
 * covers its worst-case retries (a timeout mid-batch redelivers work already done: a second
 * model bill, a reservation never reconciled). `test/unit/topology.test.ts` checks the sums.
 */

/** One model call attempt. */
export const MODEL_CALL_TIMEOUT_MS = 20_000;
/** Retries after the first attempt, by Seamwork's one retry loop (lambdas/core/retry.ts): 529/5xx/timeouts. */
export const MODEL_MAX_RETRIES = 3;
/** Full-jitter backoff base and ceiling between attempts. */
export const MODEL_RETRY_BASE_MS = 1_000;
export const MODEL_RETRY_CAP_MS = 20_000;
/** The longest wait honoured between attempts (a longer retry-after is capped to it). */
export const MODEL_MAX_RETRY_WAIT_MS = 30_000;
/** One connector request. */
export const CONNECTOR_TIMEOUT_MS = 10_000;
/** Most actions one decision may request. */
export const MAX_ACTIONS_PER_DECISION = 4;

/** The pre-flight's token count: one try, this long at most (then the estimate is used). */
export const COUNT_TOKENS_TIMEOUT_MS = 3_000;
/** Worst-case time of one inference: the token count, then one model call including its retries. */
export const MODEL_CALL_WORST_MS = COUNT_TOKENS_TIMEOUT_MS + (MODEL_MAX_RETRIES + 1) * MODEL_CALL_TIMEOUT_MS + MODEL_MAX_RETRIES * MODEL_MAX_RETRY_WAIT_MS;
/** Worst-case time of acting on one decision. */
export const ACT_WORST_MS = MAX_ACTIONS_PER_DECISION * CONNECTOR_TIMEOUT_MS;

/**
 * How long anything keyed by a decision must outlive it (idempotency records, vault tokens): longer
 * than a message can live, 4 days in a queue plus 14 in a DLQ, so a redrive finds them.
 */
export const RETENTION_SECONDS = 21 * 24 * 3600;

/**
 * How long a cost reservation may stay unreconciled before the sweeper gives it back: longer than
 * the infer stage's timeout (240 s), so only a crashed or timed-out invocation's expires.
 */
export const RESERVATION_TTL_SECONDS = 600;
