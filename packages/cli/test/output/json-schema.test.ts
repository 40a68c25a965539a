// The committed JSON Schema must be exactly what the zod scan model generates today.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCAN_SCHEMA_FILE, scanReportJsonSchema } from '../../src/output/json-schema.js';
import { repoRoot } from '../cli/helpers.js';

describe(SCAN_SCHEMA_FILE, () => {
  it('is up to date with the scan model (run `npm run schema` when this fails)', () => {
    const committed: unknown = JSON.parse(readFileSync(path.join(repoRoot, SCAN_SCHEMA_FILE), 'utf8'));
    expect(committed, 'schema/scan-v1.schema.json is out of date: run `npm run schema` and commit the file').toEqual(scanReportJsonSchema());
  });

  it('is JSON Schema 2020-12, requires the documented top-level fields and leaves objects open for additions', () => {
    const schema = scanReportJsonSchema() as { $schema: string; required: string[]; properties: Record<string, unknown> };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(expect.arrayContaining(['schemaVersion', 'agent', 'host', 'scannedAt', 'clients', 'servers', 'findings', 'summary']));
    expect(JSON.stringify(schema)).not.toContain('"additionalProperties":false');
    expect(JSON.stringify(scanReportJsonSchema({ closed: true }))).toContain('"additionalProperties":false');
  });
});
