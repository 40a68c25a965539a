import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, gatewayConfigSchema, parseConfig, runGatewayCommand, startGateway, GatewayStore } from '../src/index.js';
import { fixtureUpstream, connect, tmpDir, writeConfig, textOf, rawRequest, INIT_BODY } from './helpers.js';

const parse = (text: string, env: Record<string, string> = {}) => parseConfig(text, '/tmp/gateway.yaml', env);
const problem = (text: string, env: Record<string, string> = {}) => {
  try {
    parse(text, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('gateway config', () => {
  it('publishes its JSON Schema at schema/gateway.schema.json', () => {
    const file = fileURLToPath(new URL('../../../schema/gateway.schema.json', import.meta.url));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(JSON.parse(JSON.stringify(gatewayConfigSchema)));
  });

  it('reads the example from the product contract (YAML) with ${ENV} references resolved', () => {
    const cfg = parse(
      `
listen: { host: 127.0.0.1, port: 8090, allowedHosts: [localhost, 127.0.0.1], allowedOrigins: [] }
store: ./.palisade-gateway
upstreams:
  everything:
    command: npx
    args: [-y, "@modelcontextprotocol/server-everything"]
    env: { API_KEY: "\${EVERYTHING_KEY}" }
  docs:
    url: https://mcp.example.com/mcp
    transport: http
    headers: { Authorization: "Bearer \${DOCS_TOKEN}" }
    allowPrivateAddress: false
virtualServers:
  dev: { upstreams: [everything], tools: { allow: ["everything__*"], deny: [] } }
auth:
  tokens: [{ name: ci, sha256: "${'a'.repeat(64)}", virtualServers: [dev] }]
  oauth: { issuer: "https://id.example.com", audience: "http://127.0.0.1:8090/mcp" }
policy: { blockLevel: high, pinning: true, stripHiddenText: true, redactSecretsInResults: false }
limits: { maxMessageBytes: 1048576, maxDepth: 30, callsPerMinute: 600 }
redis: "\${REDIS_URL}"
backend: { url: "http://127.0.0.1:8080", key: "\${PALISADE_GATEWAY_KEY}" }
`,
      { EVERYTHING_KEY: 'k1', DOCS_TOKEN: 't1', REDIS_URL: '', PALISADE_GATEWAY_KEY: 'gk' },
    );
    expect(cfg.upstreams.get('everything')!.env.API_KEY).toBe('k1');
    expect(cfg.upstreams.get('docs')!.headers.Authorization).toBe('Bearer t1');
    expect(cfg.upstreams.get('docs')!.transport).toBe('http');
    expect(cfg.virtualServers.get('dev')!.tools.allow).toEqual(['everything__*']);
    expect(cfg.backend?.key).toBe('gk');
    expect(cfg.redis).toBeUndefined();
  });

  it('reads JSON too, with line numbers in errors', () => {
    const err = problem('{\n  "upstreams": {\n    "a": { "command": "x" }\n  },\n  "polcy": {}\n}');
    expect(err.message).toMatch(/line 1: .*unknown key "polcy"/);
    const json = problem('{\n  "upstreams": {\n    "a": { "command": 5 }\n  }\n}');
    expect(json.message).toMatch(/line 3: upstreams\.a\.command must be string/);
  });

  it('points at the line of a schema error and of a syntax error', () => {
    const err = problem('upstreams:\n  ok:\n    command: node\n  bad name:\n    command: node\npolicy:\n  blockLevel: severe\n');
    expect(err.problems.map((p) => p.line)).toEqual(expect.arrayContaining([7]));
    expect(err.message).toMatch(/line 7: policy\.blockLevel must be one of critical, high, medium, low, none/);
    expect(err.message).toMatch(/names: letters, digits/);
    const syntax = problem('upstreams:\n  a:\n    command: [unclosed\n');
    expect(syntax.message).toMatch(/line \d+/);
  });

  it('refuses literal secrets: header values and secret-looking env values must be ${ENV} references', () => {
    expect(problem('upstreams:\n  d:\n    url: https://x.example/mcp\n    headers: { Authorization: "Bearer abc" }\n').message).toMatch(
      /line 4.*header values must come from the environment/,
    );
    expect(problem('upstreams:\n  s:\n    command: node\n    env: { GITHUB_TOKEN: "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB" }\n').message).toMatch(
      /line 4.*looks like a secret/,
    );
    expect(problem('upstreams:\n  s:\n    command: node\n    env: { API_KEY: "plain" }\n').message).toMatch(/looks like a secret/);
    expect(parse('upstreams:\n  s:\n    command: node\n    env: { LOG_LEVEL: debug }\n').upstreams.get('s')!.env.LOG_LEVEL).toBe('debug');
    expect(problem('upstreams:\n  s:\n    command: node\n    env: { API_KEY: "${NOPE}" }\n').message).toMatch(/NOPE, which is not set/);
    expect(problem('upstreams:\n  d:\n    url: https://user:pw@x.example/mcp\n').message).toMatch(/credentials in the URL/);
    expect(problem('upstreams:\n  d:\n    url: file:///etc/passwd\n').message).toMatch(/only http and https/);
  });

  it('checks cross references (virtual servers, token scopes)', () => {
    expect(problem('upstreams:\n  a: { command: node }\nvirtualServers:\n  v: { upstreams: [b] }\n').message).toMatch(/line 4.*no upstream named "b"/);
  });

  it('refuses to listen beyond loopback without auth', async () => {
    const dir = tmpDir();
    const file = writeConfig(dir, `listen: { host: 0.0.0.0, port: 0 }\nupstreams: {}\n`);
    await expect(startGateway(file, { warn: () => undefined })).rejects.toThrow(/Refusing to listen on 0\.0\.0\.0 without authentication/);
  });
});

describe('gateway CLI', () => {
  it('token create prints a token once, stores only its hash, and the gateway accepts it for its virtual server only', async () => {
    const dir = tmpDir();
    const file = writeConfig(
      dir,
      `upstreams:\n${fixtureUpstream('fx', 'basic')}${fixtureUpstream('other', 'basic')}virtualServers:\n  dev: { upstreams: [fx] }\n  ops: { upstreams: [other] }\nauth: {}\n`,
    );
    let out = '';
    const io = { out: (s: string) => void (out += s), err: () => undefined, env: process.env };
    expect(await runGatewayCommand(['gateway', 'token', 'create', '--config', file, '--name', 'laptop', '--virtual-server', 'dev'], io)).toBe(0);
    const token = out.trim();
    expect(token).toMatch(/^plgw_[A-Za-z0-9_-]{43}$/);
    const store = new GatewayStore(`${dir}/.palisade-gateway`);
    const rows = store.db.prepare('SELECT * FROM tokens').all() as Record<string, unknown>[];
    store.close();
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0]).toMatchObject({ name: 'laptop', prefix: token.slice(0, 12) });
    const gw = await startGateway(file, { port: 0, warn: () => undefined });
    try {
      const client = await connect(gw.url!, { authorization: `Bearer ${token}` });
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('fx__echo');
      expect(names.some((n) => n.startsWith('other__'))).toBe(false);
      expect(textOf(await client.callTool({ name: 'fx__echo', arguments: { text: 't' } }))).toBe('t');
      await client.close();
      const r = await rawRequest(`${gw.url!.replace(/\/mcp$/, '')}/servers/ops/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
        body: INIT_BODY,
      });
      expect(r.status).toBe(404);
    } finally {
      await gw.close();
    }
  });

  it('check exits 0 and lists tools with their state; approve without a tool is a usage error', async () => {
    const dir = tmpDir();
    const file = writeConfig(dir, `upstreams:\n${fixtureUpstream('fx', 'poisoned')}`);
    let out = '';
    const io = { out: (s: string) => void (out += s), err: () => undefined, env: process.env };
    expect(await runGatewayCommand(['gateway', 'check', '--config', file, '--json'], io)).toBe(0);
    const report = JSON.parse(out) as { tools: { federated: string; status: string }[] };
    expect(report.tools.find((t) => t.federated === 'fx__notes')?.status).toBe('blocked');
    expect(report.tools.find((t) => t.federated === 'fx__echo')?.status).toBe('ok');
    expect(await runGatewayCommand(['gateway', 'approve', '--config', file], io)).toBe(2);
    expect(await runGatewayCommand(['gateway', 'check', '--config', `${dir}/missing.yaml`], io)).toBe(2);
  });
});

describe('federated names', () => {
  it('reports a collision at start and exposes one owner only; renames and invalid characters give valid names', async () => {
    const warnings: string[] = [];
    const dir = tmpDir();
    const file = writeConfig(
      dir,
      `upstreams:\n${fixtureUpstream('a', 'basic', '    prefix: same\n    rename: { add: plus }\n')}${fixtureUpstream('b', 'basic', '    prefix: same\n')}`,
    );
    const gw = await startGateway(file, { port: 0, warn: (m) => warnings.push(m) });
    try {
      expect(gw.gateway.collisions.join('\n')).toMatch(/same__echo comes from a and b/);
      expect(warnings.join('\n')).toMatch(/name collision: the tool name same__echo/);
      const client = await connect(gw.url!);
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names.filter((n) => n === 'same__echo')).toHaveLength(1);
      expect(names).toContain('plus');
      expect(new Set(names).size).toBe(names.length);
      await client.close();
    } finally {
      await gw.close();
    }
    const { federatedName } = await import('../src/naming.js');
    expect(federatedName('my.server', 'read file', {})).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(federatedName('x'.repeat(40), 'y'.repeat(40), {})).toHaveLength(64);
    expect(federatedName('x'.repeat(40), 'y'.repeat(40), {})).not.toBe(federatedName('x'.repeat(40), `${'y'.repeat(39)}z`, {}));
  });
});
