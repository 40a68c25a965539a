// Applies every rule to a scan's servers: the same code runs in the agent, the backend
// and (later) the gateway, so a server scores the same wherever it is judged.
import type { CrossFinding, Finding, ScoredServer, ServerConfig } from './model.js';
import { LIMITS, severityRank } from './model.js';
import { allRules } from './rules/index.js';
import type { Rule, RuleContext, RuleMeta, ServerRule } from './rules/types.js';
import { scoreFindings } from './scoring.js';
import { redactText, toolsOf } from './rules/helpers.js';
import { compareText } from './order.js';
import { shallowCopy } from './copy.js';

export interface Evaluation {
  servers: ScoredServer[];
  findings: CrossFinding[];
}

/** Keep text inside the wire format's limits. */
function fit(text: unknown, max: number): string {
  const s = typeof text === 'string' ? text : String(text ?? '');
  return s.length <= max ? s : s.slice(0, max - 1) + '…';
}

function finding(meta: RuleMeta, severity: Finding['severity'] | undefined, message: unknown, evidence: unknown): Finding {
  return {
    ruleId: meta.id,
    severity: severity && Object.hasOwn(severityRank, severity) ? severity : meta.severity,
    title: fit(meta.title, LIMITS.shortString),
    // last wall: whatever a rule quoted, nothing shaped like a secret leaves the engine
    message: fit(redactText(typeof message === 'string' ? message : String(message ?? '')), LIMITS.longString),
    evidence: fit(redactText(typeof evidence === 'string' ? evidence : String(evidence ?? '')), LIMITS.longString),
  };
}

// A rule that throws on odd input must not take the whole scan (or an ingest) down with it:
// the server gets an info finding that says so, and the other rules still run.
function ruleFailed(meta: RuleMeta): Finding {
  return {
    ruleId: meta.id,
    severity: 'info',
    title: fit(meta.title, LIMITS.shortString),
    message: `Rule ${meta.id} could not evaluate this entry because its data is malformed; the other rules still ran. Please report this with the config shape that caused it.`,
    evidence: 'rule error',
  };
}

export function evaluate(servers: readonly ServerConfig[], ctx: RuleContext, rules: readonly Rule[] = allRules): Evaluation {
  // each server's findings, by position; cross-server hits name servers by id
  const lists: Finding[][] = new Array(servers.length);
  const perServer = new Map<string, Finding[]>();
  for (let i = 0; i < servers.length; i++) {
    // two servers with one id share one list
    const id = servers[i]!.id;
    let list = perServer.get(id);
    if (!list) perServer.set(id, (list = []));
    lists[i] = list;
  }
  // indexed loops: servers x rules is tens of thousands of checks, mostly with no hit, and the
  // CLI's scan runs without the optimising compiler, where each for...of allocates an iterator
  // and a result object per step (~1.5 MB in the 500-server bench scan, a young-generation GC)
  const serverRules = rules.filter((r): r is ServerRule => r.kind === 'server');
  // the rules that read only tools, apart: most servers list none, and then they are not called
  // (nor the scan rules that read only tools, when no server lists any)
  const anyServerRules = serverRules.filter((r) => r.toolsOnly !== true);
  let anyTools = false;
  for (let i = 0; i < servers.length; i++) {
    const server = servers[i]!;
    const list = lists[i]!;
    const hasTools = toolsOf(server).length > 0;
    if (hasTools) anyTools = true;
    const ruleList = hasTools ? serverRules : anyServerRules;
    for (let r = 0; r < ruleList.length; r++) {
      const rule = ruleList[r]!;
      try {
        const hits = rule.check(server, ctx);
        for (let h = 0; h < hits.length; h++) {
          const hit = hits[h]!;
          list.push(finding(rule.meta, hit.severity, hit.message, hit.evidence));
        }
      } catch {
        list.push(ruleFailed(rule.meta));
      }
    }
  }
  const cross: CrossFinding[] = [];
  for (const rule of rules) {
    if (rule.kind !== 'scan' || (rule.toolsOnly === true && !anyTools)) continue;
    let hits: ReturnType<typeof rule.check>;
    try {
      hits = rule.check(servers, ctx);
    } catch {
      hits = [];
    }
    for (const hit of hits) {
      const ids = [...new Set((hit.servers ?? []).filter((id) => perServer.has(id)))];
      const base = finding(rule.meta, hit.severity, hit.message, hit.evidence);
      const crossFinding: CrossFinding = { ...base, servers: ids, ...(hit.client !== undefined ? { client: fit(hit.client, LIMITS.shortString) } : {}) };
      cross.push(crossFinding);
      // A cross-server finding also counts against each server it names, unless the rule
      // keeps it in the report alone (one finding per client, not one per server).
      if (rule.attach !== 'report') for (const id of ids) perServer.get(id)!.push(base);
    }
  }
  const scored = servers.map((server, i) => {
    // worst first; beyond the wire format's cap only the least severe are dropped (a list of
    // none or one, most servers', is already all of that)
    const list = lists[i]!;
    const findings = list.length <= 1 ? list : dedupe(list).sort(byFinding).slice(0, LIMITS.findingsPerServer);
    const { score, level } = scoreFindings(findings);
    // a copy with the three fields added one by one, not a spread (see shallowCopy)
    const out = shallowCopy(server) as ScoredServer;
    out.findings = findings;
    out.score = score;
    out.level = level;
    return out;
  });
  return { servers: scored, findings: cross.sort(byFinding).slice(0, LIMITS.servers) };
}

/** Same rule, same evidence twice (a server listed twice in a cross finding): count once. */
function dedupe(findings: Finding[]): Finding[] {
  // a server's few findings are compared pair by pair: no key text is built for each of them
  if (findings.length <= 16) {
    const out: Finding[] = [];
    for (let i = 0; i < findings.length; i++) {
      const f = findings[i]!;
      let dup = false;
      for (let j = 0; j < out.length && !dup; j++) {
        const g = out[j]!;
        dup = g.ruleId === f.ruleId && g.severity === f.severity && g.evidence === f.evidence && g.message === f.message;
      }
      if (!dup) out.push(f);
    }
    return out;
  }
  const seen = new Set<string>();
  return findings.filter((f) => {
    // unambiguous whatever the texts hold (a NUL in one of them cannot make two findings one)
    const key = JSON.stringify([f.ruleId, f.severity, f.evidence, f.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function byFinding(a: Finding, b: Finding): number {
  return severityRank[b.severity] - severityRank[a.severity] || compareText(a.ruleId, b.ruleId) || compareText(a.evidence, b.evidence) || compareText(a.message, b.message);
}
