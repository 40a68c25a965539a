// One scan pipeline: `palisade scan --json` and the report `palisade report` uploads carry the
// same servers, packages (installed versions included) and findings for the same home. The
// upload is caught by a small HTTP receiver on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ScanReport } from '@palisade/core';
import { runCli } from '../cli/helpers.js';

// a test fixture key: shaped like an agent key, accepted only by the receiver below
const KEY = 'pal_testfixture_parity_0123456789abcdef';

let tmp: string;
let home: string;
let receiver: Server;
let url: string;
const received: string[] = [];

function installed(dir: string, version: string): string {
  const root = path.join(home, dir, 'node_modules', 'mcp-remote');
  mkdirSync(path.join(root, 'dist'), { recursive: true });
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'mcp-remote', version }));
  writeFileSync(path.join(root, 'dist', 'proxy.js'), '');
  return path.join(root, 'dist', 'proxy.js');
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'palisade-parity-'));
  home = path.join(tmp, 'home');
  // mcp-remote before 0.1.16 is a known-vulnerable version in the bundled advisories (CVE-2025-6514)
  const fixed = installed('tools-new', '0.1.30');
  const old = installed('tools-old', '0.1.10');
  const dir = path.join(home, '.config', 'Claude');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'claude_desktop_config.json'),
    JSON.stringify({
      mcpServers: {
        'remote-fixed': { command: 'node', args: [fixed, 'https://mcp.example.com/sse'] },
        'remote-old': { command: 'node', args: [old, 'https://mcp.example.com/sse'] },
        everything: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything@latest'] },
      },
    }),
  );
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/api/v1/agent/report' && req.headers['x-api-key'] === KEY) {
        received.push(body);
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const addr = receiver.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

/** What must match: everything but the time of the scan. */
function comparable(r: ScanReport) {
  return { servers: r.servers, findings: r.findings, clients: r.clients, summary: r.summary };
}

describe('scan --json and report share one pipeline', () => {
  it('carry identical servers, packages and findings for the same home', async () => {
    const env = { PALISADE_STATE_DIR: path.join(tmp, 'state'), PALISADE_SERVER: url, PALISADE_API_KEY: KEY };
    const scan = await runCli(['scan', '--json', '--home', home, '--platform', 'linux'], { env });
    expect(scan.stderr).toBe('');
    const report = await runCli(['report', '--home', home, '--platform', 'linux'], { env });
    expect(report.stderr).toBe('');
    expect(report.code).toBe(0);
    expect(received).toHaveLength(1);
    const scanned = JSON.parse(scan.stdout) as ScanReport;
    const uploaded = JSON.parse(received[0]!) as ScanReport;
    expect(comparable(uploaded)).toEqual(comparable(scanned));

    // the installed version was resolved in both: only the old install is known-vulnerable
    const byName = (n: string) => uploaded.servers.find((s) => s.name === n)!;
    expect(byName('remote-fixed').package).toMatchObject({ name: 'mcp-remote', resolvedVersion: '0.1.30' });
    expect(byName('remote-old').package).toMatchObject({ name: 'mcp-remote', resolvedVersion: '0.1.10' });
    expect(byName('remote-fixed').findings.map((f) => f.ruleId)).not.toContain('PAL-V001');
    expect(byName('remote-old').findings.map((f) => f.ruleId)).toContain('PAL-V001');
  }, 120_000);
});
