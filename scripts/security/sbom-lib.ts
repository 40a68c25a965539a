// CycloneDX 1.5 SBOM of one workspace package, built from package-lock.json: the package's
// production dependency graph resolved the way Node resolves (nearest node_modules up the
// tree). Made here rather than by `npm sbom -w`, which leaves out hoisted dependencies
// that other workspaces share (checked with npm 11.19: zod missing from @palisade/core's).
import { randomUUID } from 'node:crypto';

export interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  license?: string;
  link?: boolean;
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export interface Lockfile {
  packages: Record<string, LockEntry>;
}

interface Component {
  type: 'library' | 'application';
  'bom-ref': string;
  name: string;
  version: string;
  purl: string;
  licenses?: Array<{ expression: string }>;
  hashes?: Array<{ alg: string; content: string }>;
}

export interface CycloneDxBom {
  bomFormat: 'CycloneDX';
  specVersion: '1.5';
  serialNumber: string;
  version: 1;
  metadata: { timestamp: string; tools: { components: Array<{ type: 'application'; name: string; version: string }> }; component: Component };
  components: Component[];
  dependencies: Array<{ ref: string; dependsOn: string[] }>;
}

/** Where Node would find `name` when required from the package at `from` (a lockfile key). */
export function resolveIn(lock: Lockfile, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut >= 0 ? dir.slice(0, cut) : '';
  }
}

export function purl(name: string, version: string): string {
  return `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${version}`;
}

function nameAt(location: string, e: LockEntry): string {
  return e.name ?? location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

function sriToHex(integrity: string | undefined): Array<{ alg: string; content: string }> | undefined {
  const m = /^sha512-([A-Za-z0-9+/=]+)$/.exec(integrity?.split(/\s+/)[0] ?? '');
  return m ? [{ alg: 'SHA-512', content: Buffer.from(m[1]!, 'base64').toString('hex') }] : undefined;
}

/** The SBOM of the workspace at lockfile key `workspace` (e.g. `packages/core`). */
export function buildSbom(lock: Lockfile, workspace: string, now = new Date()): CycloneDxBom {
  const root = lock.packages[workspace];
  if (!root) throw new Error(`${workspace} is not in package-lock.json; run npm install first.`);
  const component = (location: string, e: LockEntry, type: Component['type'] = 'library'): Component => {
    const name = nameAt(location, e);
    const version = e.version ?? '0.0.0';
    const hashes = sriToHex(e.integrity);
    return { type, 'bom-ref': purl(name, version), name, version, purl: purl(name, version), ...(e.license ? { licenses: [{ expression: e.license }] } : {}), ...(hashes ? { hashes } : {}) };
  };
  const components = new Map<string, Component>();
  const deps = new Map<string, Set<string>>();
  const rootComponent = component(workspace, root, 'application');
  const queue: Array<[string, LockEntry, string]> = [[workspace, root, rootComponent['bom-ref']]];
  const seen = new Set<string>([workspace]);
  while (queue.length) {
    const [location, entry, ref] = queue.shift()!;
    const wanted = { ...entry.dependencies, ...entry.optionalDependencies };
    for (const [peer] of Object.entries(entry.peerDependencies ?? {})) if (!entry.peerDependenciesMeta?.[peer]?.optional) wanted[peer] = '*';
    const edges = deps.get(ref) ?? new Set<string>();
    deps.set(ref, edges);
    for (const name of Object.keys(wanted).sort()) {
      let at = resolveIn(lock, location, name);
      if (!at) continue; // an optional dependency not installed on this platform
      let e = lock.packages[at]!;
      if (e.link && e.resolved && lock.packages[e.resolved]) {
        at = e.resolved;
        e = lock.packages[at]!;
      }
      const c = component(at, { ...e, name: e.name ?? name });
      components.set(c['bom-ref'], c);
      edges.add(c['bom-ref']);
      if (!seen.has(at)) {
        seen.add(at);
        queue.push([at, e, c['bom-ref']]);
      }
    }
  }
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: { timestamp: now.toISOString(), tools: { components: [{ type: 'application', name: 'palisade-sbom', version: '1' }] }, component: rootComponent },
    components: [...components.values()].sort((a, b) => a['bom-ref'].localeCompare(b['bom-ref'])),
    dependencies: [...deps.entries()].map(([ref, on]) => ({ ref, dependsOn: [...on].sort() })),
  };
}
