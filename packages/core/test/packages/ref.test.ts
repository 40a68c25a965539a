import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeModulesPackage, parsePackageRef } from '@palisade/core';

describe('package references from launch commands', () => {
  const cases: Array<[string, string[], object | undefined]> = [
    ['npx', ['-y', 'mcp-remote@0.1.15', 'https://mcp.example.com/sse'], { ecosystem: 'npm', name: 'mcp-remote', version: '0.1.15', pinned: true, runner: 'npx' }],
    ['npx', ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], { ecosystem: 'npm', name: '@modelcontextprotocol/server-filesystem', pinned: false }],
    ['npx', ['--yes', '-p', 'mcp-remote@0.1.16', 'mcp-remote', 'https://x'], { name: 'mcp-remote', version: '0.1.16', pinned: true }],
    ['npm', ['exec', '--', 'mcp-remote@latest'], { name: 'mcp-remote', version: 'latest', pinned: false, runner: 'npm exec' }],
    ['pnpm', ['dlx', '@cyanheads/git-mcp-server@2.1.4'], { name: '@cyanheads/git-mcp-server', version: '2.1.4', pinned: true, runner: 'pnpm dlx' }],
    ['pnpx', ['mcp-remote@0.1.0'], { name: 'mcp-remote', version: '0.1.0', runner: 'pnpx' }],
    ['yarn', ['dlx', 'mcp-remote@^0.1.0'], { name: 'mcp-remote', version: '^0.1.0', pinned: false, runner: 'yarn dlx' }],
    ['bunx', ['mcp-remote@0.1.15'], { name: 'mcp-remote', version: '0.1.15', runner: 'bunx' }],
    ['uvx', ['mcp-server-git==2025.7.1', '--repository', '/r'], { ecosystem: 'PyPI', name: 'mcp-server-git', version: '2025.7.1', pinned: true, runner: 'uvx' }],
    ['uvx', ['mcp-server-git@2025.12.18'], { ecosystem: 'PyPI', name: 'mcp-server-git', version: '2025.12.18', pinned: true }],
    ['uvx', ['--from', 'mcp[cli]==1.9.0', 'mcp'], { ecosystem: 'PyPI', name: 'mcp', version: '1.9.0', pinned: true }],
    ['uv', ['tool', 'run', 'mcp-server-fetch'], { ecosystem: 'PyPI', name: 'mcp-server-fetch', pinned: false, runner: 'uv tool run' }],
    ['pipx', ['run', 'mcp-server-git'], { ecosystem: 'PyPI', name: 'mcp-server-git', pinned: false, runner: 'pipx run' }],
    ['python', ['-m', 'mcp_server_git', '--repository', '.'], { ecosystem: 'PyPI', name: 'mcp-server-git', pinned: false, runner: 'python -m' }],
    ['/usr/bin/python3.12', ['-m', 'mcp_server_time'], { ecosystem: 'PyPI', name: 'mcp-server-time', runner: 'python -m' }],
    ['python3', ['-m', 'http.server'], undefined],
    ['docker', ['run', '-i', '--rm', '-e', 'TOKEN', 'ghcr.io/github/github-mcp-server:v0.5.0'], { ecosystem: 'docker', name: 'ghcr.io/github/github-mcp-server', version: 'v0.5.0', pinned: true }],
    ['node', ['/home/u/.npm/_npx/abc/node_modules/mcp-remote/dist/proxy.js', 'https://x'], { ecosystem: 'npm', name: 'mcp-remote', pinned: false, runner: 'node_modules' }],
    ['C:\\tools\\node_modules\\@scope\\srv\\bin\\cli.exe', [], { ecosystem: 'npm', name: '@scope/srv' }],
    ['cmd', ['/c', 'npx', '-y', 'mcp-remote@0.1.15'], { name: 'mcp-remote', version: '0.1.15' }],
  ];
  for (const [cmd, args, want] of cases) {
    it(`${cmd} ${args.join(' ')}`, () => {
      const got = parsePackageRef(cmd, args);
      if (want === undefined) expect(got).toBeUndefined();
      else expect(got).toMatchObject(want);
    });
  }
});

describe('"latest" is never a pin, in any ecosystem', () => {
  const cases: Array<[string, string[], object]> = [
    ['uvx', ['mcp-server-fetch@latest'], { ecosystem: 'PyPI', name: 'mcp-server-fetch', version: 'latest', pinned: false }],
    ['uvx', ['--from', 'mcp-server-git@Latest', 'mcp-server-git'], { ecosystem: 'PyPI', name: 'mcp-server-git', pinned: false }],
    ['pipx', ['run', 'mcp-server-time@latest'], { ecosystem: 'PyPI', name: 'mcp-server-time', pinned: false }],
    ['npx', ['-y', '@acme/mcp@latest'], { ecosystem: 'npm', name: '@acme/mcp', version: 'latest', pinned: false }],
    ['docker', ['run', '-i', 'ghcr.io/acme/mcp:latest'], { ecosystem: 'docker', name: 'ghcr.io/acme/mcp', pinned: false }],
  ];
  for (const [cmd, args, want] of cases) {
    it(`${cmd} ${args.join(' ')}`, () => {
      expect(parsePackageRef(cmd, args)).toMatchObject(want);
    });
  }
});

describe('node_modules paths', () => {
  it('finds the package and its folder, last node_modules wins, .bin is not a package', () => {
    expect(nodeModulesPackage('/a/node_modules/x/node_modules/@s/p/lib/i.js')).toEqual({ name: '@s/p', root: '/a/node_modules/x/node_modules/@s/p' });
    expect(nodeModulesPackage('/a/node_modules/.bin/mcp-remote')).toBeUndefined();
    expect(nodeModulesPackage('/a/src/index.js')).toBeUndefined();
    expect(nodeModulesPackage('C:\\a\\node_modules\\p\\i.js')).toEqual({ name: 'p', root: 'C:\\a\\node_modules\\p' });
  });
});

describe('bad input', () => {
  it('never throws on arbitrary commands and arguments', () => {
    fc.assert(
      fc.property(fc.constantFrom('npx', 'uvx', 'pipx', 'uv', 'python', 'node', 'docker', 'pnpm', 'cmd', 'x'), fc.array(fc.string({ maxLength: 40 }), { maxLength: 6 }), (cmd, args) => {
        parsePackageRef(cmd, args);
        for (const a of args) nodeModulesPackage(a);
      }),
      { seed: 42, numRuns: 200 },
    );
  });
  it('reads a long hostile PyPI spec in linear time', () => {
    const hostile = 'a'.repeat(50_000) + ' '.repeat(50_000) + '!';
    const t = performance.now();
    expect(parsePackageRef('uvx', [hostile])).toMatchObject({ ecosystem: 'PyPI', pinned: false });
    expect(performance.now() - t).toBeLessThan(500);
  });
});
