// The MCP inspector's CLI (@modelcontextprotocol/inspector, pinned; needs Node 22) as a real
// client of the gateway. Installs it and a Node 22 binary from npm on first use, so it runs
// only when asked (CI asks: .ci/run sets it): PALISADE_CONFORMANCE=1 npx vitest run packages/gateway/test/conformance
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/index.js';
import { fixtureUpstream, tmpDir, writeConfig } from '../helpers.js';
// @ts-expect-error plain JavaScript helper
import { installSuite } from './run-conformance.mjs';

const INSPECTOR_VERSION = '2.12.0';
const run = promisify(execFile);

function installInspector(): string {
  const dir = path.join(os.tmpdir(), `palisade-inspector-${INSPECTOR_VERSION}`);
  const bin = path.join(dir, 'node_modules', '@modelcontextprotocol', 'inspector', 'clients', 'launcher', 'build', 'index.js');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), '{"name":"palisade-inspector-cache","private":true}');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--save-exact', `@modelcontextprotocol/inspector@${INSPECTOR_VERSION}`], {
      cwd: dir,
      stdio: 'ignore',
    });
  }
  return bin;
}

describe.runIf(process.env.PALISADE_CONFORMANCE === '1')('MCP inspector CLI as a client', () => {
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let node: string;
  let inspector: string;
  const cli = async (...args: string[]) => (await run(node, [inspector, '--cli', gw.url!, ...args], { timeout: 60_000 })).stdout;

  beforeAll(async () => {
    node = (installSuite() as { node: string }).node;
    inspector = installInspector();
    const file = writeConfig(tmpDir(), `upstreams:\n${fixtureUpstream('fx', 'poisoned')}`);
    gw = await startGateway(file, { port: 0, warn: () => undefined });
  }, 600_000);

  afterAll(async () => {
    await gw?.close();
  });

  it('lists and calls federated tools; a blocked tool is not there', async () => {
    const tools = (JSON.parse(await cli('--method', 'tools/list')) as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(tools).toContain('fx__echo');
    expect(tools).not.toContain('fx__notes');
    expect(JSON.parse(await cli('--method', 'tools/call', '--tool-name', 'fx__echo', '--tool-arg', 'text=hello'))).toEqual({
      content: [{ type: 'text', text: 'hello' }],
    });
  }, 120_000);
});
