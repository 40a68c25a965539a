// Test fixtures for the inventory: scan reports built the way the agent builds them, and
// a few small rules so change detection has findings to work with whatever the core rule
// set holds at the moment. Every secret-looking value here is a made-up test fixture.
import { hashJson, type Rule, type ScanReport, type ScoredServer, type Tool } from '@palisade/core';

export function server(over: Partial<ScoredServer> & { name: string }): ScoredServer {
  const base: ScoredServer = {
    id: hashJson({ name: over.name, client: over.client ?? 'claude-desktop' }).slice(0, 16),
    name: over.name,
    client: 'claude-desktop',
    configPath: '/home/alice/.config/Claude/claude_desktop_config.json',
    scope: 'user',
    transport: 'stdio',
    command: 'npx',
    args: ['-y', `@example/${over.name}@1.0.0`],
    cwd: null,
    url: null,
    envNames: [],
    headerNames: [],
    findings: [],
    score: 0,
    level: 'none',
  };
  return { ...base, ...over };
}

export function tool(name: string, description: string): Tool {
  return { name, description, definitionHash: hashJson({ name, description }), inputSchemaHash: hashJson({ type: 'object' }) };
}

export function report(servers: ScoredServer[], host: Partial<ScanReport['host']> = {}, scannedAt = '2026-11-20T10:00:00.000Z'): ScanReport {
  return {
    schemaVersion: 1,
    agent: { name: 'palisade', version: '0.1.0' },
    host: { hostname: 'laptop-1', os: 'linux 6.8.0', user: 'alice', ...host },
    scannedAt,
    clients: [{ id: 'claude-desktop', name: 'Claude Desktop', configPath: '/home/alice/.config/Claude/claude_desktop_config.json', serverCount: servers.length }],
    servers,
    findings: [],
    summary: { clients: 1, servers: servers.length, findings: 0, errors: 0, byLevel: { critical: 0, high: 0, medium: 0, low: 0, none: servers.length }, maxLevel: 'none' },
  };
}

/** Test rules: a shell as command is critical, a `--danger` argument is high, a tool text asking to ignore instructions is high. */
export const testRules: Rule[] = [
  {
    kind: 'server',
    meta: { id: 'PAL-X901', title: 'Shell as command (test rule)', severity: 'critical', category: 'config', rationale: 'A shell runs anything.', remediation: 'Run the server binary directly.' },
    check: (s) => (s.command === 'bash' || s.command === 'sh' ? [{ message: 'The command is a shell.', evidence: s.command }] : []),
  },
  {
    kind: 'server',
    meta: { id: 'PAL-X902', title: 'Danger flag (test rule)', severity: 'high', category: 'config', rationale: 'Test.', remediation: 'Remove --danger.' },
    check: (s) => (s.args.includes('--danger') ? [{ message: 'The --danger flag is set.', evidence: '--danger' }] : []),
  },
  {
    kind: 'server',
    meta: { id: 'PAL-X903', title: 'Tool asks to ignore instructions (test rule)', severity: 'high', category: 'tool', rationale: 'Test.', remediation: 'Remove the server.' },
    check: (s) => (s.tools ?? []).filter((t) => /ignore previous/i.test(t.description ?? '')).map((t) => ({ message: `Tool ${t.name} hides instructions.`, evidence: t.name })),
  },
];
