// `palisade pins list|reset` through the real CLI process, against a state folder filled by a
// real probe of the project's rug-pull test server.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeServers } from '../../src/probe/index.js';
import { discoveryOf, REPO_ROOT, tempDir, testServer } from './helpers.js';

const dir = tempDir('palisade-pins-cli-');
const stateDir = path.join(dir, 'state');
let serverId = '';

function palisade(...args: string[]) {
  const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(REPO_ROOT, 'packages/cli/src/main.ts'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, PALISADE_STATE_DIR: stateDir, NO_COLOR: '1' },
    timeout: 20_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(async () => {
  const raw = { name: 'weather', command: process.execPath, args: [testServer('rug-pull.mjs')], env: { PALISADE_TEST_COUNTER_FILE: path.join(dir, 'counter') } };
  for (let i = 0; i < 2; i++) {
    const discovery = discoveryOf([raw]);
    await probeServers(discovery, { stateDir });
    serverId = discovery.servers[0]!.id;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('palisade pins', () => {
  it('lists pins as JSON, marking the rug-pulled tool as changed', () => {
    const r = palisade('pins', 'list', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.file).toBe(path.join(stateDir, 'pins.json'));
    expect(out.pins.map((p: { tool: string; changed: boolean; serverId: string }) => [p.tool, p.changed, p.serverId])).toEqual([
      ['get_time', false, serverId],
      ['get_weather', true, serverId],
    ]);
  });

  it('lists pins as a table with a summary line', () => {
    const r = palisade('pins', 'list');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^SERVER\s+CLIENT\s+TOOL\s+FIRST SEEN\s+PIN\s+STATUS\n/);
    expect(r.stdout).toMatch(/weather\s+test-client\s+get_weather\s+\S+ \S+\s+[0-9a-f]{12}\s+CHANGED/);
    expect(r.stdout).toContain('2 tool pins for 1 server, 1 changed since pinned');
  });

  it('says so clearly, exit 1, when the server to reset is unknown; nothing changes', () => {
    const before = readFileSync(path.join(stateDir, 'pins.json'), 'utf8');
    const r = palisade('pins', 'reset', 'no-such-server');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no pinned server is named or has the id "no-such-server". Run `palisade pins list`');
    expect(readFileSync(path.join(stateDir, 'pins.json'), 'utf8')).toBe(before);
  });

  it('resets one server by name', () => {
    const r = palisade('pins', 'reset', 'weather');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Removed the pins of server "weather" (${serverId})`);
    expect(JSON.parse(palisade('pins', 'list', '--json').stdout).pins).toEqual([]);
  });

  it('warns about a corrupt pins file and keeps a .bak, without crashing', () => {
    writeFileSync(path.join(stateDir, 'pins.json'), 'not json at all');
    const r = palisade('pins', 'list');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: the pins file .* is corrupt \(it is not valid JSON\); it was moved to .*pins\.json\.bak/);
    expect(r.stdout).toContain('No tools are pinned yet');
    expect(readFileSync(path.join(stateDir, 'pins.json.bak'), 'utf8')).toBe('not json at all');
  });
});
