// The pin store against real files in a temp state folder: first sight, unchanged, changed
// (keeping the original pin), atomic writes with private permissions, a corrupt file moved
// aside, and reset by name or id.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { ServerConfig, Tool } from '@palisade/core';
import { afterAll, describe, expect, it } from 'vitest';
import { applyPins, listPins, loadPins, parsePins, resetPins, savePins, serializePins } from '../../src/pins.js';
import { ensureStateDir, stateDirPath } from '../../src/state.js';
import { discoveryOf, tempDir } from './helpers.js';

const dirs: string[] = [];
const scratch = () => {
  const d = tempDir('palisade-pins-');
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function serverWith(name: string, tools: Array<Pick<Tool, 'name' | 'definitionHash'>>): ServerConfig {
  const server = discoveryOf([{ name, command: 'node', args: ['server.js'] }]).servers[0]!;
  server.tools = tools.map((t) => ({ ...t }));
  return server;
}

const T1 = new Date('2026-03-01T10:00:00Z');
const T2 = new Date('2026-03-02T10:00:00Z');

describe('tool pins', () => {
  it('pins new tools, then reports unchanged and changed against the ORIGINAL pin', async () => {
    const stateDir = path.join(scratch(), 'state');
    const store = await loadPins(stateDir);
    expect(store.warnings).toEqual([]);
    const first = serverWith('github', [{ name: 'create_issue', definitionHash: 'a'.repeat(64) }, { name: 'search', definitionHash: 'b'.repeat(64) }]);
    expect(applyPins(store, [first], T1)).toBe(true);
    expect(first.tools!.map((t) => t.pin)).toEqual([
      { status: 'new', firstSeen: T1.toISOString() },
      { status: 'new', firstSeen: T1.toISOString() },
    ]);
    await savePins(store);

    for (const hash of ['c'.repeat(64), 'd'.repeat(64)]) {
      const again = await loadPins(stateDir);
      const later = serverWith('github', [{ name: 'create_issue', definitionHash: hash }, { name: 'search', definitionHash: 'b'.repeat(64) }]);
      expect(applyPins(again, [later], T2)).toBe(true);
      expect(later.tools![0]!.pin).toEqual({ status: 'changed', firstSeen: T1.toISOString(), previousHash: 'a'.repeat(64) });
      expect(later.tools![1]!.pin).toEqual({ status: 'unchanged', firstSeen: T1.toISOString() });
      await savePins(again);
    }
    const rows = listPins(await loadPins(stateDir));
    expect(rows.map((r) => [r.tool, r.hash[0], r.changed])).toEqual([
      ['create_issue', 'a', true],
      ['search', 'b', false],
    ]);
  });

  it('writes the state folder 0700 and the pins file 0600, atomically (no temp files left)', async () => {
    const stateDir = path.join(scratch(), 'nested', 'state');
    const store = await loadPins(stateDir);
    applyPins(store, [serverWith('s', [{ name: 't', definitionHash: 'e'.repeat(64) }])], T1);
    await savePins(store);
    expect(readdirSync(stateDir)).toEqual(['pins.json']);
    if (process.platform !== 'win32') {
      expect(statSync(stateDir).mode & 0o777).toBe(0o700);
      expect(statSync(path.join(stateDir, 'pins.json')).mode & 0o777).toBe(0o600);
    }
  });

  it('tightens a state folder that was created too open', async () => {
    const dir = path.join(scratch(), 'open');
    mkdirSync(dir, { mode: 0o755 });
    await ensureStateDir(dir);
    if (process.platform !== 'win32') expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('moves a corrupt pins file to pins.json.bak with a clear warning, and starts fresh', async () => {
    const stateDir = scratch();
    writeFileSync(path.join(stateDir, 'pins.json'), '{"version":1,"servers":{"x": tru');
    const store = await loadPins(stateDir);
    expect(store.servers.size).toBe(0);
    expect(store.warnings).toHaveLength(1);
    expect(store.warnings[0]).toMatch(/is corrupt \(it is not valid JSON\); it was moved to .*pins\.json\.bak and pinning starts fresh/);
    expect(readFileSync(path.join(stateDir, 'pins.json.bak'), 'utf8')).toContain('tru');
    expect(existsSync(path.join(stateDir, 'pins.json'))).toBe(false);
  });

  it('refuses well-formed JSON of the wrong shape the same way', async () => {
    const stateDir = scratch();
    writeFileSync(path.join(stateDir, 'pins.json'), JSON.stringify({ version: 1, servers: { abc: { name: 'x', client: 'c', configPath: '/p', tools: { t: { hash: 5 } } } } }));
    const store = await loadPins(stateDir);
    expect(store.warnings[0]).toMatch(/is corrupt \(the pin for tool t of server x is malformed\)/);
  });

  it('resets one server by name or by id, or all', async () => {
    const store = await loadPins(scratch());
    const a = serverWith('alpha', [{ name: 't', definitionHash: '1'.repeat(64) }]);
    const b = serverWith('beta', [{ name: 't', definitionHash: '2'.repeat(64) }]);
    const c = serverWith('gamma', [{ name: 't', definitionHash: '3'.repeat(64) }]);
    applyPins(store, [a, b, c], T1);
    expect(resetPins(store, 'alpha')).toEqual([a.id]);
    expect(resetPins(store, b.id)).toEqual([b.id]);
    expect(resetPins(store, 'nope')).toEqual([]);
    expect([...store.servers.keys()]).toEqual([c.id]);
    expect(resetPins(store)).toEqual([c.id]);
    expect(store.servers.size).toBe(0);
  });

  it('keeps tool names such as "__proto__" as plain keys through a save and load', () => {
    const store = { file: '/unused', servers: new Map(), warnings: [] };
    applyPins(store, [serverWith('s', [{ name: '__proto__', definitionHash: 'f'.repeat(64) }, { name: 'constructor', definitionHash: '0'.repeat(64) }])], T1);
    const back = parsePins(serializePins(store.servers));
    expect([...back.values()][0]!.tools.get('__proto__')!.hash).toBe('f'.repeat(64));
    expect([...back.values()][0]!.tools.get('constructor')!.hash).toBe('0'.repeat(64));
  });

  it('round-trips any store through serialize and parse (property)', () => {
    const pin = fc.record({ hash: fc.stringMatching(/^[0-9a-f]{64}$/), firstSeen: fc.constant('2026-01-01T00:00:00.000Z') });
    const entry = fc.record({ name: fc.string(), client: fc.string(), configPath: fc.string(), tools: fc.dictionary(fc.string(), pin).map((d) => new Map(Object.entries(d))) });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), entry), (servers) => {
        const map = new Map(Object.entries(servers));
        const back = parsePins(serializePins(map));
        expect(back).toEqual(map);
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe('state folder', () => {
  it('follows PALISADE_STATE_DIR, then the platform convention', () => {
    expect(stateDirPath({ env: { PALISADE_STATE_DIR: '/srv/palisade-state' } })).toBe(path.resolve('/srv/palisade-state'));
    expect(stateDirPath({ env: { HOME: '/home/u' }, platform: 'linux' })).toBe('/home/u/.local/state/palisade');
    expect(stateDirPath({ env: { HOME: '/home/u', XDG_STATE_HOME: '/xdg/state' }, platform: 'linux' })).toBe('/xdg/state/palisade');
    // a relative XDG_STATE_HOME is invalid per the spec and ignored
    expect(stateDirPath({ env: { HOME: '/home/u', XDG_STATE_HOME: 'rel' }, platform: 'linux' })).toBe('/home/u/.local/state/palisade');
    expect(stateDirPath({ env: { HOME: '/Users/u' }, platform: 'darwin' })).toBe('/Users/u/Library/Application Support/Palisade');
    expect(stateDirPath({ env: { LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, platform: 'win32', home: 'C:\\Users\\u' })).toBe('C:\\Users\\u\\AppData\\Local\\Palisade');
    expect(stateDirPath({ env: {}, platform: 'win32', home: 'C:\\Users\\u' })).toBe('C:\\Users\\u\\AppData\\Local\\Palisade');
  });
});
