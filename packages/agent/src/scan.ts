// The scan pipeline, built here and nowhere else: discover -> installed versions (npx/uv caches,
// node_modules paths) -> (probe) -> advisories -> evaluate -> report. `palisade scan`,
// `palisade report`, the daemon and `palisade advisories sync` all come through here, so the
// report a dashboard receives holds the same servers, packages and findings as `scan --json`.
import os from 'node:os';
import { evaluate, levelRank, sortByRisk, SCHEMA_VERSION, type Level, type ScanReport, type Summary, type ClientResult, type CrossFinding, type ScoredServer, type RuleContext } from '@palisade/core';
import { discover, type DiscoveryResult } from './discover.js';
import type { LocationContext } from './clients/types.js';
import { AGENT_NAME, AGENT_VERSION } from './version.js';


export interface ScanOptions {
  loc: LocationContext;
  /** project folders to walk (--path) */
  paths?: string[];
  /** single config files (--config) */
  configFiles?: string[];
  /** extra step between discovery and evaluation (probing, cache resolution); may mutate servers */
  enrich?: (discovery: DiscoveryResult) => Promise<void>;
  /** advisory database handed to the rules (RuleContext.advisories); loaded from the bundled set and the state folder when not given */
  advisories?: RuleContext['advisories'];
  /** false: do not load the advisory database when none is given (tests) */
  loadAdvisories?: boolean;
  /** a sentence to show the user (e.g. advisories could not be loaded); default: stderr */
  warn?: (message: string) => void;
  now?: Date;
}

export type DiscoverStepOptions = Pick<ScanOptions, 'loc' | 'paths' | 'configFiles'>;

/**
 * Discovery plus installed-version resolution: every command that looks at packages (scan,
 * report, advisories sync) takes its servers from here.
 */
export async function discoverServers(opts: DiscoverStepOptions): Promise<DiscoveryResult> {
  const discovery = await discover({ loc: opts.loc, paths: opts.paths, configFiles: opts.configFiles });
  // servers run from a node_modules path run the version installed there: advisories need it
  const { resolveNodeModulesPackages } = await import('./advisories/resolve.js');
  await resolveNodeModulesPackages(discovery);
  return discovery;
}

async function advisoryDb(opts: ScanOptions): Promise<RuleContext['advisories']> {
  if (opts.advisories || opts.loadAdvisories === false) return opts.advisories;
  try {
    const { loadAdvisoryDb } = await import('./advisories/loader.js');
    return loadAdvisoryDb();
  } catch (err) {
    const warn = opts.warn ?? ((m: string) => process.stderr.write(`palisade: warning: ${m}\n`));
    warn(`advisories were not loaded (${err instanceof Error ? err.message : String(err)}); known-vulnerable versions will not be reported.`);
    return undefined;
  }
}

export function summarize(clients: readonly ClientResult[], servers: readonly ScoredServer[], cross: readonly CrossFinding[]): Summary {
  const byLevel: Record<Level, number> = { critical: 0, high: 0, medium: 0, low: 0, none: 0 };
  let maxLevel: Level = 'none';
  let findings = cross.length;
  for (const s of servers) {
    byLevel[s.level] += 1;
    findings += s.findings.length;
    if (levelRank[s.level] > levelRank[maxLevel]) maxLevel = s.level;
  }
  return { clients: new Set(clients.filter((c) => !c.error).map((c) => c.id)).size, servers: servers.length, findings, errors: clients.filter((c) => c.error).length, byLevel, maxLevel };
}

export function hostInfo(): ScanReport['host'] {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (containers): keep 'unknown'
  }
  return { hostname: os.hostname(), os: `${os.platform()} ${os.release()}`, user };
}

/** The whole pipeline, with the discovery (raw servers in memory) for callers that need it. */
export async function runPipeline(opts: ScanOptions): Promise<{ report: ScanReport; discovery: DiscoveryResult }> {
  const discovery = await discoverServers(opts);
  if (opts.enrich) await opts.enrich(discovery);
  const report = evaluateDiscovery(discovery, opts, await advisoryDb(opts));
  return { report, discovery };
}

/** The pipeline's report (see runPipeline). */
export async function scan(opts: ScanOptions): Promise<ScanReport> {
  return (await runPipeline(opts)).report;
}

function evaluateDiscovery(discovery: DiscoveryResult, opts: ScanOptions, advisories: RuleContext['advisories']): ScanReport {
  const { clients, servers } = discovery;
  const result = evaluate(servers, { platform: opts.loc.platform, home: opts.loc.home, advisories });
  return {
    schemaVersion: SCHEMA_VERSION,
    agent: { name: AGENT_NAME, version: AGENT_VERSION },
    host: hostInfo(),
    scannedAt: (opts.now ?? new Date()).toISOString(),
    clients,
    // riskiest first, so every output format and consumer reads the same order
    servers: sortByRisk(result.servers),
    findings: result.findings,
    summary: summarize(clients, result.servers, result.findings),
  };
}
