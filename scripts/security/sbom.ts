// `npm run sbom [DIR]`: a CycloneDX 1.5 JSON SBOM of each publishable package (core, agent,
// server) and its production dependencies, written to DIR (default dist/sbom/) as
// palisade-<package>.cdx.json. Offline: it reads package-lock.json only.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './lib.js';
import { buildSbom, type Lockfile } from './sbom-lib.js';

export const PUBLISHABLE = ['packages/core', 'packages/mcp', 'packages/agent', 'packages/server', 'packages/cli'];

const outDir = path.resolve(process.cwd(), process.argv[2] ?? path.join(REPO_ROOT, 'dist', 'sbom'));
let lock: Lockfile;
try {
  lock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
} catch (err) {
  console.error(`sbom: cannot read package-lock.json (${(err as Error).message}); run npm install first.`);
  process.exit(1);
}
const epoch = Number(process.env.SOURCE_DATE_EPOCH);
const now = Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000) : new Date();
mkdirSync(outDir, { recursive: true });
for (const ws of PUBLISHABLE) {
  const bom = buildSbom(lock, ws, now);
  const file = path.join(outDir, `palisade-${path.basename(ws)}.cdx.json`);
  writeFileSync(file, JSON.stringify(bom, null, 2) + '\n');
  console.log(`sbom: ${file} (CycloneDX ${bom.specVersion}, ${bom.components.length} components)`);
}
