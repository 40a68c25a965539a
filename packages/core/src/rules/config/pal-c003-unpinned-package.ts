// PAL-C003: a package fetched at launch without an exact version (npx, uvx, bunx, pnpm dlx, pipx, docker).
import type { RuleCases, ServerRule } from '../types.js';
import { disabledNote, packageOf, safeText, serverLabel } from '../helpers.js';

export const cases: RuleCases = {
  valid: [
    { name: 'npx exact version', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/home/alice/projects'] } },
    { name: 'uvx exact version', server: { command: 'uvx', args: ['mcp-server-fetch==2025.4.7'] } },
    { name: 'docker image by digest', server: { command: 'docker', args: ['run', '-i', '--rm', `ghcr.io/github/github-mcp-server@sha256:${'a'.repeat(64)}`] } },
    { name: 'a local binary', server: { command: '/usr/local/bin/my-mcp-server', args: ['--stdio'] } },
  ],
  invalid: [
    { name: 'npx with no version', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'] }, evidence: /@modelcontextprotocol\/server-github/, severity: 'medium' },
    { name: 'npx @latest', server: { command: 'npx', args: ['-y', '@playwright/mcp@latest'] }, evidence: /@latest/ },
    { name: 'uvx with no version', server: { command: 'uvx', args: ['mcp-server-git', '--repository', '/home/alice/src/app'] }, evidence: /mcp-server-git/ },
    { name: 'pnpm dlx with a range', server: { command: 'pnpm', args: ['dlx', '@upstash/context7-mcp@^1.0.0'] }, evidence: /\^1\.0\.0/ },
    { name: 'bunx', server: { command: 'bunx', args: ['mcp-remote', 'https://mcp.example.com/sse'] }, evidence: /bunx/ },
    { name: 'pipx run', server: { command: 'pipx', args: ['run', 'mcp-server-time'] }, evidence: /pipx run/ },
    { name: 'uvx pkg@latest', server: { command: 'uvx', args: ['awslabs.aws-documentation-mcp-server@latest'] }, evidence: /@latest/ },
    { name: 'docker :latest', server: { command: 'docker', args: ['run', '-i', '--rm', 'mcp/fetch:latest'] }, evidence: /mcp\/fetch/ },
  ],
};

const LAUNCHERS = /^(?:npx|bunx|npm exec|npm x|pnpm dlx|pnpm exec|yarn dlx|bun x|uvx|uv tool run|pipx run|docker|podman)$/;

export const unpinnedPackage: ServerRule = {
  meta: {
    id: 'PAL-C003',
    title: 'Package fetched without a pinned version',
    severity: 'medium',
    category: 'config',
    rationale:
      'Launchers such as npx, uvx, bunx, pnpm dlx and pipx download the newest matching release whenever their cache is empty or stale. A compromised or hijacked release then runs on every machine with this config, without anyone changing a line. `@latest` asks for exactly that.',
    remediation:
      'Pin an exact version (`npx -y pkg@1.4.2`, `uvx pkg==1.4.2`, a Docker image digest) and update it deliberately after review. Internal mirrors with an allow-list make pinning enforceable.',
  },
  kind: 'server',
  cases,
  check(server) {
    const pkg = packageOf(server);
    // `uvx pkg@latest` parses as an exact-looking version: "latest" is never a pin
    const latest = typeof pkg?.version === 'string' && pkg.version.toLowerCase() === 'latest';
    if (!pkg || (pkg.pinned && !latest) || pkg.ecosystem === 'git' || pkg.ecosystem === 'unknown' || !pkg.runner || !LAUNCHERS.test(pkg.runner)) return [];
    const docker = pkg.ecosystem === 'docker';
    const what = pkg.version === undefined ? (docker ? 'names no tag or digest' : 'names no version') : latest ? (docker ? 'asks for the :latest tag' : 'asks for @latest') : `allows any version matching "${pkg.version}"`;
    const resolved = pkg.resolvedVersion ? ` The local cache currently holds ${pkg.resolvedVersion}, but the next launch may fetch another release.` : '';
    const shown = pkg.ecosystem === 'docker' ? `${pkg.name}${pkg.version ? ':' + pkg.version : ''}` : `${pkg.name}${pkg.version ? '@' + pkg.version : ''}`;
    return [
      {
        message: `Server ${serverLabel(server)} runs ${docker ? 'container image' : `${pkg.ecosystem} package`} ${pkg.name} through ${pkg.runner} and ${what}, so whatever release is newest at launch time runs.${resolved}${disabledNote(server)}`,
        evidence: safeText(`${pkg.runner} ${shown}${pkg.version === undefined ? ' (no version)' : ''}`),
      },
    ];
  },
};
