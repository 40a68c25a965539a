// The scan pipeline: discover -> (probe) -> evaluate -> report. Pure orchestration.
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
  /** advisory database handed to the rules (RuleContext.advisories) */
  advisories?: RuleContext['advisories'];
  now?: Date;
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

export async function scan(opts: ScanOptions): Promise<ScanReport> {
  const discovery = await discover({ loc: opts.loc, paths: opts.paths, configFiles: opts.configFiles });
  if (opts.enrich) await opts.enrich(discovery);
  const { clients, servers } = discovery;
  const result = evaluate(servers, { platform: opts.loc.platform, home: opts.loc.home, advisories: opts.advisories });
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
