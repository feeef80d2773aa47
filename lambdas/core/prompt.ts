import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './audit-record.js';
import type { IntegrationDefinition, SourceDocument } from './integration.js';
import { citationsInstructions } from './grounding/citations.js';
import { quotesFirstInstructions } from './grounding/quotes-first.js';

/**
 * Layer 2: deterministic prompt construction. The same integration version and the same
 * documents always produce the same request bytes, identified by a content hash, so any
 * output can be traced to the exact prompt and replayed.
 */

/** A Messages API request, ready for `client.messages.create`, plus its content hash. */
export interface BuiltPrompt {
  hash: string;
  promptVersion: string;
  request: {
    model: string;
    max_tokens: number;
    temperature: number;
    system: Array<{ type: 'text'; text: string; cache_control?: { type: 'ephemeral' } }>;
    messages: Array<{
      role: 'user';
      content: Array<
        | { type: 'document'; source: { type: 'text'; media_type: 'text/plain'; data: string }; title: string; context: string; citations?: { enabled: boolean } }
        | { type: 'text'; text: string }
      >;
    }>;
    tools: Array<{ name: string; description: string; input_schema: { type: 'object'; [k: string]: unknown } }>;
    tool_choice: { type: 'tool'; name: string } | { type: 'auto' };
  };
}

const schemaCache = new WeakMap<object, { type: 'object'; [k: string]: unknown }>();

/** JSON Schema of an integration's output, as a tool `input_schema`. */
export function outputJsonSchema(schema: z.ZodType): { type: 'object'; [k: string]: unknown } {
  let cached = schemaCache.get(schema);
  if (!cached) {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
    cached = { ...rest, type: 'object' as const };
    schemaCache.set(schema, cached);
  }
  return cached;
}

/**
 * Builds the request. Documents are already validated, redacted, windowed and admitted by the
 * source whitelist. The integration's instructions are followed by the grounding mode's own:
 * quotes with ids then claims citing them (step 2), or cited claim paragraphs with the Citations
 * API enabled on every document and the tool left to the model's choice (step 5) — the API
 * returns citations only in text, which a forced tool call would leave no room for.
 * `temperature` overrides the integration's (the divergence canary's second sample).
 */
export function buildPrompt(def: IntegrationDefinition, documents: SourceDocument[], options: { temperature?: number } = {}): BuiltPrompt {
  const citations = def.grounding.mode === 'citations';
  const grounding = citations ? citationsInstructions(def.grounding.claimFields) : quotesFirstInstructions(def.grounding.claimFields);
  const request: BuiltPrompt['request'] = {
    model: def.model.id,
    max_tokens: def.model.maxTokens,
    temperature: options.temperature ?? def.model.temperature,
    // The static prefix (system + tool schema) is marked for prompt caching.
    system: [{ type: 'text', text: def.prompt.system, cache_control: { type: 'ephemeral' } }],
    messages: [
      {
        role: 'user',
        content: [
          ...documents.map((d) => ({
            type: 'document' as const,
            source: { type: 'text' as const, media_type: 'text/plain' as const, data: d.text },
            title: d.id,
            context: `${d.title} (origin: ${d.origin})`,
            ...(citations ? { citations: { enabled: true } } : {}),
          })),
          { type: 'text' as const, text: `${def.prompt.instructions}\n\n${grounding}` },
        ],
      },
    ],
    tools: [{ name: def.output.toolName, description: def.output.toolDescription, input_schema: outputJsonSchema(def.output.schema) }],
    tool_choice: citations ? { type: 'auto' } : { type: 'tool', name: def.output.toolName },
  };
  const hash = createHash('sha256').update(canonicalJson(request)).digest('hex');
  return { hash, promptVersion: def.prompt.version, request };
}

/** The text the model reads, flattened: used to prove no raw PII reached it. */
export function promptText(prompt: BuiltPrompt): string {
  const parts = [...prompt.request.system.map((s) => s.text)];
  for (const m of prompt.request.messages) {
    for (const c of m.content) parts.push(c.type === 'document' ? `${c.title}\n${c.context}\n${c.source.data}` : c.text);
  }
  return parts.join('\n');
}
