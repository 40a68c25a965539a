// Writes schema/scan-v1.schema.json from the zod scan model. Run with `npm run schema`
// (which loads the TypeScript sources through tsx).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SCAN_SCHEMA_FILE, scanReportJsonSchemaText } from '../src/output/json-schema.ts';

const target = fileURLToPath(new URL(`../../../${SCAN_SCHEMA_FILE}`, import.meta.url));
writeFileSync(target, scanReportJsonSchemaText());
process.stdout.write(`wrote ${SCAN_SCHEMA_FILE}\n`);
