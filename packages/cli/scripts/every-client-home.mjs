// A home folder with every known client configured: the scan bench measures a scan of it, and
// the bundle's build runs one over it to fill the code cache (so the parsers of every client,
// not only a few, start from compiled code).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// ---- what one server looks like (a mix of the shapes people really configure) ----
// Test fixture values only: the token below is made up and only shaped like a real one.
const FAKE_TOKEN = 'ghp_FixtureHomeNotARealToken0123456789ab';

/** Server number i: the six shapes in turn (npx, npx pinned with env, uvx, docker with a token, remote, shell). */
export function serverSpec(i, token = FAKE_TOKEN) {
  const name = `srv-${i}`;
  switch (i % 6) {
    case 0:
      return { name, command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', `/home/user/projects/p${i}`] };
    case 1:
      return { name, command: 'npx', args: ['-y', `@acme/mcp-tool-${i}@1.2.3`], env: { API_KEY: '${API_KEY}', LOG_LEVEL: 'info' } };
    case 2:
      return { name, command: 'uvx', args: ['mcp-server-fetch'] };
    case 3:
      return { name, command: 'docker', args: ['run', '-i', '--rm', '-e', 'GITHUB_TOKEN', 'ghcr.io/github/github-mcp-server'], env: { GITHUB_TOKEN: token } };
    case 4:
      return { name, url: `https://mcp.example.com/${i}/mcp`, headers: { Authorization: 'Bearer ${TOKEN}' } };
    default:
      return { name, command: 'bash', args: ['-c', `node /opt/mcp/server-${i}.js`] };
  }
}

// ---- config shapes, one function each: servers -> file text ----
const entry = (s, extra = {}) => {
  const e = { ...extra };
  if (s.command) Object.assign(e, { command: s.command, args: s.args });
  if (s.url) Object.assign(e, { url: s.url });
  if (s.env) e.env = s.env;
  if (s.headers) e.headers = s.headers;
  return e;
};
const byName = (servers, fn) => Object.fromEntries(servers.map((s) => [s.name, fn(s)]));
const q = (v) => JSON.stringify(v);
const yamlMap = (m, indent) => Object.entries(m).map(([k, v]) => `${indent}${k}: ${q(v)}`).join('\n');

export const SHAPES = {
  mcpServers: (servers) => JSON.stringify({ mcpServers: byName(servers, (s) => entry(s)) }, null, 2),
  mcpServersServerUrl: (servers) => JSON.stringify({ mcpServers: byName(servers, (s) => (s.url ? { serverUrl: s.url, headers: s.headers } : entry(s))) }, null, 2),
  vscodeServers: (servers) => JSON.stringify({ servers: byName(servers, (s) => entry(s, { type: s.url ? 'http' : 'stdio' })) }, null, 2),
  vscodeSettings: (servers) => JSON.stringify({ 'editor.fontSize': 14, mcp: { servers: byName(servers, (s) => entry(s, { type: s.url ? 'http' : 'stdio' })) } }, null, 2),
  zed: (servers) => JSON.stringify({ theme: 'One Dark', context_servers: byName(servers, (s) => (s.url ? { url: s.url, headers: s.headers } : { source: 'custom', command: s.command, args: s.args, env: s.env ?? {} })) }, null, 2),
  zedLegacy: (servers) => JSON.stringify({ context_servers: byName(servers, (s) => (s.url ? { url: s.url } : { command: { path: s.command, args: s.args, env: s.env ?? {} } })) }, null, 2),
  opencode: (servers) => JSON.stringify({ $schema: 'https://opencode.ai/config.json', mcp: byName(servers, (s) => (s.url ? { type: 'remote', url: s.url, headers: s.headers } : { type: 'local', command: [s.command, ...s.args], environment: s.env ?? {} })) }, null, 2),
  continueJson: (servers) => JSON.stringify({ experimental: { modelContextProtocolServers: servers.map((s) => ({ name: s.name, transport: s.url ? { type: 'streamable-http', url: s.url } : { type: 'stdio', command: s.command, args: s.args, env: s.env } })) } }, null, 2),
  codexToml: (servers) =>
    servers
      .map((s) => {
        const lines = [`[mcp_servers.${s.name}]`];
        if (s.command) lines.push(`command = ${q(s.command)}`, `args = [${s.args.map(q).join(', ')}]`);
        if (s.url) lines.push(`url = ${q(s.url)}`);
        if (s.env) lines.push(`env = { ${Object.entries(s.env).map(([k, v]) => `${k} = ${q(v)}`).join(', ')} }`);
        return lines.join('\n');
      })
      .join('\n\n') + '\n',
  continueYaml: (servers) =>
    'name: bench\nversion: 1.0.0\nschema: v1\nmcpServers:\n' +
    servers
      .map((s) => {
        const lines = [`  - name: ${q(s.name)}`];
        if (s.command) lines.push(`    command: ${q(s.command)}`, `    args: [${s.args.map(q).join(', ')}]`);
        if (s.url) lines.push(`    type: streamable-http`, `    url: ${q(s.url)}`);
        if (s.env) lines.push('    env:', yamlMap(s.env, '      '));
        return lines.join('\n');
      })
      .join('\n') +
    '\n',
  gooseYaml: (servers) =>
    'extensions:\n' +
    servers
      .map((s) => {
        const lines = [`  ${s.name}:`, `    name: ${q(s.name)}`, '    enabled: true', '    timeout: 300'];
        if (s.command) lines.push('    type: stdio', `    cmd: ${q(s.command)}`, `    args: [${s.args.map(q).join(', ')}]`);
        if (s.url) lines.push('    type: streamable_http', `    uri: ${q(s.url)}`);
        if (s.env) lines.push('    envs:', yamlMap(s.env, '      '));
        return lines.join('\n');
      })
      .join('\n') +
    '\n',
};

/** The first shape this client's own parser reads back completely, or undefined. */
function shapeFor(discoverer, location, loc) {
  const probe = [serverSpec(0), serverSpec(3), serverSpec(4)];
  for (const [shapeName, shape] of Object.entries(SHAPES)) {
    try {
      const raws = discoverer.parse(shape(probe), { path: location.path, scope: location.scope, loc, ...(location.kind ? { kind: location.kind } : {}) });
      const names = new Set(raws.map((r) => r.name));
      if (raws.length === probe.length && probe.every((s) => names.has(s.name))) return shapeName;
    } catch {
      // not this client's shape
    }
  }
  return undefined;
}

/** The file to write for a location: itself, or one file inside a listed folder. */
function fileIn(location) {
  if (!location.list) return location.path;
  if (location.list.childFile) return path.join(location.path, 'bench', location.list.childFile);
  return path.join(location.path, `bench${location.list.suffixes?.[0] ?? '.json'}`);
}

/**
 * Writes, under `home`, a config file for every known client (each config location under the
 * home, in the first shape that client's own parser reads back in full) and returns what was
 * written. `servers`: that many servers spread over the files; else `perFile` in each.
 * `platform`: the layout to write (default: this machine's). The
 * agent's built code (its discoverer registry) says which clients and locations there are, so
 * a newly added client is covered without touching this file.
 */
export async function writeEveryClientHome(home, { servers: total, perFile = 6, token, platform } = {}) {
  const agent = await import('@palisade/agent');
  const loc = agent.locationContext({ home, ...(platform ? { platform } : {}) });
  const targets = [];
  const seen = new Set();
  const missing = [];
  for (const d of agent.discoverers) {
    let found = false;
    for (const listed of d.locations(loc)) {
      // index files (they name other files) are skipped; a listed folder gets one file in it
      if (listed.index) continue;
      const location = { ...listed, path: fileIn(listed) };
      // only files under the fake home: managed/system locations (/etc, /Library) are left alone
      if (!location.path.startsWith(home + path.sep) || seen.has(location.path)) continue;
      const shape = shapeFor(d, location, loc);
      if (!shape) continue;
      seen.add(location.path);
      targets.push({ client: d.id, path: location.path, shape });
      found = true;
    }
    if (!found) missing.push(d.id);
  }
  let next = 0;
  targets.forEach((t, i) => {
    const count = total === undefined ? perFile : Math.floor(total / targets.length) + (i < total % targets.length ? 1 : 0);
    const servers = Array.from({ length: count }, () => serverSpec(next++, token));
    mkdirSync(path.dirname(t.path), { recursive: true });
    writeFileSync(t.path, SHAPES[t.shape](servers));
    t.count = count;
  });
  return { targets, missing, clients: agent.discoverers.length };
}
