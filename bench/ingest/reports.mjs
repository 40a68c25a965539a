// Realistic scan reports for the ingest bench: 5-40 servers per host (stdio packages from
// npm/PyPI, docker images, remote URLs), env and header names, tool lists with descriptions,
// varied between hosts by a deterministic generator (the same host and revision always give
// the same report, so an unchanged re-scan is the same servers with a new scan time).
import crypto from 'node:crypto';

const sha = (s) => crypto.createHash('sha256').update(s).digest('hex');

function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const CLIENTS = [
  ['claude-desktop', 'Claude Desktop', '/home/{u}/.config/Claude/claude_desktop_config.json'],
  ['cursor', 'Cursor', '/home/{u}/.cursor/mcp.json'],
  ['vscode', 'VS Code', '/home/{u}/.config/Code/User/mcp.json'],
  ['claude-code', 'Claude Code', '/home/{u}/.claude.json'],
  ['windsurf', 'Windsurf', '/home/{u}/.codeium/windsurf/mcp_config.json'],
];
const ENV = ['GITHUB_TOKEN', 'API_KEY', 'DATABASE_URL', 'SLACK_BOT_TOKEN', 'LOG_LEVEL', 'AWS_REGION', 'OPENAI_API_KEY', 'HOME_DIR', 'NOTION_TOKEN', 'JIRA_URL'];
const VERBS = ['read', 'write', 'list', 'search', 'create', 'update', 'delete', 'get', 'fetch', 'run', 'query', 'sync'];
const NOUNS = ['file', 'issue', 'page', 'message', 'record', 'branch', 'table', 'ticket', 'channel', 'document', 'event', 'user'];

/** The catalogue of server kinds a fleet runs: popular ones first (hosts pick with a skew). */
const CATALOGUE = Array.from({ length: 400 }, (_, i) => {
  const r = rng(1000 + i);
  const kind = i % 7 === 3 ? 'docker' : i % 7 === 5 ? 'http' : i % 4 === 1 ? 'uvx' : 'npx';
  const name = `${['github', 'slack', 'postgres', 'notion', 'jira', 'fs', 'browser', 'search', 'memory', 'time'][i % 10]}-${i}`;
  const tools = Array.from({ length: 1 + Math.floor(r() * 5) }, (_, t) => {
    const verb = VERBS[Math.floor(r() * VERBS.length)];
    const noun = NOUNS[Math.floor(r() * NOUNS.length)];
    return { name: `${verb}_${noun}_${t}`, description: `${verb[0].toUpperCase()}${verb.slice(1)}s a ${noun} in ${name} by id; returns it as JSON.` };
  });
  return { name, kind, tools, env: ENV.filter(() => r() < 0.25), versions: 1 + Math.floor(r() * 5) };
});

function serverOf(c, host, user, client, version, extraTools = 0) {
  const [clientId, , pathTpl] = client;
  const configPath = pathTpl.replace('{u}', user);
  const pkg = c.kind === 'uvx' ? `mcp-${c.name}` : `@mcp/${c.name}`;
  const v = `1.${version}.0`;
  const base = {
    id: sha(`${host}/${clientId}/${c.name}`).slice(0, 16),
    name: c.name,
    client: clientId,
    configPath,
    scope: 'user',
    cwd: null,
    envNames: c.env,
    headerNames: [],
    findings: [],
    score: 0,
    level: 'none',
  };
  let s;
  if (c.kind === 'http')
    s = { ...base, transport: 'http', command: null, args: [], url: `https://mcp.${c.name}.example.com/v${version}/mcp`, headerNames: ['Authorization'] };
  else if (c.kind === 'docker')
    s = {
      ...base,
      transport: 'stdio',
      command: 'docker',
      args: ['run', '-i', '--rm', `ghcr.io/mcp/${c.name}:${v}`],
      url: null,
      package: { ecosystem: 'docker', name: `ghcr.io/mcp/${c.name}`, version: v, pinned: true, runner: 'docker' },
    };
  else if (c.kind === 'uvx')
    s = {
      ...base,
      transport: 'stdio',
      command: 'uvx',
      args: [`${pkg}==${v}`],
      url: null,
      package: { ecosystem: 'PyPI', name: pkg, version: v, pinned: true, runner: 'uvx' },
    };
  else
    s = {
      ...base,
      transport: 'stdio',
      command: 'npx',
      args: ['-y', `${pkg}@${v}`],
      url: null,
      package: { ecosystem: 'npm', name: pkg, version: v, pinned: true, runner: 'npx' },
    };
  const tools = c.tools.map((t) => ({ ...t, description: `${t.description} (v${v})` }));
  for (let k = 0; k < extraTools; k++)
    tools.push({ name: `extra_${k}`, description: `Extra tool ${k} of ${c.name}: ${'reads and writes data, with pagination and filters; '.repeat(2)}` });
  s.tools = tools.map((t) => ({ ...t, inputSchemaHash: sha(`${c.name}/${t.name}/schema`), definitionHash: sha(`${c.name}/${t.name}/${t.description}`) }));
  return s;
}

/**
 * Host `h`'s report at revision `rev` (each revision moves one of its servers to another
 * version: a changed config, a new definition). `org` keeps hosts of two organisations apart.
 */
export function hostReport(h, rev = 0, { org = 'a', scannedAt = new Date().toISOString() } = {}) {
  const r = rng(h * 7919 + (org === 'a' ? 0 : 500_000));
  const user = `user${h % 50}`;
  const hostname = org === 'a' ? `host-${h}` : `${org}-host-${h}`;
  const count = 5 + Math.floor(r() * 36);
  const picked = new Set();
  while (picked.size < count) picked.add(Math.floor(CATALOGUE.length * r() ** 2));
  const list = [...picked].map((i, k) => {
    const c = CATALOGUE[i];
    const client = CLIENTS[Math.floor(r() * CLIENTS.length)];
    const version = (k === rev % count ? rev : 0) + (i % c.versions);
    return serverOf(c, hostname, user, client, version);
  });
  return wrap(hostname, user, list, scannedAt);
}

/** One host with `servers` servers of `tools` tools each: the 4 MB report (1,200 x 10). */
export function bigReport(servers = 1200, tools = 10, { hostname = 'big-host', rev = 0, scannedAt = new Date().toISOString() } = {}) {
  const list = Array.from({ length: servers }, (_, i) => {
    const c = { ...CATALOGUE[i % CATALOGUE.length], name: `big-${i}`, tools: [] };
    return serverOf(c, hostname, 'builder', CLIENTS[i % CLIENTS.length], rev, tools);
  });
  return wrap(hostname, 'builder', list, scannedAt);
}

function wrap(hostname, user, servers, scannedAt) {
  const clients = [...new Set(servers.map((s) => s.client))].map((id) => {
    const c = CLIENTS.find((x) => x[0] === id);
    return { id, name: c[1], configPath: c[2].replace('{u}', user), serverCount: servers.filter((s) => s.client === id).length };
  });
  return {
    schemaVersion: 1,
    agent: { name: 'palisade', version: '0.1.0' },
    host: { hostname, os: 'linux 6.8.0', user },
    scannedAt,
    clients,
    servers,
    findings: [],
    summary: {
      clients: clients.length,
      servers: servers.length,
      findings: 0,
      errors: 0,
      byLevel: { critical: 0, high: 0, medium: 0, low: 0, none: servers.length },
      maxLevel: 'none',
    },
  };
}

/** A report's text with a marker in place of its scan time, and a function that fills it in. */
export function withScanTime(report) {
  const AT = '2000-01-01T00:00:00.000Z';
  const text = JSON.stringify({ ...report, scannedAt: AT });
  const [head, tail] = text.split(AT);
  return () => `${head}${new Date().toISOString()}${tail}`;
}
