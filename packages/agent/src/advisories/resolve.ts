// Enrichment step: a server launched from a path inside node_modules
// (`node /…/node_modules/mcp-remote/dist/proxy.js`) runs whatever version is installed there.
// Read that package.json (bounded, name checked) and record the version as resolvedVersion,
// so advisory matching sees the real version instead of "unpinned".
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { nodeModulesPackage } from '@palisade/core';
import type { DiscoveryResult } from '../discover.js';

const MAX_PACKAGE_JSON_BYTES = 1024 * 1024;

async function readPackageVersion(root: string, name: string): Promise<string | undefined> {
  const file = path.join(root, 'package.json');
  try {
    const st = await fs.stat(file);
    if (!st.isFile() || st.size > MAX_PACKAGE_JSON_BYTES) return undefined;
    const pkg = JSON.parse(await fs.readFile(file, 'utf8')) as { name?: unknown; version?: unknown };
    // a package.json that names another package is not the one the path suggests
    if (pkg.name !== name || typeof pkg.version !== 'string' || pkg.version.length > 256) return undefined;
    return pkg.version;
  } catch {
    return undefined;
  }
}

/** Fill `package.resolvedVersion` for servers run from node_modules paths. Mutates the discovery; never throws. */
export async function resolveNodeModulesPackages(discovery: Pick<DiscoveryResult, 'servers' | 'raw'>): Promise<number> {
  let resolved = 0;
  // only servers run from a node_modules path get a lookup (most servers: none at all)
  const open = discovery.servers.filter((s) => s.package?.ecosystem === 'npm' && s.package.runner === 'node_modules' && !s.package.resolvedVersion);
  if (open.length === 0) return 0;
  await Promise.all(
    open.map(async (server) => {
      const pkg = server.package;
      if (!pkg) return;
      const raw = discovery.raw.get(server.id);
      const candidates = [raw?.command ?? server.command, ...(raw?.args ?? server.args)].filter((x): x is string => typeof x === 'string');
      for (const c of candidates) {
        const hit = nodeModulesPackage(c);
        if (!hit || hit.name !== pkg.name) continue;
        const version = await readPackageVersion(hit.root, hit.name);
        if (version) {
          pkg.resolvedVersion = version;
          resolved++;
          return;
        }
      }
    }),
  );
  return resolved;
}
