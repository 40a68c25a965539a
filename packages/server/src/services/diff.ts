// What changed on one host between its previous report and this one. Pure: the ingest
// service loads the previous state, calls diffHost, and stores the events it returns.
import { levelRank, type Finding, type Level, type Severity } from '@palisade/core';

export type EventType = 'host_added' | 'server_added' | 'server_removed' | 'config_changed' | 'tool_changed' | 'level_raised' | 'finding_added' | 'override_voided' | 'advisory_matched' | 'gateway_quarantine';

/** One instance (server configured on this host in one client/file) as the diff sees it. */
export interface InstanceState {
  key: string;
  name: string;
  client: string;
  configPath: string;
  fingerprint: string;
  score: number;
  level: Level;
  findings: ReadonlyArray<Pick<Finding, 'ruleId' | 'severity' | 'title' | 'evidence'>>;
}

export interface ToolChange {
  fingerprint: string;
  serverName: string;
  tool: string;
  previousHash: string;
  hash: string;
}

export interface EventDraft {
  type: EventType;
  severity: Severity;
  /** instance key the event is about, when it is about one */
  instanceKey: string | null;
  /** server fingerprint it is about (the new one for changes) */
  fingerprint: string | null;
  summary: string;
  details: Record<string, unknown>;
}

export function levelToSeverity(level: Level): Severity {
  return level === 'none' ? 'info' : level;
}

function maxSeverity(a: Severity, b: Severity): Severity {
  const rank: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
  return rank[a] >= rank[b] ? a : b;
}

const findingKey = (f: Pick<Finding, 'ruleId' | 'evidence'>) => `${f.ruleId}\u0000${f.evidence}`;

/**
 * Events for one host. `previous` is null for a host's first report. Tool changes are
 * computed by the caller against the organisation's first-seen tool hashes (a rug pull
 * is a change from the FIRST definition seen, wherever it was seen).
 */
export function diffHost(hostname: string, previous: readonly InstanceState[] | null, next: readonly InstanceState[], toolChanges: readonly ToolChange[] = []): EventDraft[] {
  const events: EventDraft[] = [];
  if (previous === null) {
    events.push({ type: 'host_added', severity: 'info', instanceKey: null, fingerprint: null, summary: `New host ${hostname} reported ${next.length} MCP server${next.length === 1 ? '' : 's'}.`, details: { servers: next.length } });
  }
  const before = new Map((previous ?? []).map((i) => [i.key, i]));
  const after = new Map(next.map((i) => [i.key, i]));

  for (const cur of next) {
    const old = before.get(cur.key);
    if (!old) {
      events.push({
        type: 'server_added',
        severity: levelToSeverity(cur.level),
        instanceKey: cur.key,
        fingerprint: cur.fingerprint,
        summary: `New MCP server "${cur.name}" (${cur.level} risk, score ${cur.score}) in ${cur.client} on ${hostname}.`,
        details: { client: cur.client, configPath: cur.configPath, level: cur.level, score: cur.score },
      });
      continue;
    }
    if (old.fingerprint !== cur.fingerprint) {
      events.push({
        type: 'config_changed',
        severity: maxSeverity('medium', levelToSeverity(cur.level)),
        instanceKey: cur.key,
        fingerprint: cur.fingerprint,
        summary: `The configuration of "${cur.name}" in ${cur.client} on ${hostname} changed.`,
        details: { client: cur.client, configPath: cur.configPath, from: old.fingerprint, to: cur.fingerprint, previousLevel: old.level, level: cur.level },
      });
    }
    if (levelRank[cur.level] > levelRank[old.level]) {
      events.push({
        type: 'level_raised',
        severity: levelToSeverity(cur.level),
        instanceKey: cur.key,
        fingerprint: cur.fingerprint,
        summary: `"${cur.name}" on ${hostname} rose from ${old.level} to ${cur.level} risk (score ${old.score} -> ${cur.score}).`,
        details: { from: old.level, to: cur.level, previousScore: old.score, score: cur.score },
      });
    }
    const seen = new Set(old.findings.map(findingKey));
    for (const f of cur.findings) {
      if ((f.severity === 'critical' || f.severity === 'high') && !seen.has(findingKey(f))) {
        events.push({
          type: 'finding_added',
          severity: f.severity,
          instanceKey: cur.key,
          fingerprint: cur.fingerprint,
          summary: `New ${f.severity} finding ${f.ruleId} (${f.title}) on "${cur.name}" on ${hostname}.`,
          details: { ruleId: f.ruleId, evidence: f.evidence },
        });
      }
    }
  }
  for (const old of previous ?? []) {
    if (after.has(old.key)) continue;
    events.push({
      type: 'server_removed',
      severity: 'info',
      instanceKey: old.key,
      fingerprint: old.fingerprint,
      summary: `MCP server "${old.name}" was removed from ${old.client} on ${hostname}.`,
      details: { client: old.client, configPath: old.configPath, level: old.level },
    });
  }
  for (const t of toolChanges) {
    events.push({
      type: 'tool_changed',
      severity: 'high',
      instanceKey: null,
      fingerprint: t.fingerprint,
      summary: `The definition of tool "${t.tool}" of "${t.serverName}" changed since it was first seen (possible rug pull).`,
      details: { tool: t.tool, previousHash: t.previousHash, hash: t.hash },
    });
  }
  return events;
}

/** Which events also become alerts: every event except a host's first appearance. */
export function raisesAlert(e: Pick<EventDraft, 'type'>): boolean {
  return e.type !== 'host_added';
}
