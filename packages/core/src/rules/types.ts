// A rule is a small module: metadata plus one check. Shape borrowed from lint rules:
// every rule file sits beside a table of valid and invalid cases.
import type { CrossFinding, ServerConfig, Severity } from '../model.js';

export type RuleCategory = 'config' | 'tool' | 'flow' | 'advisory';

export interface RuleMeta {
  /** PAL-C001 config, PAL-T001 tool, PAL-F001 flow, PAL-V001 advisory */
  id: string;
  title: string;
  severity: Severity;
  category: RuleCategory;
  /** why this matters, in a sentence or three */
  rationale: string;
  /** what to do about it */
  remediation: string;
  /** optional reading */
  references?: string[];
}

/** One hit from a per-server rule. Severity defaults to the rule's own. */
export interface RuleHit {
  message: string;
  evidence: string;
  severity?: Severity;
}

export interface RuleContext {
  /** platform the config belongs to, for path rules */
  platform: 'darwin' | 'linux' | 'win32';
  /** home directory the config was read under, for "broad scope" rules */
  home?: string;
  /** advisory database for PAL-V rules; absent means no advisory matching */
  advisories?: import('../advisories/db.js').AdvisoryDb;
}

export interface ServerRule {
  meta: RuleMeta;
  kind: 'server';
  /** the rule's own valid/invalid examples (tests, docs and `palisade rules ID` use them) */
  cases?: RuleCases;
  check(server: ServerConfig, ctx: RuleContext): RuleHit[];
  /**
   * The rule reads nothing of a server but its tools, so it has nothing to say about a server
   * that lists none (most servers, without --probe): the engine does not call it for one.
   */
  toolsOnly?: true;
}

/** A rule that looks across servers (shadowing, collisions, flows). */
export interface ScanRule {
  meta: RuleMeta;
  kind: 'scan';
  /** the rule's own valid/invalid examples; scan rules give `servers` */
  cases?: RuleCases;
  /**
   * Where a hit is counted: `servers` (default) also puts it on each server it names (a
   * shadowing server is itself at fault); `report` keeps it only in the report's top-level
   * findings, once (PAL-F001: the combination is the risk, not any one server).
   */
  attach?: 'servers' | 'report';
  check(servers: readonly ServerConfig[], ctx: RuleContext): Omit<CrossFinding, 'ruleId' | 'title'>[];
  /**
   * The rule reads nothing of the servers but their tools, so it has nothing to say about a scan
   * in which no server lists any (without --probe): the engine does not call it for one.
   */
  toolsOnly?: true;
}

export type Rule = ServerRule | ScanRule;

/**
 * A rule's own test table, kept beside it. Server rules give `server`; scan rules give
 * `servers` (several servers judged together). `ctx` overrides the default context.
 */
export interface RuleCase {
  name: string;
  server?: Partial<ServerConfig>;
  servers?: Array<Partial<ServerConfig>>;
  /** env values as a config writes them (one-server cases): classified as discovery does, then dropped */
  env?: Record<string, string>;
  /** header values as a config writes them (one-server cases) */
  headers?: Record<string, string>;
  ctx?: Partial<RuleContext>;
}

export interface RuleCases {
  valid: RuleCase[];
  invalid: Array<RuleCase & { evidence?: RegExp | string; severity?: Severity }>;
}
