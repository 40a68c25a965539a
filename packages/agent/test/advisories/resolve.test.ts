// Servers launched from node_modules paths get the installed version from that package.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { matchPackage } from '@palisade/core';
import { normalizeServer } from '../../src/normalize.js';
import { loadBundledAdvisories, resolveNodeModulesPackages } from '../../src/advisories/index.js';
import type { RawServer } from '../../src/clients/types.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pal-nm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function pkg(root: string, json: object): string {
  mkdirSync(path.join(root, 'dist'), { recursive: true });
  writeFileSync(path.join(root, 'package.json'), JSON.stringify(json));
  writeFileSync(path.join(root, 'dist', 'proxy.js'), '// test fixture\n');
  return path.join(root, 'dist', 'proxy.js');
}

function discovery(raws: RawServer[]) {
  const servers = raws.map((raw) => normalizeServer({ clientId: 'claude-desktop', configPath: '/x/claude_desktop_config.json', raw, scope: 'user' }));
  return { servers, raw: new Map(servers.map((s, i) => [s.id, raws[i]!])) };
}

describe('resolveNodeModulesPackages', () => {
  it('reads the installed version, and the advisory matches it exactly', async () => {
    const entry = pkg(path.join(tmp, 'a', 'node_modules', 'mcp-remote'), { name: 'mcp-remote', version: '0.1.15' });
    const d = discovery([{ name: 'remote', command: 'node', args: [entry, 'https://mcp.example.com/sse'] }]);
    expect(await resolveNodeModulesPackages(d)).toBe(1);
    expect(d.servers[0]!.package).toMatchObject({ ecosystem: 'npm', name: 'mcp-remote', resolvedVersion: '0.1.15', runner: 'node_modules' });
    const [m] = matchPackage(loadBundledAdvisories(), d.servers[0]!.package!);
    expect(m).toMatchObject({ status: 'affected', fixed: '0.1.16' });
  });

  it('handles scoped packages and ignores a package.json that names another package, or none', async () => {
    const scoped = pkg(path.join(tmp, 'b', 'node_modules', '@modelcontextprotocol', 'inspector'), { name: '@modelcontextprotocol/inspector', version: '0.14.0' });
    const liar = pkg(path.join(tmp, 'c', 'node_modules', 'mcp-remote'), { name: 'something-else', version: '9.9.9' });
    const d = discovery([
      { name: 'insp', command: scoped.replace(/proxy\.js$/, 'cli.js') },
      { name: 'liar', command: 'node', args: [liar] },
      { name: 'gone', command: 'node', args: [path.join(tmp, 'nowhere', 'node_modules', 'x', 'i.js')] },
      { name: 'npx', command: 'npx', args: ['-y', 'mcp-remote@0.1.16'] },
    ]);
    expect(await resolveNodeModulesPackages(d)).toBe(1);
    expect(d.servers.map((s) => s.package?.resolvedVersion)).toEqual(['0.14.0', undefined, undefined, undefined]);
  });
});
