// The backend never trusts an agent's findings, scores or levels: it strips them and runs
// the same rule engine the CLI runs. Tool pin state is also recomputed from what this
// organisation has seen before, not taken from the agent.
import { evaluate, type AdvisoryDb, type CrossFinding, type Rule, type ScanReport, type ScoredServer, type ServerConfig, type Tool } from '@palisade/core';
import { reportPlatform } from './fingerprint.js';

/** First-seen tool hashes per server fingerprint: fingerprint -> tool name -> first hash and when. */
export type KnownTools = ReadonlyMap<string, ReadonlyMap<string, { hash: string; firstSeen: string }>>;

export interface Rescored {
  servers: ScoredServer[];
  findings: CrossFinding[];
}

export function stripScores(server: ScoredServer): ServerConfig {
  const { findings: _f, score: _s, level: _l, ...config } = server;
  return config;
}

/** Re-pin each tool against the first definition the organisation saw for that server. */
export function repinTools(tools: readonly Tool[] | undefined, known: ReadonlyMap<string, { hash: string; firstSeen: string }> | undefined): Tool[] | undefined {
  if (!tools) return undefined;
  return tools.map((t) => {
    const { pin: _agentPin, ...tool } = t;
    const first = known?.get(t.name);
    if (!t.definitionHash) return tool;
    if (!first) return { ...tool, pin: { status: 'new' as const } };
    if (first.hash === t.definitionHash) return { ...tool, pin: { status: 'unchanged' as const, firstSeen: first.firstSeen } };
    return { ...tool, pin: { status: 'changed' as const, firstSeen: first.firstSeen, previousHash: first.hash } };
  });
}

export function rescoreReport(report: ScanReport, fingerprints: readonly string[], knownTools: KnownTools, rules?: readonly Rule[], advisories?: AdvisoryDb): Rescored {
  const configs = report.servers.map((s, i) => {
    const config = stripScores(s);
    const tools = repinTools(config.tools, knownTools.get(fingerprints[i]!));
    return tools ? { ...config, tools } : config;
  });
  const result = evaluate(configs, { platform: reportPlatform(report.host.os), advisories }, rules);
  return { servers: result.servers, findings: result.findings };
}
