import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './audit-record.js';
import type { IntegrationDefinition, SourceDocument } from './integration.js';

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
        | { type: 'document'; source: { type: 'text'; media_type: 'text/plain'; data: string }; title: string; context: string }
        | { type: 'text'; text: string }
      >;
    }>;
    tools: Array<{ name: string; description: string; input_schema: { type: 'object'; [k: string]: unknown } }>;
    tool_choice: { type: 'tool'; name: string };
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

/** Builds the request. Documents are already validated, redacted and windowed. */
export function buildPrompt(def: IntegrationDefinition, documents: SourceDocument[]): BuiltPrompt {
  const request: BuiltPrompt['request'] = {
    model: def.model.id,
    max_tokens: def.model.maxTokens,
    temperature: def.model.temperature,
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
          })),
          { type: 'text' as const, text: def.prompt.instructions },
        ],
      },
    ],
    tools: [{ name: def.output.toolName, description: def.output.toolDescription, input_schema: outputJsonSchema(def.output.schema) }],
    tool_choice: { type: 'tool', name: def.output.toolName },
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
