// PAL-C003: a package fetched at launch without an exact version (npx, uvx, bunx, pnpm dlx, pipx, docker).
import type { PackageRef } from '../../model.js';
import type { RuleCases, RuleHit, ServerRule } from '../types.js';
import { disabledNote, launchedPackagesOf, packageOf, safeText, serverLabel } from '../helpers.js';

// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      { name: 'npx exact version', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/home/alice/projects'] } },
      { name: 'uvx exact version', server: { command: 'uvx', args: ['mcp-server-fetch==2025.4.7'] } },
      { name: 'docker image by digest', server: { command: 'docker', args: ['run', '-i', '--rm', `ghcr.io/github/github-mcp-server@sha256:${'a'.repeat(64)}`] } },
      { name: 'a local binary', server: { command: '/usr/local/bin/my-mcp-server', args: ['--stdio'] } },
      { name: 'mise exec wrapping a pinned bunx package', server: { command: 'mise', args: ['exec', 'bun@1.2.3', '--', 'bunx', '-y', 'mcp-server-kit@1.4.2'] } },
      { name: 'uv run --with an exact version', server: { command: 'uv', args: ['run', '--with', 'mcp-server-fetch==2025.4.7', 'mcp-server-fetch'] } },
      { name: 'deno run npm: with an exact version', server: { command: 'deno', args: ['run', '-A', 'npm:@example/mcp-server@1.2.3'] } },
      { name: 'smithery CLI pinned, running a pinned server', server: { command: 'npx', args: ['-y', '@smithery/cli@1.2.3', 'run', '@example/weather@2.0.0'] } },
      { name: 'docker image with a version tag', server: { command: 'docker', args: ['run', '-i', '--rm', '-e', 'TOKEN', 'mcp/fetch:1.0.3'] } },
      { name: 'code from a URL is PAL-C004, not an unpinned package', server: { command: 'npx', args: ['-y', 'https://example.com/mcp-tool.tgz'] } },
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
      { name: 'docker image without a tag or digest', server: { command: 'docker', args: ['run', '-i', '--rm', '--env-file', '/home/alice/.env', 'ghcr.io/example/mcp-server'] }, evidence: /ghcr\.io\/example\/mcp-server \(no version\)/ },
      { name: 'docker container run behind a global flag', server: { command: 'docker', args: ['--context', 'remote', 'container', 'run', '-i', 'mcp/fetch'] }, evidence: /mcp\/fetch/ },
      { name: 'npx @smithery/cli@latest run a server', server: { command: 'npx', args: ['-y', '@smithery/cli@latest', 'run', '@example/weather', '--key', '<redacted:generic-secret>'] }, evidence: /smithery run @example\/weather/ },
      { name: 'smithery CLI pinned but the server it runs is not', server: { command: 'npx', args: ['-y', '@smithery/cli@1.2.3', 'run', '@example/weather'] }, evidence: /smithery run @example\/weather \(no version\)/ },
      { name: 'mise exec -- bunx -y pkg@latest', server: { command: 'mise', args: ['exec', '--', 'bunx', '-y', 'mcp-server-kit@latest'] }, evidence: /bunx mcp-server-kit@latest/ },
      { name: 'uv run --with pkg', server: { command: 'uv', args: ['run', '--with', 'mcp-server-fetch', 'mcp-server-fetch'] }, evidence: /uv run --with mcp-server-fetch/ },
      { name: 'pnpm dlx behind a global flag', server: { command: 'pnpm', args: ['--silent', 'dlx', '@example/mcp-server'] }, evidence: /pnpm dlx @example\/mcp-server/ },
      { name: 'yarn dlx', server: { command: 'yarn', args: ['dlx', '-p', '@example/mcp-server', 'mcp-server'] }, evidence: /yarn dlx @example\/mcp-server/ },
      { name: 'deno run npm:pkg', server: { command: 'deno', args: ['run', '--allow-net', 'npm:@example/mcp-server'] }, evidence: /deno run @example\/mcp-server/ },
      { name: 'deno run jsr: with a range', server: { command: 'deno', args: ['run', '-A', 'jsr:@example/mcp@^1.0.0'] }, evidence: /jsr:@example\/mcp/ },
      { name: 'env wrapper', server: { command: 'env', args: ['NODE_ENV=production', 'npx', '-y', '@example/mcp-server'] }, evidence: /npx @example\/mcp-server/ },
    ],
  };
}

let cases: RuleCases | undefined;

const LAUNCHERS = /^(?:npx|pnpx|bunx|npm exec|npm x|pnpm dlx|pnpm exec|yarn dlx|yarn exec|bun x|uvx|uv tool run|uv run --with|pipx run|docker|podman|deno run|deno x|smithery run)$/;

/** Every package the command line fetches (wrappers unwrapped), the discovered one first when it is among them. */
function packagesOf(server: Parameters<ServerRule['check']>[0]): PackageRef[] {
  const chain: PackageRef[] = [...launchedPackagesOf(server)];
  const known = packageOf(server);
  if (!known) return chain;
  const i = chain.findIndex((p) => p.name === known.name && p.ecosystem === known.ecosystem);
  if (i >= 0) chain[i] = known;
  else chain.unshift(known);
  return chain;
}

export const unpinnedPackage: ServerRule = {
  meta: {
    id: 'PAL-C003',
    title: 'Package fetched without a pinned version',
    severity: 'medium',
    category: 'config',
    rationale:
      'Launchers such as npx, uvx, bunx, pnpm dlx, yarn dlx, pipx, `uv run --with`, `deno run npm:` and `docker run` download the newest matching release whenever their cache is empty or stale. A compromised or hijacked release then runs on every machine with this config, without anyone changing a line. `@latest` asks for exactly that. Wrappers are unwrapped (`mise exec --`, `env`, `cmd /c`), and launchers that run another server (`npx @smithery/cli run @owner/server`) are judged for both packages.',
    remediation:
      'Pin an exact version (`npx -y pkg@1.4.2`, `uvx pkg==1.4.2`, a Docker image digest) and update it deliberately after review. Internal mirrors with an allow-list make pinning enforceable.',
  },
  kind: 'server',
  get cases() {
    return (cases ??= caseTable());
  },
  check(server) {
    const hits: RuleHit[] = [];
    for (const pkg of packagesOf(server)) {
      // `uvx pkg@latest` parses as an exact-looking version: "latest" is never a pin
      const latest = typeof pkg?.version === 'string' && pkg.version.toLowerCase() === 'latest';
      if (!pkg || (pkg.pinned && !latest) || pkg.ecosystem === 'git' || !pkg.runner || !LAUNCHERS.test(pkg.runner)) continue;
      const docker = pkg.ecosystem === 'docker';
      const kind = docker ? 'container image' : pkg.ecosystem === 'unknown' ? 'package' : `${pkg.ecosystem} package`;
      const what = pkg.version === undefined ? (docker ? 'names no tag or digest' : 'names no version') : latest ? (docker ? 'asks for the :latest tag' : 'asks for @latest') : `allows any version matching "${pkg.version}"`;
      const resolved = pkg.resolvedVersion ? ` The local cache currently holds ${pkg.resolvedVersion}, but the next launch may fetch another release.` : '';
      const shown = docker ? `${pkg.name}${pkg.version ? ':' + pkg.version : ''}` : `${pkg.name}${pkg.version ? '@' + pkg.version : ''}`;
      hits.push({
        message: `Server ${serverLabel(server)} runs ${kind} ${safeText(pkg.name, 120)} through ${pkg.runner} and ${what}, so whatever release is newest at launch time runs.${resolved}${disabledNote(server)}`,
        evidence: safeText(`${pkg.runner} ${shown}${pkg.version === undefined ? ' (no version)' : ''}`),
      });
    }
    return hits;
  },
};
