// The JSON Schema of `palisade scan --json`, generated from the zod scan model in core so
// the documented contract and the code cannot drift apart. Written to
// schema/scan-v1.schema.json by `npm run schema`; a test fails when that file is stale.
import { ScanReportSchema, SCHEMA_VERSION } from '@palisade/core';

export const SCAN_SCHEMA_FILE = `schema/scan-v${SCHEMA_VERSION}.schema.json`;

/**
 * The published schema. Objects are left open (no `additionalProperties: false`): a later
 * agent may add optional fields within version 1, and a consumer validating with this file
 * must still accept its output. Pass `closed: true` for the exact shape today's agent writes.
 */
export function scanReportJsonSchema(opts: { closed?: boolean } = {}): Record<string, unknown> {
  const generated = ScanReportSchema.toJSONSchema({ target: 'draft-2020-12', io: 'output' }) as Record<string, unknown>;
  const { $schema, ...rest } = opts.closed ? generated : (openObjects(generated) as Record<string, unknown>);
  return {
    $schema,
    title: `Palisade scan report, schema version ${SCHEMA_VERSION}`,
    description: 'The output of `palisade scan --json`. Documented in docs/scan-format.md. Within schema version 1 fields are only ever added (as optional), never renamed or removed.',
    ...rest,
  };
}

export function scanReportJsonSchemaText(): string {
  return JSON.stringify(scanReportJsonSchema(), null, 2) + '\n';
}

function openObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(openObjects);
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) if (!(k === 'additionalProperties' && v === false)) out[k] = openObjects(v);
    return out;
  }
  return node;
}
