/**
 * Public surface of the local reference model server: start it, point the Anthropic SDK at its
 * `url`, and optionally configure faults. Everything here is offline and deterministic.
 */
export { startModelServer, FAULT_HEADER, FAULT_APPLIED_HEADER, type FaultLogEntry, type ModelServer, type ModelServerOptions, type ModelServerStats } from './server.js';
export { answerMessages, fillSchema, judgeSchema, countRequestTokens, REFERENCE_MODEL_ID, REFERENCE_LABEL, type Answer, type ReplyMessage } from './reference-model.js';
export { FAULT_KINDS, FaultConfigSchema, selectFault, faultRoll, nearQuote, OFF_WHITELIST_SOURCE, type FaultConfig, type FaultKind } from './faults.js';
export { judgeStatement, normaliseText, contentWords, CLAIMS_DOCUMENT_TITLE, SUPPORT_THRESHOLD } from './judge.js';
export { countTokens, BYTES_PER_TOKEN } from './tokens.js';
export { requestHash } from './hash.js';
export { validateMessagesRequest, collectSources, type MessagesRequest, type SourceDocument } from './request.js';
export { validateBatchCreate, MAX_BATCH_REQUESTS, type BatchProcessingOptions, type BatchItemResult, type MessageBatchObject } from './batches.js';
