// The backend never trusts an agent's findings, scores or levels: it strips them and runs
// the same rule engine the CLI runs. Tool pin state is also recomputed from what this
// organisation has seen before, not taken from the agent.
import { createHash } from 'node:crypto';
import { allRules, evaluate, reportPlatform, toolPin, type AdvisoryDb, type CrossFinding, type Rule, type RuleContext, type ScanReport, type ScoredServer, type ServerConfig, type ServerRule, type Tool } from '@palisade/core';

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

/** A tool without the agent's pin: every own property but `pin`. */
function withoutPin(t: Tool): Tool {
  const out: Record<string, unknown> = {};
  for (const k in t) if (k !== 'pin' && Object.hasOwn(t, k)) out[k] = (t as unknown as Record<string, unknown>)[k];
  return out as unknown as Tool;
}

/** Re-pin each tool against the first definition the organisation saw for that server. */
export function repinTools(tools: readonly Tool[] | undefined, known: ReadonlyMap<string, { hash: string; firstSeen: string }> | undefined): Tool[] | undefined {
  if (!tools) return undefined;
  return tools.map((t) => {
    const tool = withoutPin(t);
    const first = known?.get(t.name);
    if (!t.definitionHash) return tool;
    tool.pin = toolPin(first, t.definitionHash);
    return tool;
  });
}

// ---- Per-server rule results, remembered.
// A per-server rule is a function of the server it is given and the context's platform and
// home (advisory rules also read the stored advisories, which change on import: they always
// run). A fleet re-reports the same servers over and over, and a changed report usually
// changes one server of many, so the results of the others are taken from here. The key is
// a digest of the whole server as the rules see it (pins included) and of the context, so a
// different input can never hit. Cross-server (scan) rules always run.

/** Servers whose rule results are remembered, per rule set (least recently used go first). */
export const RULE_MEMO_SERVERS = 5000;

type Hits = ReturnType<ServerRule['check']>;

class RuleMemo {
  readonly rules: readonly Rule[];
  private readonly entries = new Map<string, Array<Hits | undefined>>();
  /** each server object's entry, looked up once per evaluation context (not once per rule) */
  private readonly current = new WeakMap<ServerConfig, { ctx: string; entry: Array<Hits | undefined> }>();

  constructor(source: readonly Rule[], private readonly max: number) {
    this.rules = source.map((rule, index) => (rule.kind === 'server' && rule.meta.category !== 'advisory' ? this.wrap(rule, index) : rule));
  }

  /** The remembered results of this server (as the rules see it) in this context, made most recently used. */
  private entryOf(server: ServerConfig, ctx: RuleContext): Array<Hits | undefined> {
    const context = `${ctx.platform}\u0000${ctx.home ?? ''}`;
    const cur = this.current.get(server);
    if (cur && cur.ctx === context) return cur.entry;
    const key = `${context}\u0000${createHash('sha256').update(JSON.stringify(server)).digest('base64')}`;
    let entry = this.entries.get(key);
    if (entry) this.entries.delete(key);
    else entry = [];
    this.entries.set(key, entry);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    this.current.set(server, { ctx: context, entry });
    return entry;
  }

  /**
   * Runs the remembered rules on these servers now (results kept, a throw left for evaluate()
   * to report): evaluate() on the same server objects in the same context then only reads them.
   */
  warm(servers: readonly ServerConfig[], ctx: RuleContext): void {
    for (const server of servers)
      for (const rule of this.rules) {
        if (rule.kind !== 'server' || rule.meta.category === 'advisory') continue;
        try {
          rule.check(server, ctx);
        } catch {
          // evaluate() runs it again and records the rule's failure
        }
      }
  }

  private wrap(rule: ServerRule, index: number): ServerRule {
    return {
      ...rule,
      check: (server, ctx) => {
        const entry = this.entryOf(server, ctx);
        const hit = entry[index];
        if (hit) return hit;
        const hits = rule.check(server, ctx); // a throw is not remembered: evaluate() reports it
        entry[index] = hits;
        return hits;
      },
    };
  }
}

const memos = new WeakMap<readonly Rule[], RuleMemo>();

function memoFor(rules: readonly Rule[]): RuleMemo {
  let memo = memos.get(rules);
  if (!memo) memos.set(rules, (memo = new RuleMemo(rules, RULE_MEMO_SERVERS)));
  return memo;
}

function rescoreInputs(report: ScanReport, fingerprints: readonly string[], knownTools: KnownTools, advisories?: AdvisoryDb): { configs: ServerConfig[]; ctx: RuleContext } {
  const configs = report.servers.map((s, i) => {
    const config = stripScores(s);
    const tools = repinTools(config.tools, knownTools.get(fingerprints[i]!));
    return tools ? { ...config, tools } : config;
  });
  return { configs, ctx: { platform: reportPlatform(report.host.os), advisories } };
}

export function rescoreReport(report: ScanReport, fingerprints: readonly string[], knownTools: KnownTools, rules: readonly Rule[] = allRules, advisories?: AdvisoryDb): Rescored {
  const { configs, ctx } = rescoreInputs(report, fingerprints, knownTools, advisories);
  const result = evaluate(configs, ctx, memoFor(rules).rules);
  return { servers: anchorReportFindings(result.servers, result.findings, rules), findings: result.findings };
}

/** Servers whose per-server rules run between two turns of the event loop (rescoreReportSliced). */
export const RESCORE_SLICE_SERVERS = 32;

/**
 * The same result as rescoreReport, with the per-server rules run first a slice of servers at
 * a time, a turn of the event loop between slices (the results remembered), so a report of a
 * thousand servers does not hold the event loop for its whole re-scoring; evaluate() then only
 * runs the cross-server rules and reads the remembered results.
 */
export async function rescoreReportSliced(
  report: ScanReport,
  fingerprints: readonly string[],
  knownTools: KnownTools,
  rules: readonly Rule[] = allRules,
  advisories?: AdvisoryDb,
  slice = RESCORE_SLICE_SERVERS,
): Promise<Rescored> {
  const { configs, ctx } = rescoreInputs(report, fingerprints, knownTools, advisories);
  const memo = memoFor(rules);
  for (let i = 0; i < configs.length; i += slice) {
    memo.warm(configs.slice(i, i + slice), ctx);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const result = evaluate(configs, ctx, memo.rules);
  return { servers: anchorReportFindings(result.servers, result.findings, rules), findings: result.findings };
}

/**
 * Findings stored per server instance: a cross-server finding that core keeps in the report
 * alone (PAL-F001, one per client) is stored ONCE, on the first server it names (its message
 * names all of them), so it is neither lost nor counted on every server. That server's score
 * stays the one core gave it, as in `palisade scan`.
 */
export function anchorReportFindings(servers: ScoredServer[], findings: readonly CrossFinding[], rules: readonly Rule[]): ScoredServer[] {
  const reportOnly = new Set(rules.filter((r) => r.kind === 'scan' && r.attach === 'report').map((r) => r.meta.id));
  if (reportOnly.size === 0 || findings.length === 0) return servers;
  const index = new Map(servers.map((s, i) => [s.id, i]));
  const out = [...servers];
  for (const f of findings) {
    if (!reportOnly.has(f.ruleId)) continue;
    const i = f.servers.map((id) => index.get(id)).find((x) => x !== undefined);
    if (i === undefined) continue;
    const { servers: _ids, client: _client, ...finding } = f;
    const s = out[i]!;
    if (s.findings.some((x) => x.ruleId === finding.ruleId && x.evidence === finding.evidence)) continue;
    out[i] = { ...s, findings: [...s.findings, finding] };
  }
  return out;
}
