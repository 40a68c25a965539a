// Keeps the promise in SECURITY.md ("What the agent reads and sends") true: a real
// `palisade scan --json` over a fixture home full of values and secrets must send exactly
// the documented server fields and none of the things SECURITY.md says are never sent.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScoredServerSchema, type ScanReport } from '@palisade/core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The field names in SECURITY.md's table, between its markers. */
function documentedFields(): string[] {
  const md = readFileSync(path.join(root, 'SECURITY.md'), 'utf8');
  const table = /<!-- agent-data-fields:start -->([\s\S]*?)<!-- agent-data-fields:end -->/.exec(md)?.[1] ?? '';
  return [...table.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]!).sort();
}

// Test fixtures only: every value is made up; some are merely shaped like credentials.
const FAKE = {
  githubArg: 'ghp_AgentDataFixture0000aaaabbbbccccddddee',
  githubEnv: 'ghp_AgentDataFixtureEnv000aaaabbbbccccdddd',
  envPlain: 'env-value-fixture-kT4pLw',
  envUrl: 'https://internal.example/env-value-fixture-Rm8s',
  headerBearer: 'header-value-fixture-Qz9c7Xb2Lm4Nv6Pa',
  headerPlain: 'header-value-fixture-team-Hd3k',
  urlPassword: 'url-password-fixture-Wq7e',
  queryValue: 'query-value-fixture-Jn5r',
  scopedFile: 'scoped-file-content-fixture-Vb2x',
  outsideFile: 'outside-mcp-config-fixture-Ty6u',
  sshKey: 'ssh-key-fixture-Ps1o',
  projectReadme: 'project-file-content-fixture-Gf8i',
};

let home: string;
let project: string;
let stdout = '';
let stderr = '';
let code: number | null = null;

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'palisade-agent-data-'));
  project = path.join(home, 'work', 'app');
  const scoped = path.join(home, 'Documents', 'notes');
  write(path.join(scoped, 'secret-notes.txt'), FAKE.scopedFile);
  write(path.join(home, '.ssh', 'id_ed25519'), FAKE.sshKey);
  write(path.join(home, '.config', 'Claude', 'config.json'), JSON.stringify({ note: FAKE.outsideFile }));
  write(
    path.join(home, '.config', 'Claude', 'claude_desktop_config.json'),
    JSON.stringify({
      mcpServers: {
        github: {
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-github@2025.4.8', '--token', FAKE.githubArg],
          env: { GITHUB_PERSONAL_ACCESS_TOKEN: FAKE.githubEnv, LOG_LEVEL: FAKE.envPlain, API_BASE: FAKE.envUrl, REF: '${HOME_TOKEN}' },
        },
        files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', scoped], cwd: scoped },
      },
    }),
  );
  write(
    path.join(home, '.cursor', 'mcp.json'),
    JSON.stringify({
      mcpServers: {
        remote: {
          url: `https://fixture-user:${FAKE.urlPassword}@mcp.example.com/mcp?api_key=${FAKE.queryValue}&region=eu`,
          headers: { Authorization: `Bearer ${FAKE.headerBearer}`, 'X-Team': FAKE.headerPlain },
        },
      },
    }),
  );
  write(path.join(project, '.mcp.json'), JSON.stringify({ mcpServers: { local: { command: 'node', args: ['server.js'], env: { DEBUG: FAKE.envPlain } } } }));
  write(path.join(project, 'README.md'), FAKE.projectReadme);

  const args = ['--conditions=source', '--import', 'tsx', path.join(root, 'packages/cli/src/main.ts'), 'scan', '--home', home, '--platform', 'linux', '--path', project, '--json'];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (c) => {
      code = c;
      resolve();
    });
  });
});

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('SECURITY.md "What the agent reads and sends"', () => {
  it('documents exactly the server fields of the wire format', () => {
    const schemaFields = Object.keys(ScoredServerSchema.shape).sort();
    expect(documentedFields()).toEqual(schemaFields);
  });

  it('a real scan sends only documented fields, for servers, host and agent', () => {
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as ScanReport;
    expect(report.servers.map((s) => s.name).sort()).toEqual(['files', 'github', 'local', 'remote']);
    const documented = new Set(documentedFields());
    for (const s of report.servers) for (const k of Object.keys(s)) expect(documented.has(k), `server field ${k} is not in SECURITY.md`).toBe(true);
    expect(Object.keys(report.host).sort()).toEqual(['hostname', 'os', 'user']);
    expect(Object.keys(report.agent).sort()).toEqual(['name', 'version']);
    expect(Object.keys(report).sort()).toEqual(['agent', 'clients', 'findings', 'host', 'scannedAt', 'schemaVersion', 'servers', 'summary'].sort());
  });

  it('sends env and header names, never their values', () => {
    const report = JSON.parse(stdout) as ScanReport;
    const byName = new Map(report.servers.map((s) => [s.name, s]));
    expect(byName.get('github')!.envNames.sort()).toEqual(['API_BASE', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'LOG_LEVEL', 'REF']);
    expect(byName.get('remote')!.headerNames.sort()).toEqual(['Authorization', 'X-Team']);
    for (const v of [FAKE.githubEnv, FAKE.envPlain, FAKE.envUrl, FAKE.headerBearer, FAKE.headerPlain]) expect(stdout).not.toContain(v);
  });

  it('redacts secrets in args and the URL’s user-info and query values', () => {
    const report = JSON.parse(stdout) as ScanReport;
    const remote = report.servers.find((s) => s.name === 'remote')!;
    expect(remote.url).toContain('mcp.example.com/mcp');
    for (const v of [FAKE.githubArg, FAKE.urlPassword, FAKE.queryValue]) expect(stdout).not.toContain(v);
    expect(report.servers.find((s) => s.name === 'github')!.args.join(' ')).toContain('<redacted');
  });

  it('never reads files in scoped folders or anything outside MCP config files, and never probes unasked', () => {
    for (const v of [FAKE.scopedFile, FAKE.outsideFile, FAKE.sshKey, FAKE.projectReadme]) {
      expect(stdout).not.toContain(v);
      expect(stderr).not.toContain(v);
    }
    const report = JSON.parse(stdout) as ScanReport;
    for (const s of report.servers) {
      expect(s.tools).toBeUndefined();
      expect(s.probe).toBeUndefined();
    }
    // the clients it opened are MCP config files only
    for (const c of report.clients) expect(path.basename(c.configPath)).toMatch(/^(?:claude_desktop_config|mcp|\.mcp)\.json$/);
  });
});
