// PAL-C004: server code fetched from a git repository at launch (npx github:..., uvx --from git+..., git clone && run).
import type { RuleCases, ServerRule } from '../types.js';
import { commandLine, disabledNote, launchedPackagesOf, packageOf, safeText, serverLabel } from '../helpers.js';

// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      { name: 'registry package', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory@2025.4.25'] } },
      { name: 'git server package from PyPI', server: { command: 'uvx', args: ['mcp-server-git==2025.7.1', '--repository', '/home/alice/src/app'] } },
      { name: 'github URL as a plain argument', server: { command: 'npx', args: ['-y', 'mcp-remote@0.1.29', 'https://api.githubcopilot.com/mcp/'] } },
      { name: 'a URL after the package is an argument, not the code', server: { command: 'npx', args: ['-y', 'mcp-remote@0.1.29', 'https://mcp.example.com/sse', '--header', 'X: y'] } },
      { name: 'deno run npm: package', server: { command: 'deno', args: ['run', '-A', 'npm:@example/mcp-server@1.2.3'] } },
    ],
    invalid: [
      { name: 'npx github:', server: { command: 'npx', args: ['-y', 'github:someone/mcp-tool'] }, evidence: /github:someone\/mcp-tool/, severity: 'high' },
      { name: 'npx owner/repo shorthand', server: { command: 'npx', args: ['someone/mcp-tool'] }, evidence: /someone\/mcp-tool/ },
      { name: 'uvx --from git+https', server: { command: 'uvx', args: ['--from', 'git+https://github.com/someone/mcp-tool', 'mcp-tool'] }, evidence: /git\+https/ },
      { name: 'git clone && run', server: { command: 'bash', args: ['-c', 'git clone https://github.com/someone/mcp-tool /tmp/t && node /tmp/t/index.js'] }, evidence: /git clone/ },
      { name: 'pip install git+', server: { command: 'sh', args: ['-c', 'pip install git+https://github.com/someone/mcp-tool && mcp-tool'] }, evidence: /git\+https/ },
      { name: 'npx https:// tarball (code from a URL, not a package named https)', server: { command: 'npx', args: ['-y', 'https://example.com/downloads/mcp-tool.tgz'] }, evidence: /npx https:\/\/example\.com\/downloads\/mcp-tool\.tgz/, severity: 'high' },
      { name: 'npx github:owner/repo behind flags', server: { command: 'npx', args: ['--yes', '--package', 'github:someone/mcp-tool', 'mcp-tool'] }, evidence: /github:someone\/mcp-tool/ },
      { name: 'deno run https://', server: { command: 'deno', args: ['run', '--allow-net', 'https://example.com/mcp/server.ts'] }, evidence: /deno run https:\/\/example\.com\/mcp\/server\.ts/ },
      { name: 'bunx https:// through mise', server: { command: 'mise', args: ['exec', '--', 'bunx', 'https://example.com/mcp.tgz'] }, evidence: /bunx https:/ },
      { name: 'pinned to a commit is still reported, lower', server: { command: 'npx', args: [`github:someone/mcp-tool#${'0123456789abcdef'.repeat(2)}01234567`] }, severity: 'medium' },
    ],
  };
}

let cases: RuleCases | undefined;

const GIT_IN_COMMAND = [
  /\bgit\+(?:https?|ssh|file|git):\/\/\S+/i,
  /(?:^|\s)(?:github|gitlab|bitbucket|gist):[\w.-]+\/?[\w.-]*(?:#\S+)?/i,
  /\b(?:pip3?|uv\s+pip|pipx)\s+install\s+(?:-\S+\s+)*git\+\S+/i,
];

export const codeFromGit: ServerRule = {
  meta: {
    id: 'PAL-C004',
    title: 'Server code fetched from a git repository or URL',
    severity: 'high',
    category: 'config',
    rationale:
      'The server\'s code comes straight from a git repository or a URL (npx github:owner/repo, npx https://host/pkg.tgz, deno run https://..., uvx --from git+https://..., git clone followed by a run). Repositories and download URLs have no release review, no registry malware scanning and no advisories, and a branch or a URL serves whatever was pushed last.',
    remediation:
      'Use a published, versioned package and pin it. If the code must come from git, pin a full commit SHA and review it; the finding drops to medium when a full commit is pinned.',
  },
  kind: 'server',
  get cases() {
    return (cases ??= caseTable());
  },
  check(server) {
    const known = packageOf(server);
    const pkg = known?.ecosystem === 'git' ? known : launchedPackagesOf(server).find((p) => p.ecosystem === 'git');
    const hits = [];
    if (pkg?.ecosystem === 'git') {
      const pinned = pkg.pinned || /[#@][0-9a-f]{40}$/i.test(pkg.name);
      const fromUrl = /^(?:https?|ftp):\/\//i.test(pkg.name) && !/\.git(?:#.*)?$/i.test(pkg.name);
      hits.push({
        message: fromUrl
          ? `Server ${serverLabel(server)} runs code downloaded from the URL ${safeText(pkg.name, 120)} through ${pkg.runner ?? 'its launcher'}: whatever that address serves at launch runs, with no registry, version or review.${disabledNote(server)}`
          : `Server ${serverLabel(server)} runs code fetched from the git repository ${safeText(pkg.name, 120)} through ${pkg.runner ?? 'its launcher'}${pinned ? ', pinned to one commit' : ', following whatever the branch points to at launch'}.${disabledNote(server)}`,
        evidence: safeText(`${pkg.runner ?? ''} ${pkg.name}`.trim()),
        ...(pinned ? { severity: 'medium' as const } : {}),
      });
      return hits;
    }
    const line = commandLine(server);
    // git clone followed by anything run after it (&& or ;): found with one forward scan
    const clone = /\bgit\s+clone\b/i.exec(line);
    if (clone && /&&|;/.test(line.slice(clone.index))) {
      return [
        {
          message: `Server ${serverLabel(server)} clones a git repository in its launch command and runs code from it, with no release review or pinning.${disabledNote(server)}`,
          evidence: safeText(line.slice(clone.index, clone.index + 240)),
        },
      ];
    }
    for (const re of GIT_IN_COMMAND) {
      const m = re.exec(line);
      if (m) {
        hits.push({
          message: `Server ${serverLabel(server)} fetches code from a git repository in its launch command and runs it, with no release review or pinning.${disabledNote(server)}`,
          evidence: safeText(m[0].trim()),
        });
        break;
      }
    }
    return hits;
  },
};
