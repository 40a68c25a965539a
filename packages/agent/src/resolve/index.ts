// Installed-version lookup: for packages the config runs unpinned through npx or uvx, the
// version actually sitting in the local caches is what runs today. Set as
// package.resolvedVersion; the config's own version (if any) is left as written.
import type { ServerConfig } from '@palisade/core';
import type { LocationContext } from '../clients/types.js';
import { npxInstalledVersions } from './npx.js';
import { uvInstalledVersions } from './uv.js';

const NPX_RUNNERS = new Set(['npx', 'npm exec']);
const UV_RUNNERS = new Set(['uvx', 'uv tool run']);

export async function resolveInstalledVersions(servers: readonly ServerConfig[], loc: LocationContext): Promise<void> {
  const npmNames = new Set<string>();
  const pypiNames = new Set<string>();
  const open = servers.filter((s) => s.package && !s.package.pinned && !s.package.resolvedVersion);
  for (const s of open) {
    const p = s.package!;
    if (p.ecosystem === 'npm' && NPX_RUNNERS.has(p.runner ?? '')) npmNames.add(p.name);
    if (p.ecosystem === 'PyPI' && UV_RUNNERS.has(p.runner ?? '')) pypiNames.add(p.name);
  }
  if (npmNames.size === 0 && pypiNames.size === 0) return;
  const [npm, pypi] = await Promise.all([npxInstalledVersions(loc, npmNames), uvInstalledVersions(loc, pypiNames)]);
  for (const s of open) {
    const p = s.package!;
    const v = p.ecosystem === 'npm' && NPX_RUNNERS.has(p.runner ?? '') ? npm.get(p.name) : p.ecosystem === 'PyPI' && UV_RUNNERS.has(p.runner ?? '') ? pypi.get(p.name) : undefined;
    if (v) p.resolvedVersion = v;
  }
}
