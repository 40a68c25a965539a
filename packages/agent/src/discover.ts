// Runs every discoverer over its locations on the scanned machine, then the project folders
// of --path and the single files of --config. A file that is missing is skipped; a file that
// cannot be read or parsed becomes a client error; nothing throws.
import { readdirSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { LIMITS, type ClientResult, type ServerConfig } from '@palisade/core';
import { discoverers as allDiscoverers } from './clients/index.js';
import type { ConfigLocation, Discoverer, LocationContext, RawServer } from './clients/types.js';
import { planConfigFile } from './configfile.js';
import { errMessage, readConfigFile } from './formats/file.js';
import { contentFormat, entryLines } from './formats/lines.js';
import { normalizeServer } from './normalize.js';
import { toHostPath } from './paths.js';
import { findProjectFiles } from './project.js';
import { resolveInstalledVersions } from './resolve/index.js';

// kept here too: the package entry and older callers import them from discover
export { errMessage, isNotFound, MAX_CONFIG_BYTES, readConfigFile } from './formats/file.js';

/** entries read from one listed folder (agent files, extension folders, block files) */
export const MAX_LIST_ENTRIES = 500;

export interface DiscoveryResult {
  clients: ClientResult[];
  servers: ServerConfig[];
  /** the servers as written (env values included), by server id: in memory only, for --probe */
  raw: Map<string, RawServer>;
}

export interface DiscoverOptions {
  loc: LocationContext;
  discoverers?: readonly Discoverer[];
  /** project folders to walk for project-level configs (--path) */
  paths?: string[];
  /** single config files of any known format (--config) */
  configFiles?: string[];
  /** look up installed versions of unpinned npx/uvx packages in local caches (default true) */
  resolveVersions?: boolean;
}

interface FileResult {
  client?: ClientResult;
  servers: ServerConfig[];
  raw: RawServer[];
  /** more locations named by an index file */
  more?: ConfigLocation[];
}

/** A location to read, with the host path to read it from (configPath reports that path). */
interface Job {
  d: Discoverer;
  location: ConfigLocation;
  hostPath: string;
}

function failed(d: Discoverer, configPath: string, err: unknown): FileResult {
  return { client: { id: d.id, name: d.name, configPath, serverCount: 0, error: errMessage(err) }, servers: [], raw: [] };
}

/**
 * Servers that are part of the client (Goose's builtin extensions) or that a client extension
 * starts (Zed) have no command or URL in the file: they keep their own transport kind instead
 * of looking like a stdio server with no command.
 */
function withKind(server: ServerConfig, raw: RawServer): ServerConfig {
  if (raw.command || raw.url) return server;
  const t = raw.type?.toLowerCase();
  if (t === 'builtin' || t === 'extension') server.transport = t;
  return server;
}

/** Parse already-read text with one discoverer; never throws. */
export function discoverText(d: Discoverer, location: ConfigLocation, configPath: string, text: string, loc: LocationContext): FileResult {
  const ctx = { path: configPath, scope: location.scope, loc, ...(location.kind ? { kind: location.kind } : {}), ...(location.projectPath ? { projectPath: location.projectPath } : {}) };
  try {
    if (location.index) {
      if (!d.follow) return { servers: [], raw: [] };
      return { servers: [], raw: [], more: d.follow(text, ctx) };
    }
    const raws = d.parse(text, ctx);
    for (const r of raws) if (location.projectPath && !r.projectPath) r.projectPath = location.projectPath;
    const servers = raws.map((raw) => withKind(normalizeServer({ clientId: d.id, configPath, raw, scope: location.scope }), raw));
    const lines = entryLines(text, location.format ?? contentFormat(text, configPath), raws);
    servers.forEach((s, i) => {
      if (lines[i] !== undefined) s.configLine = lines[i];
    });
    return { client: { id: d.id, name: d.name, configPath, serverCount: servers.length }, servers, raw: raws };
  } catch (err) {
    return failed(d, configPath, err);
  }
}

/** Discover one config file with one discoverer; never throws. */
export async function discoverFile(d: Discoverer, location: ConfigLocation, loc: LocationContext, hostPath = toHostPath(location.path, loc.platform)): Promise<FileResult> {
  let text: string | undefined;
  try {
    text = await readConfigFile(hostPath);
  } catch (err) {
    return failed(d, hostPath, err);
  }
  if (text === undefined) return { servers: [], raw: [] };
  return discoverText(d, location, hostPath, text, loc);
}

/**
 * The scan model bounds how many servers and client entries one report may hold; past that the
 * backend would refuse the whole report. Keep the first ones and say plainly what was left out.
 */
function capToModelLimits(clients: ClientResult[], servers: ServerConfig[], raw: Map<string, RawServer>, loc: LocationContext): void {
  const maxClients = LIMITS.clients * 50 - 1;
  if (servers.length > LIMITS.servers) {
    const dropped = servers.splice(LIMITS.servers);
    for (const s of dropped) raw.delete(s.id);
    clients.push({ id: 'palisade', name: 'Palisade discovery', configPath: loc.home, serverCount: 0, error: `found more than ${LIMITS.servers} servers; ${dropped.length} were left out of this report. Scan fewer --path folders at a time.` });
  }
  if (clients.length > maxClients) {
    const n = clients.length - maxClients + 1;
    clients.splice(maxClients - 1, n, { id: 'palisade', name: 'Palisade discovery', configPath: loc.home, serverCount: 0, error: `found more than ${maxClients} config files; ${n} were left out of this report. Scan fewer --path folders at a time.` });
  }
}

/** Expand a folder location into one job per matching file (one level, bounded). */
async function expandList(job: Job): Promise<Job[]> {
  const { list } = job.location;
  if (!list) return [job];
  let entries: Dirent[];
  try {
    // sync, like readConfigFile: one local directory listing (see formats/file.ts)
    entries = readdirSync(job.hostPath, { withFileTypes: true });
  } catch {
    return []; // a missing or unreadable folder simply has no files to offer
  }
  const out: Job[] = [];
  for (const e of entries.slice(0, MAX_LIST_ENTRIES)) {
    const { list: _list, ...rest } = job.location;
    if (list.suffixes && (e.isFile() || e.isSymbolicLink()) && list.suffixes.some((s) => e.name.toLowerCase().endsWith(s))) {
      const hostPath = path.join(job.hostPath, e.name);
      out.push({ d: job.d, location: { ...rest, path: hostPath }, hostPath });
    } else if (list.childFile && (e.isDirectory() || e.isSymbolicLink())) {
      const hostPath = path.join(job.hostPath, e.name, list.childFile);
      out.push({ d: job.d, location: { ...rest, path: hostPath }, hostPath });
    }
  }
  return out;
}

export async function discover(opts: DiscoverOptions): Promise<DiscoveryResult> {
  const list = opts.discoverers ?? allDiscoverers;
  const { loc } = opts;
  const clients: ClientResult[] = [];
  const servers: ServerConfig[] = [];
  const raw = new Map<string, RawServer>();
  const seen = new Set<string>();

  const collect = (r: FileResult): void => {
    if (r.client) clients.push(r.client);
    r.servers.forEach((s, i) => {
      // the same server reached twice (e.g. a --path that includes the home) counts once
      if (raw.has(s.id)) return;
      servers.push(s);
      raw.set(s.id, r.raw[i]!);
    });
  };
  const fresh = (job: Job): boolean => {
    const key = `${job.d.id}\0${job.hostPath}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  const run = async (jobs: Job[]): Promise<void> => {
    const expanded = (await Promise.all(jobs.map((j) => expandList(j)))).flat().filter(fresh);
    const results = await Promise.all(expanded.map((j) => discoverFile(j.d, j.location, loc, j.hostPath)));
    const follow: Job[] = [];
    results.forEach((r, i) => {
      collect(r);
      // an index names more files: read them, one level only (what they name is not followed)
      for (const location of r.more ?? []) {
        const d = expanded[i]!.d;
        follow.push({ d, location: { ...location, index: false }, hostPath: toHostPath(location.path, loc.platform) });
      }
    });
    if (follow.length) {
      const more = await Promise.all(follow.filter(fresh).map((j) => discoverFile(j.d, j.location, loc, j.hostPath)));
      more.forEach(collect);
    }
  };

  try {
    const jobs: Job[] = [];
    for (const d of list) {
      let locations: ConfigLocation[];
      try {
        locations = d.locations(loc);
      } catch (err) {
        clients.push({ id: d.id, name: d.name, configPath: loc.home, serverCount: 0, error: `cannot work out where this client keeps its config: ${errMessage(err)}` });
        continue;
      }
      for (const location of locations) {
        jobs.push({ d, location, hostPath: toHostPath(location.path, loc.platform) });
      }
    }
    await run(jobs);

    if (opts.paths?.length) {
      const walk = await findProjectFiles(opts.paths, list);
      for (const e of walk.errors) clients.push({ id: 'project-folder', name: 'Project folder (--path)', configPath: e.path, serverCount: 0, error: e.error });
      await run(walk.locations.map(({ d, location }) => ({ d, location, hostPath: location.path })));
    }

    for (const file of opts.configFiles ?? []) {
      const plan = await planConfigFile(file, list, loc);
      if ('error' in plan) {
        clients.push({ id: plan.clientId, name: plan.clientName, configPath: plan.path, serverCount: 0, error: plan.error });
        continue;
      }
      const job: Job = { d: plan.d, location: plan.location, hostPath: plan.location.path };
      if (!fresh(job)) continue;
      collect(discoverText(plan.d, plan.location, plan.location.path, plan.text, loc));
    }
  } catch (err) {
    // a bug here must not cost the user the servers already found
    clients.push({ id: 'palisade', name: 'Palisade discovery', configPath: loc.home, serverCount: 0, error: `discovery stopped early: ${errMessage(err)}` });
  }

  capToModelLimits(clients, servers, raw, loc);

  if (opts.resolveVersions !== false) {
    try {
      await resolveInstalledVersions(servers, loc);
    } catch {
      // cache lookups are a best-effort extra: a surprise in a cache folder never fails the scan
    }
  }
  return { clients, servers, raw };
}
