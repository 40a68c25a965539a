// Writes schema/gateway.schema.json from src/schema.ts. Run with
// `node --conditions=source --import tsx packages/gateway/scripts/write-schema.mjs`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gatewayConfigSchema } from '../src/schema.ts';

const target = fileURLToPath(new URL('../../../schema/gateway.schema.json', import.meta.url));
writeFileSync(target, JSON.stringify(gatewayConfigSchema, null, 2) + '\n');
process.stdout.write('wrote schema/gateway.schema.json\n');
