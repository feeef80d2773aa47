/**
 * Public surface of the local reference model server: start it, point the Anthropic SDK at its
 * `url`, and optionally configure faults. Everything here is offline and deterministic.
 */
export { startModelServer, FAULT_HEADER, FAULT_APPLIED_HEADER, type ModelServer, type ModelServerOptions, type ModelServerStats } from './server.js';
export { answerMessages, fillSchema, countRequestTokens, REFERENCE_MODEL_ID, REFERENCE_LABEL, type Answer, type ReplyMessage } from './reference-model.js';
export { FAULT_KINDS, FaultConfigSchema, selectFault, faultRoll, type FaultConfig, type FaultKind } from './faults.js';
export { countTokens, BYTES_PER_TOKEN } from './tokens.js';
export { requestHash } from './hash.js';
export { validateMessagesRequest, collectSources, type MessagesRequest, type SourceDocument } from './request.js';
export { validateBatchCreate, MAX_BATCH_REQUESTS, type BatchProcessingOptions, type BatchItemResult, type MessageBatchObject } from './batches.js';
