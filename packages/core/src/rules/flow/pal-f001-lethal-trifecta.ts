// PAL-F001: one client holding untrusted input, private data and an outbound channel at once (the "lethal trifecta").
import type { CrossFinding, ServerConfig, Tool } from '../../model.js';
import type { RuleCases, ScanRule } from '../types.js';
import { contextsOf, packageOf, safeText, serverLabel, toolsOf } from '../helpers.js';

export type FlowRole = 'untrusted' | 'private' | 'sink';

// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      {
        name: 'private data and a sink but nothing untrusted',
        servers: [
          { name: 'filesystem', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/home/alice/src'] },
          { name: 'calc', tools: [{ name: 'add', description: 'Adds two numbers.' }] },
        ],
      },
      {
        name: 'the three spread over different clients',
        servers: [
          { name: 'fetch', client: 'cursor', command: 'uvx', args: ['mcp-server-fetch==2025.4.7'] },
          { name: 'filesystem', client: 'claude-desktop', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/home/alice/src'] },
        ],
      },
      { name: 'one harmless server', servers: [{ name: 'time', command: 'uvx', args: ['mcp-server-time==2025.7.1'] }] },
      {
        name: 'servers of two different projects never meet',
        servers: [
          { name: 'fetch', client: 'claude-code', scope: 'project', projectPath: '/home/alice/site', command: 'uvx', args: ['mcp-server-fetch==2025.4.7'] },
          { name: 'filesystem', client: 'claude-code', scope: 'project', projectPath: '/home/alice/secrets-app', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/home/alice/secrets-app'] },
        ],
      },
    ],
    invalid: [
      {
        name: 'fetch plus filesystem (known packages)',
        servers: [
          { id: 'fetch', name: 'fetch', command: 'uvx', args: ['mcp-server-fetch==2025.4.7'] },
          { id: 'fs', name: 'filesystem', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/home/alice/src'] },
        ],
        evidence: /untrusted input: "fetch".*private data: "filesystem".*external sink: "fetch"/,
        severity: 'high',
      },
      {
        name: 'judged from tools',
        servers: [
          { id: 'web', name: 'web', tools: [{ name: 'browse_url', description: 'Open a web page and return its text.' }] },
          { id: 'db', name: 'crm', tools: [{ name: 'query_customers', description: 'Run a SQL query against the customer database.' }] },
          { id: 'mail', name: 'mailer', tools: [{ name: 'send_email', description: 'Send an email to any address.' }] },
        ],
        evidence: /send_email/,
      },
      {
        name: 'a user-scope server joins every project',
        servers: [
          { id: 'fetch', name: 'fetch', client: 'claude-code', command: 'uvx', args: ['mcp-server-fetch==2025.4.7'] },
          { id: 'fs', name: 'filesystem', client: 'claude-code', scope: 'project', projectPath: '/home/alice/app', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/home/alice/app'] },
          { id: 'time', name: 'time', client: 'claude-code', scope: 'project', projectPath: '/home/alice/other', command: 'uvx', args: ['mcp-server-time==2025.7.1'] },
        ],
        evidence: /"filesystem" via/,
      },
      {
        name: 'one finding per client, however many projects see it',
        servers: [
          { id: 'fetch', name: 'fetch', client: 'claude-code', command: 'uvx', args: ['mcp-server-fetch==2025.4.7'] },
          { id: 'fs1', name: 'filesystem', client: 'claude-code', scope: 'project', projectPath: '/home/alice/app', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/home/alice/app'] },
          { id: 'fs2', name: 'sqlite', client: 'claude-code', scope: 'project', projectPath: '/home/alice/site', command: 'uvx', args: ['mcp-server-sqlite==2025.4.25'] },
        ],
        evidence: /private data: "filesystem" via .*"sqlite" via/,
      },
      { name: 'a single server holding all three', servers: [{ id: 'gh', name: 'github', command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@2025.4.8'] }], evidence: /github/ },
      {
        name: 'a disabled server still counts, and is named as disabled',
        servers: [
          { id: 'fetch', name: 'fetch', command: 'uvx', args: ['mcp-server-fetch==2025.4.7'], disabled: true },
          { id: 'fs', name: 'filesystem', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/home/alice/src'] },
        ],
        evidence: /disabled/,
      },
    ],
  };
}

let cases: RuleCases | undefined;

interface Signal {
  role: FlowRole;
  re: RegExp;
}

// Read from tool names and descriptions when the tools are known.
const TOOL_SIGNALS: Signal[] = [
  { role: 'untrusted', re: /\b(?:fetch|browse|browser|navigate|scrape|crawl|web[_ -]?search|search[_ -]?web|visit|open[_ -]?url|get[_ -]?url|http[_ -]?get|read[_ -]?(?:email|mail|inbox|messages?|channel)|get[_ -]?(?:issue|issues|pull[_ -]?request|comments?|messages?|emails?)|list[_ -]?(?:issues|emails|messages)|rss|web\s+page|webpage|url)\b/i },
  { role: 'private', re: /\b(?:read[_ -]?(?:file|text[_ -]?file|multiple[_ -]?files)|list[_ -]?directory|directory[_ -]?tree|search[_ -]?files|file\s*system|filesystem|sql|query|database|db|table|records?|customers?|drive|documents?|notes?|vault|secrets?|passwords?|credentials?|inbox|emails?|calendar|contacts|private\s+repo|repositor(?:y|ies))\b/i },
  { role: 'sink', re: /\b(?:send|post|publish|upload|push|webhook|http[_ -]?(?:post|request)|create[_ -]?(?:issue|comment|pull[_ -]?request|pr|gist|page)|comment|reply|tweet|share|email\s+to|fetch|browse|navigate|open[_ -]?url)\b/i },
];

// Well-known packages and server names, for when tools are not known (no --probe).
const NAME_SIGNALS: Array<{ re: RegExp; roles: FlowRole[] }> = [
  { re: /fetch|browser|puppeteer|playwright|firecrawl|tavily|brave|exa-mcp|scrap|crawl|web-?search|perplexity|context7/i, roles: ['untrusted', 'sink'] },
  { re: /github|gitlab|jira|linear|atlassian|confluence|slack|discord|teams|gmail|outlook|email|mail|notion|zendesk|intercom/i, roles: ['untrusted', 'private', 'sink'] },
  { re: /filesystem|server-fs|\bfs\b|desktop-commander|postgres|mysql|sqlite|mongo|redis|supabase|database|gdrive|google-drive|onedrive|dropbox|obsidian|1password|vault|keychain|mcp-server-git\b|server-git\b/i, roles: ['private'] },
  { re: /stripe|sentry|cloudflare|aws|azure|gcp|kubernetes|docker/i, roles: ['private', 'sink'] },
];

function toolRoles(tool: Tool): Set<FlowRole> {
  const text = `${tool.name.replace(/_/g, ' ')} ${tool.name} ${typeof tool.description === 'string' ? tool.description.slice(0, 400) : ''}`;
  return new Set(TOOL_SIGNALS.filter((s) => s.re.test(text)).map((s) => s.role));
}

export interface RoleEvidence {
  role: FlowRole;
  server: ServerConfig;
  /** the tool, package or name that gave the role */
  via: string;
}

/** What each role is held by in one server: from its tools when known, else from its package, name or URL. */
export function serverRoles(server: ServerConfig): RoleEvidence[] {
  const out: RoleEvidence[] = [];
  const tools = toolsOf(server);
  if (tools.length > 0) {
    for (const tool of tools) for (const role of toolRoles(tool)) if (!holds(out, role)) out.push({ role, server, via: tool.name });
    return out;
  }
  // package, server name, URL host, in that order (indexed loops and no lists built: this runs
  // for every server of a scan, where most have no tools)
  addNameRoles(out, server, packageOf(server)?.name);
  addNameRoles(out, server, server.name);
  if (typeof server.url === 'string') {
    let host = '';
    try {
      host = new URL(server.url).hostname;
    } catch {
      // not a URL: no host to read
    }
    addNameRoles(out, server, host);
  }
  return out;
}

function holds(out: readonly RoleEvidence[], role: FlowRole): boolean {
  for (let i = 0; i < out.length; i++) if (out[i]!.role === role) return true;
  return false;
}

function addNameRoles(out: RoleEvidence[], server: ServerConfig, name: unknown): void {
  if (typeof name !== 'string' || name.length === 0) return;
  for (let i = 0; i < NAME_SIGNALS.length; i++) {
    const sig = NAME_SIGNALS[i]!;
    if (!sig.re.test(name)) continue;
    for (let r = 0; r < sig.roles.length; r++) {
      const role = sig.roles[r]!;
      if (!holds(out, role)) out.push({ role, server, via: name });
    }
  }
}

const ROLE_LABEL: Record<FlowRole, string> = { untrusted: 'untrusted input', private: 'private data', sink: 'external sink' };

export const lethalTrifecta: ScanRule = {
  meta: {
    id: 'PAL-F001',
    title: 'Lethal trifecta: untrusted input, private data and an exit in one client',
    severity: 'high',
    category: 'flow',
    rationale:
      'Reported once per client, in the report\'s cross-server findings, listing the servers that together form it (not copied onto each server). A model that can read attacker-controlled content (web pages, issues, emails, chat), reach private data (files, databases, mail, drives) and send data out (HTTP requests, email, chat posts, pushes) can be instructed by that content to exfiltrate the data. The three may sit in different servers of the same client: the model joins them. Each project of a client is judged with the user-wide servers it also sees; servers of two different projects never meet. Roles are judged from tool names and descriptions when tools are known (--probe), otherwise from well-known package and server names. Disabled servers count, since one setting re-enables them.',
    remediation:
      'Break one leg in each client: split browsing or mail servers into a separate client or profile from servers with private data, remove outbound tools, or require confirmation for every call to the sink. A gateway policy can block the flow at run time.',
  },
  kind: 'scan',
  attach: 'report',
  get cases() {
    return (cases ??= caseTable());
  },
  check(servers) {
    const out: Omit<CrossFinding, 'ruleId' | 'title'>[] = [];
    const roles = new Map<string, RoleEvidence[]>();
    // per client: every context (the client's user-wide servers, plus one project's) that
    // holds all three legs; the client gets ONE finding that lists all the servers involved
    const byClient = new Map<string, Array<{ project?: string; involved: ServerConfig[]; evidence: RoleEvidence[] }>>();
    for (const { client, project, servers: group } of contextsOf(servers)) {
      const evidence = group.flatMap((s) => {
        let r = roles.get(s.id);
        if (!r) roles.set(s.id, (r = serverRoles(s)));
        return r;
      });
      if ((['untrusted', 'private', 'sink'] as const).some((role) => !evidence.some((e) => e.role === role))) continue;
      const involved = [...new Map(evidence.map((e) => [e.server.id, e.server])).values()];
      const list = byClient.get(client) ?? [];
      list.push({ ...(project !== undefined ? { project } : {}), involved, evidence });
      byClient.set(client, list);
    }
    for (const [client, found] of byClient) {
      const involved = [...new Map(found.flatMap((f) => f.involved).map((s) => [s.id, s])).values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const evidence = [...new Map(found.flatMap((f) => f.evidence).map((e) => [`${e.role}\0${e.server.id}`, e])).values()];
      const legs = (['untrusted', 'private', 'sink'] as const).map((role) => ({ role, holders: evidence.filter((e) => e.role === role) }));
      const projects = [...new Set(found.filter((f) => f.project !== undefined && f.involved.some((s) => s.projectPath === f.project)).map((f) => f.project!))].sort();
      const where = projects.length ? `client ${safeText(client, 60)} (project${projects.length > 1 ? 's' : ''} ${projects.slice(0, 5).map((p) => safeText(p, 120)).join(', ')}${projects.length > 5 ? ', ...' : ''})` : `client ${safeText(client, 60)}`;
      const disabled = involved.filter((s) => s.disabled);
      const describe = (e: RoleEvidence) => `${serverLabel(e.server)}${e.server.disabled ? ' (disabled)' : ''} via ${e.via}`;
      out.push({
        severity: 'high',
        client,
        servers: involved.map((s) => s.id),
        message: `In ${where}, ${involved.length === 1 ? `server ${serverLabel(involved[0]!)} alone lets` : `servers ${involved.map((s) => serverLabel(s)).join(', ')} together let`} the model read untrusted content, reach private data and send data out, so a prompt injection in that content can exfiltrate the data.${disabled.length ? ` ${disabled.map((s) => serverLabel(s)).join(', ')} ${disabled.length === 1 ? 'is' : 'are'} disabled in the config but one setting away from running.` : ''}`,
        evidence: safeText(legs.map((l) => `${ROLE_LABEL[l.role]}: ${l.holders.slice(0, 4).map(describe).join(', ')}${l.holders.length > 4 ? ', ...' : ''}`).join('; '), 900),
      });
    }
    return out;
  },
};
