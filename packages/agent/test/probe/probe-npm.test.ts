// Probing real MCP servers from npm (installed as dev dependencies): the reference
// "everything" server and the filesystem server, the latter launched through npx so the
// process-group kill is checked against a real launcher -> server tree.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probeServer, probeServers } from '../../src/probe/index.js';
import { discoveryOf, REPO_ROOT, tempDir } from './helpers.js';

const bin = (name: string) => path.join(REPO_ROOT, 'node_modules', '.bin', name);
const dirs: string[] = [];
const scratch = () => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('probing real servers from npm', () => {
  it('lists the tools of @modelcontextprotocol/server-everything over stdio', async () => {
    // its launcher picks the transport from the first argument; "stdio" is the default
    const discovery = discoveryOf([{ name: 'everything', command: bin('mcp-server-everything'), args: ['stdio'] }]);
    await probeServers(discovery, { stateDir: scratch() });
    const server = discovery.servers[0]!;
    expect(server.probe).toMatchObject({ ok: true, serverInfo: { name: 'mcp-servers/everything' } });
    const names = server.tools!.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'get-sum', 'get-env', 'trigger-long-running-operation']));
    expect(server.probe!.prompts).toBeGreaterThan(0);
    expect(server.probe!.resources).toBeGreaterThan(0);
    expect(server.tools!.every((t) => t.pin?.status === 'new')).toBe(true);
  });

  it.skipIf(process.platform === 'win32')('lists @modelcontextprotocol/server-filesystem tools through npx, then the whole process group is gone', async () => {
    const root = scratch();
    const discovery = discoveryOf([{ name: 'filesystem', command: 'npx', args: ['--no-install', '@modelcontextprotocol/server-filesystem', root], cwd: REPO_ROOT }]);
    const server = discovery.servers[0]!;
    const result = await probeServer(server, discovery.raw.get(server.id), { timeoutMs: 15_000 });
    expect(result.probe).toMatchObject({ ok: true, serverInfo: { name: 'secure-filesystem-server' } });
    expect(result.tools!.map((t) => t.name)).toEqual(expect.arrayContaining(['read_text_file', 'write_file', 'list_directory', 'list_allowed_directories']));
    expect(result.tools!.find((t) => t.name === 'write_file')!.annotations).toMatchObject({ destructiveHint: true });
    expect(result.pid).toBeGreaterThan(0);
    expect(groupAlive(result.pid!)).toBe(false);
  });

  it('lets a plain Node process finish: nothing left running keeps it alive or cuts it short', () => {
    // Regression: unref()ed timers while closing once let the process exit mid-probe.
    const script = [
      `import { probeServers } from ${JSON.stringify(path.join(REPO_ROOT, 'packages/agent/src/probe/index.ts'))};`,
      `import { discoveryOf } from ${JSON.stringify(path.join(REPO_ROOT, 'packages/agent/test/probe/helpers.ts'))};`,
      `const d = discoveryOf([{ name: 'e', command: ${JSON.stringify(bin('mcp-server-everything'))}, args: ['stdio'] }]);`,
      `await probeServers(d, { stateDir: ${JSON.stringify(scratch())} });`,
      `process.stdout.write(JSON.stringify(d.servers[0].probe.ok) + ' ' + d.servers[0].tools.length);`,
    ].join('\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^true \d+$/);
  });
});
