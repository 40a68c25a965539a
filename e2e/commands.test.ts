// Every command the dashboard shows runs as shown, on a "machine" that has only Node.js: the
// CLI is packed into the real npm package (palisade-mcp-<version>.tgz, packages/cli/scripts/
// pack.mjs) and served by a small npm registry on loopback, so `npx palisade-mcp ...` and
// `npm install -g palisade-mcp` resolve the package by its name exactly as they would from
// npmjs.com. The commands are read from the dashboard's DOM in the real browser against a real
// `palisade serve`; each one runs in a shell with an empty home (holding one fixture AI client
// config), its own npm cache and global prefix, and no PALISADE_* variables. The only edit is
// the one a user makes: the agent key in place of the placeholder `pal_…`.
/// <reference lib="dom" />
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, skipBrowserTests, skipReason } from './support/browser.js';
import { ensureWebBuilt, REPO, startServer, type RunningServer } from './support/palisade.js';

const OWNER = { email: 'owner@example.test', password: 'correct horse battery staple 42' };
const POLL = { timeout: 30_000 };

if (skipBrowserTests) console.warn(`[e2e] skipping the shown-commands test: ${skipReason}`);

interface Shell {
  code: number | null;
  out: string;
}

/** A loopback npm registry that knows one package: the packed palisade-mcp. */
async function startRegistry(tarball: string): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const bytes = readFileSync(tarball);
  const manifest = JSON.parse(spawnSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }).stdout) as { name: string; version: string };
  const requests: string[] = [];
  const file = `${manifest.name}-${manifest.version}.tgz`;
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const base = `http://${req.headers.host}`;
    if (req.url === `/${manifest.name}`) {
      const packument = {
        name: manifest.name,
        'dist-tags': { latest: manifest.version },
        versions: {
          [manifest.version]: {
            ...manifest,
            _id: `${manifest.name}@${manifest.version}`,
            dist: {
              tarball: `${base}/${manifest.name}/-/${file}`,
              shasum: createHash('sha1').update(bytes).digest('hex'),
              integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
            },
          },
        },
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(packument));
    } else if (req.url === `/${manifest.name}/-/${file}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      res.end(bytes);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found"}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe.skipIf(skipBrowserTests)('every command the dashboard shows runs as shown', { timeout: 300_000 }, () => {
  let tmp: string;
  let tarball: string;
  let registry: Awaited<ReturnType<typeof startRegistry>>;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let key = '';
  const shown = new Set<string>();
  let machine: { home: string; cwd: string; prefix: string; env: NodeJS.ProcessEnv };

  /** The commands on the current page: every code element that is a whole palisade-mcp command. */
  async function collect(): Promise<void> {
    const texts = await page.evaluate(() => Array.from(document.querySelectorAll('main code, [data-command]')).map((el) => el.getAttribute('data-command') ?? el.textContent ?? ''));
    for (const t of texts) {
      const cmd = t.trim();
      if (/^(npx|npm) /.test(cmd) && /palisade-mcp/.test(cmd)) shown.add(cmd);
    }
  }

  function sh(command: string, opts: { timeoutMs?: number } = {}): Promise<Shell> {
    return new Promise((resolve, reject) => {
      const child = spawn('sh', ['-c', command], { cwd: machine.cwd, env: machine.env, detached: true });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), opts.timeoutMs ?? 180_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
  }

  async function hosts(): Promise<Array<{ hostname: string; lastReportAt?: string; lastSeenAt?: string }>> {
    const r = await page.request.get(`${server.origin}/api/v1/hosts`);
    expect(r.status()).toBe(200);
    return ((await r.json()) as { items: Array<{ hostname: string; lastReportAt?: string; lastSeenAt?: string }> }).items;
  }

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'palisade-commands-'));
    const packed = spawnSync(process.execPath, [path.join(REPO, 'packages/cli/scripts/pack.mjs'), '--out', path.join(tmp, 'out')], { encoding: 'utf8' });
    expect(packed.status, packed.stderr).toBe(0);
    tarball = packed.stdout.trim().split('\n').pop()!;
    registry = await startRegistry(tarball);

    // the machine: an empty home with one AI client config, npm's cache and global folder inside it
    const home = path.join(tmp, 'home');
    cpSync(path.join(REPO, 'e2e/fixtures/home-alice'), home, { recursive: true });
    const cwd = path.join(tmp, 'work');
    mkdirSync(cwd, { recursive: true });
    const prefix = path.join(home, '.npm-global');
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(PALISADE_|npm_|NPM_|XDG_|DATABASE_URL|NODE_OPTIONS|VITEST)/i.test(k)) env[k] = v;
    Object.assign(env, {
      HOME: home,
      // what `npm install -g` puts on the PATH, first
      PATH: `${path.join(prefix, 'bin')}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}/usr/bin:/bin`,
      npm_config_registry: registry.url,
      npm_config_cache: path.join(home, '.npm'),
      npm_config_prefix: prefix,
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      NO_COLOR: '1',
    });
    machine = { home, cwd, prefix, env };

    ensureWebBuilt();
    server = await startServer();
    browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    ctx.setDefaultTimeout(20_000);
    page = await ctx.newPage();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await registry?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('collects the commands from the pages a new owner sees', async () => {
    await page.goto(`${server.origin}/setup?token=${server.setupToken}`);
    await page.getByLabel('Organisation name').fill('Example Security');
    await page.getByLabel('Your email').fill(OWNER.email);
    await page.getByLabel('Password', { exact: true }).fill(OWNER.password);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('heading', { name: 'No machine has reported yet' }).waitFor();
    await collect();
    await page.goto(`${server.origin}/settings/agent-keys`);
    await page.getByLabel('Key name').fill('laptops');
    await page.getByRole('button', { name: 'Create key' }).click();
    key = (await page.getByTestId('new-agent-key').textContent())?.trim() ?? '';
    expect(key).toMatch(/^pal_/);
    await collect();
    const list = [...shown];
    // what the pages teach: run it, install it, point it at the server, report once or hourly
    expect(list).toEqual(
      expect.arrayContaining([
        'npx palisade-mcp',
        'npm install -g palisade-mcp',
        `npx palisade-mcp configure --server ${server.origin} --api-key ${key}`,
        `npx palisade-mcp configure --server ${server.origin} --api-key pal_…`,
        'npx palisade-mcp report',
        'npx palisade-mcp daemon',
      ]),
    );
    // nothing names the unrelated `palisade` package or assumes an installed binary
    for (const c of list) expect(c).not.toMatch(/^npx palisade(\s|$)/);
  });

  it('each one runs with only Node.js and the package fetched by name: rc 0 and its effect', async () => {
    const order = (c: string) => (/^npm install/.test(c) ? 1 : /configure/.test(c) ? 2 : /report$/.test(c) ? 3 : /daemon$/.test(c) ? 4 : 0);
    const commands = [...shown].sort((a, b) => order(a) - order(b));
    const ran: string[] = [];
    for (const shownCommand of commands) {
      const command = shownCommand.replace('pal_…', key); // the one edit a user makes
      if (/daemon$/.test(command)) {
        // runs until stopped: it must send its first report at once, then it is stopped by a signal
        const before = (await hosts()).length;
        const child = spawn('sh', ['-c', command], { cwd: machine.cwd, env: machine.env, detached: true });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        try {
          await expect.poll(() => out, { timeout: 120_000 }).toMatch(/report sent to http:\/\/127\.0\.0\.1/);
        } finally {
          process.kill(-child.pid!, 'SIGTERM');
        }
        await exited;
        expect((await hosts()).length).toBe(before);
        ran.push(command);
        continue;
      }
      const r = await sh(command);
      expect(r.code, `${command}\n${r.out}`).toBe(0);
      ran.push(command);
      if (command === 'npx palisade-mcp') expect(r.out).toMatch(/Usage: palisade/);
      if (/^npm install -g/.test(command)) {
        expect(existsSync(path.join(machine.prefix, 'bin', 'palisade'))).toBe(true);
        const v = await sh('palisade --version');
        expect(v.code, v.out).toBe(0);
      }
      if (/configure/.test(command)) {
        const config = JSON.parse(readFileSync(path.join(machine.home, '.local/state/palisade/agent.json'), 'utf8')) as Record<string, unknown>;
        expect(JSON.stringify(config)).toContain(server.origin);
      }
      if (/report$/.test(command)) {
        expect(r.out).toContain(`report sent to ${server.origin}`);
        await expect.poll(async () => (await hosts()).length, POLL).toBe(1);
      }
    }
    expect(ran.length).toBe(shown.size);
    // every package came from the loopback registry by its name; nothing else was asked for
    expect(registry.requests.some((r) => r.startsWith('GET /palisade-mcp'))).toBe(true);
    expect(registry.requests.every((r) => /^GET \/palisade-mcp(\/|$)/.test(r))).toBe(true);
  });
});
