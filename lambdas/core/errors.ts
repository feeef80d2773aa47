/**
 * Seamwork's error hierarchy. `retryable` decides SQS behaviour: a retryable error becomes a
 * batch item failure (SQS redelivers, then redrives to the DLQ); a non-retryable error sends
 * the message straight to the stage's DLQ with a structured rejection record.
 */
export interface SeamworkErrorOptions extends ErrorOptions {
  /** JSON pointer into the offending document, when one applies. */
  pointer?: string;
  /** Contract version the input was checked against, when one applies. */
  contractVersion?: string;
  /** Extra machine-readable detail for the rejection record. */
  detail?: Record<string, unknown>;
}

/** Base class of every error Seamwork raises on purpose. */
export class SeamworkError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly pointer?: string;
  readonly contractVersion?: string;
  readonly detail?: Record<string, unknown>;

  constructor(code: string, message: string, retryable: boolean, options: SeamworkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = retryable;
    this.pointer = options.pointer;
    this.contractVersion = options.contractVersion;
    this.detail = options.detail;
  }
}

/** The input does not match the integration's contract. */
export class ContractViolation extends SeamworkError {
  constructor(message: string, options: SeamworkErrorOptions = {}) {
    super('CONTRACT_VIOLATION', message, false, options);
  }
}

/** The payload parses but drifted from its contract, and the integration's drift policy rejects that drift. */
export class ContractDrift extends SeamworkError {
  constructor(message: string, options: SeamworkErrorOptions = {}) {
    super('CONTRACT_DRIFT', message, false, options);
  }
}

/** More than one record arrived where the integration expects exactly one. */
export class CardinalityViolation extends SeamworkError {
  constructor(message: string, options: SeamworkErrorOptions = {}) {
    super('CARDINALITY_VIOLATION', message, false, options);
  }
}

/** The vendor signature is missing, malformed, stale or wrong. */
export class SignatureInvalid extends SeamworkError {
  constructor(message: string, options: SeamworkErrorOptions = {}) {
    super('SIGNATURE_INVALID', message, false, options);
  }
}

/** A cost cap would be exceeded by the worst case of this call. */
export class CostCapExceeded extends SeamworkError {
  constructor(message: string, options: SeamworkErrorOptions = {}) {
    super('COST_CAP_EXCEEDED', message, false, options);
  }
}

/** The model is rate limiting or overloaded; try again later. */
export class ModelRateLimited extends SeamworkError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, options: SeamworkErrorOptions = {}) {
    super('MODEL_RATE_LIMITED', message, true, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The model call failed after the bounded retry budget. */
export class ModelUnavailable extends SeamworkError {
  constructor(message: string, options: SeamworkErrorOptions = {}) {
    super('MODEL_UNAVAILABLE', message, false, options);
  }
}

/** The model's output does not match the integration's output schema. */
export class OutputSchemaViolation extends SeamworkError {
  constructor(message: string, options: SeamworkErrorOptions = {}) {
    super('OUTPUT_SCHEMA_VIOLATION', message, false, options);
  }
}

/** A downstream system (connector) failed in a way worth retrying. */
export class ConnectorUnavailable extends SeamworkError {
  constructor(message: string, options: SeamworkErrorOptions = {}) {
    super('CONNECTOR_UNAVAILABLE', message, true, options);
  }
}

/** A downstream system refused the action for good (4xx other than 429). */
export class ConnectorRejected extends SeamworkError {
  constructor(message: string, options: SeamworkErrorOptions = {}) {
    super('CONNECTOR_REJECTED', message, false, options);
  }
}

/** Configuration is missing or malformed. */
export class ConfigurationError extends SeamworkError {
  constructor(message: string, options: SeamworkErrorOptions = {}) {
    super('CONFIGURATION_ERROR', message, false, options);
  }
}

/** An audit record would overwrite an existing one, or a chain does not verify. */
export class AuditIntegrityError extends SeamworkError {
  constructor(message: string, options: SeamworkErrorOptions = {}) {
    super('AUDIT_INTEGRITY', message, false, options);
  }
}

/** Wraps anything unexpected so it is still recorded with a code. */
export function toSeamworkError(err: unknown): SeamworkError {
  if (err instanceof SeamworkError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // Unknown failures are retried: SQS redelivers, and maxReceiveCount bounds it before the DLQ.
  return new SeamworkError('UNEXPECTED', message, true, { cause: err });
}
