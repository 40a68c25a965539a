// Turning a rule's example cases into full servers and running them: used by the rule
// test harness, the docs generator and `palisade rules ID`.
import type { ServerConfig, Severity } from '../model.js';
import type { Rule, RuleCase, RuleContext } from './types.js';
import { classifyEnvAndHeaders } from '../redaction.js';

export const CASE_CONTEXT: RuleContext = { platform: 'linux', home: '/home/alice' };

/** A complete ServerConfig from a case's partial one; ids default to `case-1`, `case-2`... */
export function caseServer(partial: Partial<ServerConfig>, n = 1): ServerConfig {
  const transport = partial.transport ?? (partial.url && !partial.command ? 'http' : 'stdio');
  return {
    id: `case-${n}`,
    name: `example-${n}`,
    client: 'claude-desktop',
    configPath: '/home/alice/.config/Claude/claude_desktop_config.json',
    scope: 'user',
    transport,
    command: null,
    args: [],
    cwd: null,
    url: null,
    envNames: [],
    headerNames: [],
    ...partial,
  };
}

export function caseServers(c: RuleCase): ServerConfig[] {
  if (c.servers) return c.servers.map((s, i) => caseServer(s, i + 1));
  if (c.env || c.headers) {
    // values are classified the way discovery classifies them, then only names and signals stay
    const v = classifyEnvAndHeaders(c.env, c.headers);
    const partial: Partial<ServerConfig> = { ...c.server, envNames: v.envNames.sort(), headerNames: v.headerNames.sort() };
    if (v.secrets.length) partial.secrets = [...(c.server?.secrets ?? []), ...v.secrets];
    if (v.tlsVerifyDisabled) partial.tlsVerifyDisabled = true;
    return [caseServer(partial, 1)];
  }
  return [caseServer(c.server ?? {}, 1)];
}

export interface CaseHit {
  severity: Severity;
  message: string;
  evidence: string;
  servers?: string[];
}

/** Run one rule on one case and return what it reports. */
export function runRuleCase(rule: Rule, c: RuleCase): CaseHit[] {
  const ctx: RuleContext = { ...CASE_CONTEXT, ...c.ctx };
  const servers = caseServers(c);
  if (rule.kind === 'server') {
    return servers.flatMap((s) => rule.check(s, ctx).map((h) => ({ severity: h.severity ?? rule.meta.severity, message: h.message, evidence: h.evidence })));
  }
  return rule.check(servers, ctx).map((h) => ({ severity: h.severity, message: h.message, evidence: h.evidence, servers: h.servers }));
}
