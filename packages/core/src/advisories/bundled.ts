// Where the curated advisories shipped with Palisade live: packages/core/advisories/*.json, one
// reviewed OSV record per file. Two levels up from both src/advisories and dist/advisories.
// Core does no I/O; the agent and the server read the folder.
import { fileURLToPath } from 'node:url';

export function bundledAdvisoriesDir(): string {
  return fileURLToPath(new URL('../../advisories/', import.meta.url));
}
