/**
 * The slice of the Anthropic Messages API request the reference model understands, its
 * validation, and the two views the server derives from it: token segments (for usage and
 * prompt caching) and source documents (what the model may quote).
 */
import { canonicalJson, sha256Hex } from './hash.js';

/** A `cache_control` marker as sent by the SDK. */
export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

/** A text content block (`system` or user content). */
export interface TextBlockParam {
  type: 'text';
  text: string;
  cache_control?: CacheControl | null;
  [key: string]: unknown;
}

/** A document content block; `title` is used as the document's id in evidence. */
export interface DocumentBlockParam {
  type: 'document';
  source:
    | { type: 'text'; media_type?: string; data: string }
    | { type: 'content'; content: string | Array<{ type: string; text?: string }> }
    | { type: string; [key: string]: unknown };
  title?: string | null;
  context?: string | null;
  citations?: { enabled?: boolean } | null;
  cache_control?: CacheControl | null;
  [key: string]: unknown;
}

/** Any content block; blocks the reference model does not read are still counted for tokens. */
export type ContentBlockParam = TextBlockParam | DocumentBlockParam | { type: string; cache_control?: CacheControl | null; [key: string]: unknown };

/** One turn of the conversation. */
export interface MessageParam {
  role: 'user' | 'assistant';
  content: string | ContentBlockParam[];
}

/** A client tool definition. */
export interface ToolParam {
  name: string;
  description?: string;
  input_schema: JsonSchema;
  strict?: boolean;
  cache_control?: CacheControl | null;
  [key: string]: unknown;
}

/** `tool_choice` as the API accepts it. */
export type ToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

/** A JSON Schema object, loosely typed: the reference model reads only the keywords it needs. */
export type JsonSchema = { [key: string]: unknown };

/** The body of `POST /v1/messages` (and, without `max_tokens`, of `count_tokens`). */
export interface MessagesRequest {
  model: string;
  max_tokens: number;
  system?: string | TextBlockParam[];
  messages: MessageParam[];
  tools?: ToolParam[];
  tool_choice?: ToolChoice;
  temperature?: number;
  metadata?: Record<string, unknown>;
  output_config?: { format?: { type: 'json_schema'; schema: JsonSchema } | null; [key: string]: unknown };
  stream?: boolean;
  [key: string]: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a parsed body the way the API would before answering, and returns the message of the
 * `invalid_request_error` to send, or `null` when the body is acceptable. `requireMaxTokens` is
 * false for `count_tokens`, which does not take `max_tokens`.
 */
export function validateMessagesRequest(body: unknown, requireMaxTokens = true): string | null {
  if (!isRecord(body)) return 'request body must be a JSON object';
  if (typeof body.model !== 'string' || body.model.length === 0) return 'model: Field required';
  if (requireMaxTokens) {
    if (body.max_tokens === undefined) return 'max_tokens: Field required';
    if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
      return 'max_tokens: must be a positive integer';
    }
  }
  if (!Array.isArray(body.messages)) return 'messages: Field required';
  if (body.messages.length === 0) return 'messages: at least one message is required';
  for (const [i, m] of body.messages.entries()) {
    if (!isRecord(m) || (m.role !== 'user' && m.role !== 'assistant')) return `messages.${i}.role: must be 'user' or 'assistant'`;
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) return `messages.${i}.content: must be a string or an array of blocks`;
  }
  if (body.messages[0].role !== 'user') return 'messages: the first message must use the user role';
  if (body.stream === true) return 'stream: streaming is not supported by the Seamwork reference model';
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return 'tools: must be an array';
    for (const [i, t] of body.tools.entries()) {
      if (!isRecord(t) || typeof t.name !== 'string') return `tools.${i}.name: Field required`;
      if (!isRecord(t.input_schema)) return `tools.${i}.input_schema: Field required`;
    }
  }
  const choice = body.tool_choice;
  if (isRecord(choice) && choice.type === 'tool') {
    const tools = Array.isArray(body.tools) ? (body.tools as ToolParam[]) : [];
    if (!tools.some((t) => t.name === choice.name)) return `tool_choice: tool '${String(choice.name)}' is not in tools`;
  }
  const format = isRecord(body.output_config) ? body.output_config.format : undefined;
  if (isRecord(format) && (format.type !== 'json_schema' || !isRecord(format.schema))) {
    return "output_config.format: expected { type: 'json_schema', schema }";
  }
  return null;
}

/** One unit of the prompt for token counting and caching, in the API's cache order. */
export interface PromptSegment {
  /** The text the segment is counted as. */
  text: string;
  /** The raw block, hashed for the cache prefix. */
  raw: unknown;
  /** Set when the block carries `cache_control`. */
  cacheControl?: CacheControl;
}

function blockText(block: ContentBlockParam): string {
  if (block.type === 'text' && typeof block.text === 'string') return block.text;
  if (block.type === 'document') {
    const doc = block as DocumentBlockParam;
    return [doc.title ?? '', doc.context ?? '', documentSegments(doc).join('\n')].filter(Boolean).join('\n');
  }
  // Blocks the reference model does not interpret (images, tool results…) still cost tokens.
  return canonicalJson(block);
}

/**
 * The prompt as ordered segments: tools, then system, then messages, which is the order the API
 * builds its cache prefix in. Output-format schemas are counted too (they are prompt tokens).
 */
export function promptSegments(req: MessagesRequest): PromptSegment[] {
  const out: PromptSegment[] = [];
  for (const tool of req.tools ?? []) {
    out.push({
      text: `${tool.name}\n${tool.description ?? ''}\n${canonicalJson(tool.input_schema)}`,
      raw: tool,
      cacheControl: tool.cache_control ?? undefined,
    });
  }
  if (typeof req.system === 'string') out.push({ text: req.system, raw: req.system });
  else for (const b of req.system ?? []) out.push({ text: b.text, raw: b, cacheControl: b.cache_control ?? undefined });
  for (const m of req.messages) {
    if (typeof m.content === 'string') out.push({ text: m.content, raw: m.content });
    else for (const b of m.content) out.push({ text: blockText(b), raw: b, cacheControl: b.cache_control ?? undefined });
  }
  const schema = req.output_config?.format?.schema;
  if (schema) out.push({ text: canonicalJson(schema), raw: schema });
  return out;
}

/**
 * The cacheable prefix: every segment up to and including the last one marked `cache_control`,
 * hashed together with the model (caches are per model). `null` when nothing is marked.
 */
export function cachePrefix(req: MessagesRequest): { hash: string; segments: PromptSegment[]; ttl: '5m' | '1h' } | null {
  const segments = promptSegments(req);
  let last = -1;
  segments.forEach((s, i) => {
    if (s.cacheControl) last = i;
  });
  if (last < 0) return null;
  const prefix = segments.slice(0, last + 1);
  const ttl = prefix.some((s) => s.cacheControl?.ttl === '1h') ? '1h' : '5m';
  return { hash: sha256Hex(canonicalJson({ model: req.model, prefix: prefix.map((s) => s.raw) })), segments: prefix, ttl };
}

/** A source the reference model may quote: a document block or a `<document id>` tagged span. */
export interface SourceDocument {
  /** The document's id: its `title`, the tag's `id`, or `document-<n>` when untitled. */
  id: string;
  /** The document's text pieces; quotes never span two pieces. */
  segments: string[];
  /** Index among the request's document blocks (for citations); undefined for tagged spans. */
  documentIndex?: number;
  /** How the document was given, which decides the citation location type. */
  kind: 'text' | 'content' | 'tagged';
  /** Whether the caller enabled citations on the document block. */
  citations: boolean;
}

/** The text pieces of a document block; sources other than text and content are not readable offline. */
export function documentSegments(doc: DocumentBlockParam): string[] {
  const source = doc.source as Record<string, unknown>;
  if (source?.type === 'text' && typeof source.data === 'string') return [source.data];
  if (source?.type === 'content') {
    const content = source.content;
    if (typeof content === 'string') return [content];
    if (Array.isArray(content)) {
      return content.flatMap((c) => (isRecord(c) && c.type === 'text' && typeof c.text === 'string' ? [c.text] : []));
    }
  }
  if (source?.type === 'base64' && source.media_type === 'text/plain' && typeof source.data === 'string') {
    return [Buffer.from(source.data, 'base64').toString('utf8')];
  }
  return [];
}

const TAGGED_DOCUMENT = /<document\s+id\s*=\s*["']([^"']*)["'][^>]*>([\s\S]*?)<\/document>/g;

/**
 * The sources of a request: every user `document` block, plus `<document id="…">` spans inside
 * user or system text. Untagged text is an instruction, never a source, so the model cannot
 * "ground" an answer in its own prompt.
 */
export function collectSources(req: MessagesRequest): SourceDocument[] {
  const sources: SourceDocument[] = [];
  let documentIndex = 0;
  const scanTagged = (text: string) => {
    for (const match of text.matchAll(TAGGED_DOCUMENT)) {
      sources.push({ id: match[1], segments: [match[2]], kind: 'tagged', citations: false });
    }
  };
  if (typeof req.system === 'string') scanTagged(req.system);
  else for (const b of req.system ?? []) if (typeof b.text === 'string') scanTagged(b.text);
  for (const m of req.messages) {
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') {
      scanTagged(m.content);
      continue;
    }
    for (const b of m.content) {
      if (b.type === 'text' && typeof b.text === 'string') scanTagged(b.text);
      if (b.type === 'document') {
        const doc = b as DocumentBlockParam;
        const index = documentIndex++;
        sources.push({
          id: doc.title ?? `document-${index + 1}`,
          segments: documentSegments(doc),
          documentIndex: index,
          kind: (doc.source as { type: string }).type === 'content' ? 'content' : 'text',
          citations: doc.citations?.enabled === true,
        });
      }
    }
  }
  return sources;
}
