// PAL-T006: the same tool name offered by two or more servers of one client.
import type { CrossFinding, ServerConfig } from '../../model.js';
import type { RuleCases, ScanRule } from '../types.js';
import { contextsOf, safeText, serverLabel, toolsOf } from '../helpers.js';
import { compareText } from '../../order.js';

// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      {
        name: 'distinct names',
        servers: [
          { name: 'a', tools: [{ name: 'read_file' }] },
          { name: 'b', tools: [{ name: 'search' }] },
        ],
      },
      {
        name: 'same name in two projects of one client',
        servers: [
          { name: 'a', client: 'claude-code', scope: 'project', projectPath: '/home/alice/one', tools: [{ name: 'read_file' }] },
          { name: 'b', client: 'claude-code', scope: 'project', projectPath: '/home/alice/two', tools: [{ name: 'read_file' }] },
        ],
      },
      {
        name: 'same name in different clients',
        servers: [
          { name: 'a', client: 'cursor', tools: [{ name: 'read_file' }] },
          { name: 'b', client: 'vscode', tools: [{ name: 'read_file' }] },
        ],
      },
    ],
    invalid: [
      {
        name: 'a user server and a project server of the same client',
        servers: [
          { id: 'u', name: 'files', client: 'claude-code', tools: [{ name: 'read_file' }] },
          { id: 'p', name: 'project-files', client: 'claude-code', scope: 'project', projectPath: '/home/alice/app', tools: [{ name: 'read_file' }] },
          { id: 'q', name: 'other-project', client: 'claude-code', scope: 'project', projectPath: '/home/alice/other', tools: [{ name: 'search' }] },
        ],
        evidence: /read_file: "project-files", "files"/,
      },
      {
        name: 'two servers offer read_file',
        servers: [
          { id: 'fs-a', name: 'filesystem', tools: [{ name: 'read_file' }, { name: 'write_file' }] },
          { id: 'fs-b', name: 'files-plus', tools: [{ name: 'read_file' }] },
        ],
        evidence: /read_file: "filesystem", "files-plus"/,
        severity: 'medium',
      },
      {
        name: 'three servers, names differing only in case',
        servers: [
          { name: 'x', tools: [{ name: 'Search' }] },
          { name: 'y', tools: [{ name: 'search' }] },
          { name: 'z', tools: [{ name: 'SEARCH' }] },
        ],
        evidence: /search/i,
      },
      {
        name: 'many servers with one tool name: eight are named, the rest counted',
        servers: Array.from({ length: 30 }, (_, i) => ({ id: `s${i}`, name: `server-${i}`, tools: [{ name: 'search' }] })),
        evidence: /^search: "server-0", "server-1", (?:"server-\d+", ){5}"server-\d+" and 22 more$/,
      },
      {
        name: 'a disabled server still collides, marked as disabled',
        servers: [
          { id: 'a', name: 'mail', tools: [{ name: 'send_email' }] },
          { id: 'b', name: 'mail-old', disabled: true, tools: [{ name: 'send_email' }] },
        ],
        evidence: /"mail-old" \(disabled\)/,
      },
    ],
  };
}

let cases: RuleCases | undefined;

/** Servers named in one finding's text; the finding's `servers` lists every one. */
const MAX_LISTED = 8;

export const toolNameCollision: ScanRule = {
  meta: {
    id: 'PAL-T006',
    title: 'Tool name offered by several servers',
    severity: 'medium',
    category: 'tool',
    rationale:
      'When two servers in one client offer a tool of the same name, which one the model calls depends on the client and on wording, and a newly added server can take over calls meant for a trusted one (for example a second read_file or send_email). Servers count together when the model sees them together: user-wide servers together with the servers of each project.',
    remediation:
      'Remove the duplicate server, or disable the colliding tool in one of them. Clients that prefix tool names with the server name reduce but do not remove the confusion for the model.',
  },
  kind: 'scan',
  toolsOnly: true,
  get cases() {
    return (cases ??= caseTable());
  },
  check(servers) {
    const out: Omit<CrossFinding, 'ruleId' | 'title'>[] = [];
    const reported = new Set<string>();
    for (const { client, servers: group } of contextsOf(servers)) {
      const owners = new Map<string, ServerConfig[]>();
      for (const server of group) {
        const tools = toolsOf(server);
        if (tools.length === 0) continue; // most servers list no tools (no --probe)
        for (const name of new Set(tools.map((t) => t.name.toLowerCase()))) owners.set(name, [...(owners.get(name) ?? []), server]);
      }
      const collisions = [...owners].filter(([, list]) => list.length > 1).sort(([a], [b]) => compareText(a, b));
      // one finding per set of colliding servers, listing every shared name
      const bySet = new Map<string, { list: ServerConfig[]; names: string[] }>();
      for (const [name, list] of collisions) {
        const key = list
          .map((s) => s.id)
          .sort()
          .join('\0');
        const entry = bySet.get(key) ?? { list, names: [] };
        entry.names.push(name);
        bySet.set(key, entry);
      }
      for (const [key, { list, names }] of bySet) {
        // a collision between servers every project sees is reported once, not per project
        if (reported.has(`${client}\0${key}`)) continue;
        reported.add(`${client}\0${key}`);
        // at most MAX_LISTED names in the text: every server of the set is in `servers`, and a
        // message naming thousands of servers, stored once per server, grows as their square
        const shown = list.slice(0, MAX_LISTED).map((s) => `${serverLabel(s)}${s.disabled ? ' (disabled)' : ''}`);
        const labels = shown.join(', ') + (list.length > MAX_LISTED ? ` and ${list.length - MAX_LISTED} more` : '');
        out.push({
          severity: 'medium',
          client,
          servers: list.map((s) => s.id),
          message: `Servers ${labels} in client ${safeText(client, 60)} all offer ${names.length === 1 ? `a tool named "${safeText(names[0]!, 80)}"` : `${names.length} tools with the same names`}; the model may call the wrong server's tool.`,
          evidence: safeText(
            names
              .slice(0, 10)
              .map((n) => `${n}: ${labels}`)
              .join('; '),
            400,
          ),
        });
      }
    }
    return out;
  },
};
