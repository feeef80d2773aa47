import type { z } from 'zod';
import type { DriftPolicy } from './contracts/drift.js';
import type { PiiKind } from './redact.js';
import { assertGroundingFits } from './grounding/playbook.js';
import { outputJsonSchema } from './prompt.js';

/**
 * One typed definition per integration: everything the seven layers need to know about it.
 * Adding an integration means adding a folder under lambdas/integrations/ that exports one of
 * these and registering it in lambdas/integrations/index.ts — nothing else changes.
 */

/** A source document the model may read and that grounding checks quote against. */
export interface SourceDocument {
  /** Stable id used by evidence quotes, e.g. `ticket.description`. */
  id: string;
  /** Human title shown to the model. */
  title: string;
  /** Redacted, windowed text. */
  text: string;
  /** Where the text came from (vendor + object), for the source whitelist. */
  origin: string;
  /**
   * Windowing order: lower is kept first when the budget is short (a thread's first message and
   * its latest comments before the middle). Documents stay in their own order in the prompt.
   * @default the document's position
   */
  priority?: number;
  /** Which end of the text survives when it must be cut. @default 'head' */
  keep?: 'head' | 'tail';
}

/** A request to act on a downstream system; executed idempotently by the act stage. */
export interface ActionRequest {
  /** Stable action name, unique within one decision: `zendesk.update_ticket`. Part of the idempotency key. */
  name: string;
  /** Connector id that executes it. */
  connector: 'zendesk' | 'slack' | 'github' | 'shopify' | 'webhook';
  /** Connector-specific parameters; may contain vault tokens (`[EMAIL_1]`). */
  params: Record<string, unknown>;
  /**
   * Which parameters may have vault tokens put back to the originals, and of which kinds, when
   * the connector call is made. Nothing is restored unless named here: free text the model wrote
   * stays tokenised, and card numbers should never be listed.
   * @default no restoration
   */
  restore?: { params: string[]; kinds: PiiKind[] };
}

/** A verbatim quote supporting the output, pointing at a source document. */
export interface Evidence {
  quote: string;
  source: string;
  /** Quote id (`q1`, or `c1` for a Citations API location) that claims cite. */
  id?: string;
  /** Where the Citations API located the quote in its document: character offsets into the text as sent. */
  location?: { start: number; end: number };
}

/** A claim the decision makes, paired to the quotes that support it (step 3). */
export interface Claim {
  /** The decision field the claim supports, e.g. `priority`. */
  field: string;
  statement: string;
  quote_ids: string[];
}

/** How the vendor signs its webhooks: one verifier per scheme in lambdas/core/signature. */
export type SignatureScheme = 'github' | 'stripe' | 'shopify' | 'zendesk' | 'hubspot' | 'slack';

/** Where the event comes from and how to recognise it before validation. */
export interface SourceSpec {
  /** Vendor name for messages and metrics: `zendesk`, `github`, `shopify`. */
  vendor: string;
  signature: SignatureScheme;
  /** Name of the secret (in the secrets document) that signs this integration's webhooks. */
  secretName: string;
  /**
   * Reads the vendor's event id from the parsed body (or headers, e.g. `x-github-delivery`) for
   * dedupe. Returns undefined when it cannot be found; ingest then rejects with 400.
   */
  eventId(body: unknown, headers: Record<string, string>): string | undefined;
  /** Reads the tenant from the parsed body or headers; undefined → the default tenant. */
  tenant(body: unknown, headers: Record<string, string>): string | undefined;
  /**
   * The event type of a delivery, e.g. `issues.opened` (from `x-github-event` + `action`) or
   * `orders/create` (from `x-shopify-topic`). Deliveries whose type is not in `events` are
   * acknowledged with 200 `ignored` (the vendor must not retry them) and never enter the pipeline.
   * @default every delivery is processed
   */
  eventType?(body: unknown, headers: Record<string, string>): string | undefined;
  /** Event types this integration processes; required when `eventType` is given. */
  events?: string[];
}

/** Model choice and limits for the infer stage. */
export interface ModelSpec {
  /** Model id as the Anthropic API names it, e.g. `claude-haiku-4-5`. */
  id: string;
  /** Hard cap on output tokens; the worst-case pre-flight uses it. */
  maxTokens: number;
  /** Per-inference cap in USD: the worst case above it is refused before the call. */
  perInferenceCapUsd: number;
  /**
   * Tokens per minute this integration may send (input + max output, worst case): beyond it,
   * events wait on their queue for the next minute instead of failing. @default no limit
   */
  tokensPerMinute?: number;
  temperature: number;
}

/** What a failed grounding check does: drop what it found (and go on), send the decision to review, or reject it (DLQ). */
export type GroundingAction = 'retract' | 'review' | 'reject';

/** A source origin the policy trusts (step 9): documents whose `origin` matches may enter a prompt. */
export interface TrustedOrigin {
  /** Who vouches for it, for messages: `Zendesk ticket`. */
  name: string;
  /** The whole origin string must match, e.g. `/^zendesk:ticket\/\d+$/`. */
  origin: RegExp;
}

/**
 * Grounding policy: which of the ten playbook steps run, with what thresholds, and what a failure
 * does. See docs/grounding.md for the steps and lambdas/core/grounding/ for one file per step.
 */
export interface GroundingPolicy {
  /** Below this confidence the decision goes to review. */
  minConfidence: number;
  /** At least this many verified quotes must remain, else the decision goes to review. */
  minEvidence: number;
  /**
   * Step 2 or step 5: `quotes-first` asks the model to extract quotes with ids before its claims;
   * `citations` sends the documents with the Citations API enabled and builds the evidence and
   * claims from the citation locations the API returns.
   */
  mode: 'quotes-first' | 'citations';
  /**
   * Step 3: decision fields that must keep at least one claim paired to a verified quote whenever
   * they hold a value. The `claims[].field` enum of the output schema lists the same names.
   */
  claimFields: string[];
  /** Step 9: the only origins whose documents may enter a prompt or be cited. */
  trustedOrigins: TrustedOrigin[];
  /**
   * Step 8 and step 6: which decisions are high stakes (a second sample is drawn and compared; the
   * evaluator may run only for them). Receives the schema-valid decision.
   */
  highStakes?: { describe: string; test(decision: Record<string, unknown>): boolean };
  /** Step 8: sample twice and compare these fields. @default off */
  canary?: { when: 'high-stakes' | 'always'; fields: string[]; temperature: number };
  /** Step 6: a fresh-context evaluator call (sources + claims only). @default off */
  evaluator?: { when: 'high-stakes' | 'always'; model?: string; maxTokens: number };
  /** Step 10: the reasoning field that must come first and never reaches an action. @default 'reasoning' */
  reasoningField?: string;
  /** What a failure of each check does; checks not listed use the defaults in lambdas/core/grounding/playbook.ts. */
  onFail?: Partial<Record<GroundingCheckId, GroundingAction>>;
}

/** The grounding checks a policy can steer (steps 2 to 10; step 1, abstention, always routes to review). */
export type GroundingCheckId =
  | 'quotes-first'
  | 'claim-pairing'
  | 'closed-book'
  | 'citations'
  | 'fresh-evaluator'
  | 'quote-exists'
  | 'divergence'
  | 'source-whitelist'
  | 'reasoning-first';

/** Per-field comparison used by the eval. */
export interface EvalField {
  /** Name of the field in the expected record and the decision. */
  name: string;
  /** How to compare: exact equality, or boolean presence (e.g. escalation_reason non-null). */
  compare: 'exact' | 'present';
}

/** A hand-rated golden example. */
export interface GoldenExample {
  id: string;
  /** The raw vendor webhook body, exactly as it would arrive. */
  body: unknown;
  /** Vendor headers the integration reads (e.g. `x-github-event`), lower-cased; signature headers are added when sent. */
  headers?: Record<string, string>;
  /** Expected outcome fields, compared per EvalField. */
  expected: Record<string, unknown>;
  /** Why the rater chose these values. */
  rationale?: string;
}

/** A fixture: a webhook as the vendor sends it, with what the pipeline must do with it. */
export interface Fixture {
  name: string;
  description: string;
  /** Raw body as text (may be malformed on purpose). */
  body: string;
  /** Vendor headers other than the signature's (e.g. `x-github-event`, `x-shopify-topic`), lower-cased. */
  headers?: Record<string, string>;
  /**
   * Signing: `valid` signs with the right secret, `bad` with a wrong one, `stale` with an old
   * timestamp (only for schemes that sign one), `none` sends no signature headers.
   */
  signature: 'valid' | 'bad' | 'stale' | 'none';
  /** Send it this many times (duplicate delivery). */
  deliveries?: number;
  /** What must happen: HTTP status at ingest and final outcome if accepted. */
  expect: { status: number; outcome?: 'acted' | 'baseline' | 'review' | 'dlq' | 'quarantine' };
}

/** The decision an integration produces (AI or baseline) before verification. */
export interface DecisionBase {
  outcome: string;
  confidence: number;
  evidence: Evidence[];
}

/** The typed definition of an integration. */
export interface IntegrationDefinition<TInput = any, TOutput extends DecisionBase = any> {
  name: string;
  description: string;
  source: SourceSpec;
  contract: {
    /** `<vendor object>/<vendor schema date>#<n>`; bump `#n` on any change to the schema. */
    version: string;
    /**
     * Parses the raw vendor body into the input the pipeline uses. Declare the vendor's payload
     * as it really is: a plain `z.object` is closed (a field it does not declare is reported as
     * drift, and stripped), `.loose()` marks a subtree the integration does not track (its extra
     * fields are not drift), `z.record` a map with free keys. Temporary widenings are declared
     * with `migrating()` from lambdas/core/contracts/migration.ts.
     */
    schema: z.ZodType<TInput>;
    /** What drift (a payload that differs from the declared shape) does to an event. */
    drift: DriftPolicy;
  };
  /** Paths (dot notation) into the input whose string values are redacted; others are left alone. */
  redactFields: string[];
  /** Token budget for the documents placed in the prompt. */
  windowTokens: number;
  /** The source documents the model reads, built from the redacted input. Order = priority for windowing. */
  documents(input: TInput): SourceDocument[];
  /** Sticky key for canary bucketing: the same subject always lands on the same path. */
  stickyKey(input: TInput): string;
  prompt: {
    version: string;
    system: string;
    instructions: string;
  };
  model: ModelSpec;
  output: {
    /** Name of the tool the model must call with its structured output. */
    toolName: string;
    toolDescription: string;
    schema: z.ZodType<TOutput>;
    /** Value of `outcome` meaning "I don't have enough information". */
    abstainOutcome: string;
  };
  grounding: GroundingPolicy;
  /** Non-AI behaviour: what the flag falls back to. Deterministic. */
  baseline(input: TInput, documents: SourceDocument[]): TOutput;
  /** The actions a verified decision leads to. Never sees the reasoning field. */
  actions(decision: TOutput, input: TInput): ActionRequest[];
  eval: {
    fields: EvalField[];
    /** Absolute path of the golden set (JSONL of GoldenExample). */
    goldenPath: string;
    /** Absolute path of the committed eval baseline (JSON). */
    baselinePath: string;
  };
  /** Absolute path of the fixtures folder (one JSON file per Fixture). */
  fixturesDir: string;
}

/** Identity helper that keeps the generic types, and checks the grounding policy fits the output schema. */
export function defineIntegration<TInput, TOutput extends DecisionBase>(
  def: IntegrationDefinition<TInput, TOutput>,
): IntegrationDefinition<TInput, TOutput> {
  assertGroundingFits(def.name, def.grounding, outputJsonSchema(def.output.schema), def.output.abstainOutcome);
  return def;
}
