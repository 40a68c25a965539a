// Turns a tool definition as a server listed it into the scan model's Tool: bounded text,
// hashes of the input schema and of the whole definition, and the text hidden in the schema.
import { hashJson, LIMITS, toolDefinitionHash, type Tool } from '@palisade/core';

/** A tool as it arrives from tools/list (only the fields we read). */
export interface ListedTool {
  name: string;
  title?: unknown;
  description?: unknown;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
}

/** Cut to at most `max` UTF-16 units without splitting a surrogate pair (tag characters are pairs). */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}

// Bounds on walking a schema a server sent: it is untrusted and may be huge or deep.
const MAX_SCHEMA_DEPTH = 32;
const MAX_SCHEMA_NODES = 10_000;

/**
 * Every `description` and `title` string inside a JSON schema, in document order, joined by
 * newlines: tool rules read it, because instructions hide in parameter descriptions too.
 */
export function schemaText(schema: unknown, max: number = LIMITS.description): string {
  const parts: string[] = [];
  let length = 0;
  let nodes = 0;
  const walk = (node: unknown, depth: number): void => {
    if (length >= max || depth > MAX_SCHEMA_DEPTH || ++nodes > MAX_SCHEMA_NODES) return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, depth + 1);
      return;
    }
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'description' || key === 'title') && typeof value === 'string') {
        if (value.trim()) {
          parts.push(value);
          length += value.length + 1;
        }
      } else if (value && typeof value === 'object') walk(value, depth + 1);
    }
  };
  walk(schema, 0);
  return truncate(parts.join('\n'), max);
}

type AnnotationValue = string | boolean | number | null;

/** Keep the annotations the wire format can carry: short keys, scalar values. */
export function boundAnnotations(annotations: unknown): Record<string, AnnotationValue> | undefined {
  if (!annotations || typeof annotations !== 'object' || Array.isArray(annotations)) return undefined;
  const out: Record<string, AnnotationValue> = {};
  let count = 0;
  for (const [key, value] of Object.entries(annotations)) {
    if (key.length > 64 || ++count > LIMITS.names) continue;
    if (typeof value === 'string') out[key] = truncate(value, LIMITS.shortString);
    else if (typeof value === 'boolean' || value === null || (typeof value === 'number' && Number.isFinite(value))) out[key] = value;
  }
  return Object.keys(out).length ? out : undefined;
}

export function toTool(def: ListedTool): Tool {
  const tool: Tool = { name: truncate(String(def.name), LIMITS.shortString) };
  if (typeof def.description === 'string') tool.description = truncate(def.description, LIMITS.description);
  tool.inputSchemaHash = hashJson(def.inputSchema ?? null);
  tool.definitionHash = toolDefinitionHash(def);
  const annotations = boundAnnotations(def.annotations);
  if (annotations) tool.annotations = annotations;
  const text = schemaText(def.inputSchema);
  if (text) tool.schemaText = text;
  return tool;
}
