// The deployment files keep their hardening: docker cannot run here, so the Dockerfile,
// .dockerignore, compose.yaml and the PostgreSQL init script are read and their key
// properties checked (pinned images, non-root user, read-only root, dropped capabilities,
// healthcheck, no secret baked in or written down).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { classifyValue, detectSecret } from '@palisade/core';
import { isPinnedImage, parseDockerfile } from './dockerfile.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (f: string) => readFileSync(path.join(root, f), 'utf8');

const SECRET_NAME = /secret|password|passwd|token|api[_-]?key|private[_-]?key|credential/i;

describe('Dockerfile', () => {
  const { stages } = parseDockerfile(read('Dockerfile'));
  const runtime = stages[stages.length - 1]!;
  const ops = (op: string) => runtime.instructions.filter((i) => i.op === op);

  it('builds in one stage and runs from another, every base image pinned to an exact version or digest', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) {
      expect(s.from, `FROM ${s.from}`).not.toMatch(/:latest$|^[^:@]+$/);
      expect(isPinnedImage(s.from), `FROM ${s.from} is not pinned`).toBe(true);
    }
    // the runtime stage copies built output from the build stage rather than building itself
    expect(ops('COPY').some((c) => c.args.includes(`--from=${stages[0]!.name ?? '0'}`))).toBe(true);
    expect(ops('RUN').map((r) => r.args).join(' ')).not.toMatch(/npm (?:ci|install)\b|tsc|g\+\+|build-essential/);
  });

  it('runs as a fixed non-root uid', () => {
    const users = ops('USER');
    expect(users.length).toBeGreaterThan(0);
    const last = users[users.length - 1]!.args.trim();
    const uid = last.split(':')[0]!;
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    // nothing runs after USER as root again
    expect(runtime.instructions.slice(runtime.instructions.indexOf(users[users.length - 1]!)).some((i) => i.op === 'RUN')).toBe(false);
  });

  it('keeps data in a /data volume, production mode, a node-based /healthz healthcheck and serve on all container interfaces', () => {
    expect(ops('VOLUME').map((v) => v.args).join(' ')).toContain('/data');
    expect(ops('ENV').map((e) => e.args).join(' ')).toMatch(/NODE_ENV=production/);
    const hc = ops('HEALTHCHECK');
    expect(hc).toHaveLength(1);
    expect(hc[0]!.args).toMatch(/CMD \["node"/);
    expect(hc[0]!.args).toContain('/healthz');
    const cmd = [...ops('ENTRYPOINT'), ...ops('CMD')].map((c) => JSON.parse(c.args) as string[]).flat();
    expect(cmd).toEqual(expect.arrayContaining(['serve', '--host', '0.0.0.0', '--data', '/data']));
    // the entry point is tsc output of a source file that exists
    const entry = cmd.find((c) => c.endsWith('.js'))!;
    expect(existsSync(path.join(root, entry.replace('/dist/', '/src/').replace(/\.js$/, '.ts'))), entry).toBe(true);
  });

  it('bakes in no secret: no ENV or ARG with a secret-sounding name or a secret-shaped value', () => {
    for (const s of stages) {
      for (const i of s.instructions.filter((x) => x.op === 'ENV' || x.op === 'ARG')) {
        for (const pair of i.args.split(/\s+(?=[A-Za-z_][A-Za-z0-9_]*=)/)) {
          const [name, value = ''] = pair.split('=', 2);
          expect(name, `line ${i.line}`).not.toMatch(SECRET_NAME);
          expect(classifyValue(name!, value).kind, `line ${i.line}: ${name}`).not.toBe('secret');
        }
      }
    }
    expect(detectSecret(read('Dockerfile'))).toBeUndefined();
  });

  it('leaves local state, secrets and VCS data out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const p of ['.git', '**/node_modules', '**/.env', '.palisade-data', '*.pem', '*.key']) expect(ignored).toContain(p);
  });
});

interface ComposeService {
  image?: string;
  build?: unknown;
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  privileged?: boolean;
  network_mode?: string;
  ports?: string[];
  tmpfs?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
}

describe('compose.yaml', () => {
  const compose = YAML.parse(read('compose.yaml')) as { services: Record<string, ComposeService> };
  const services = Object.entries(compose.services);

  it('has the app and PostgreSQL, every image pinned', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['app', 'db']);
    for (const [name, s] of services) {
      if (s.image && !s.build) expect(isPinnedImage(s.image), `${name}: ${s.image}`).toBe(true);
      expect(s.image ?? '', name).not.toMatch(/:latest$/);
    }
  });

  it('hardens every service: read-only root, all capabilities dropped, no new privileges, non-root, not privileged', () => {
    for (const [name, s] of services) {
      expect(s.read_only, name).toBe(true);
      expect(s.cap_drop, name).toContain('ALL');
      expect(s.cap_add ?? [], name).toEqual([]);
      expect(s.security_opt, name).toContain('no-new-privileges:true');
      expect(s.privileged ?? false, name).toBe(false);
      expect(s.network_mode, name).toBeUndefined();
      expect(s.user, name).toMatch(/^[1-9]\d*:[1-9]\d*$/);
      expect(s.tmpfs, name).toContain('/tmp');
    }
  });

  it('publishes only the app, on loopback; the database is reachable only inside', () => {
    expect(compose.services.db!.ports).toBeUndefined();
    for (const p of compose.services.app!.ports ?? []) expect(p).toMatch(/^127\.0\.0\.1:/);
  });

  it('writes down no secret: passwords and JWT_SECRET come from the operator’s .env, required', () => {
    for (const [name, s] of services) {
      for (const [k, v] of Object.entries(s.environment ?? {})) {
        const literal = String(v).replace(/\$\{[^}]+\}/g, '');
        if (SECRET_NAME.test(k)) expect(String(v), `${name}.${k}`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
        expect(detectSecret(literal), `${name}.${k}`).toBeUndefined();
      }
    }
    const app = compose.services.app!.environment!;
    expect(app.NODE_ENV).toBe('production');
    expect(app.PALISADE_SIGNUP).toBe('closed');
    // the app serves as the runtime role (DML only) and migrates as the owner role; never the superuser
    const user = (u: string) => new URL(u.replace(/\$\{[^}]+\}/g, 'x')).username;
    expect(user(app.DATABASE_URL!)).toBe('palisade_runtime');
    expect(user(app.DATABASE_MIGRATION_URL!)).toBe('palisade');
    for (const u of [app.DATABASE_URL!, app.DATABASE_MIGRATION_URL!]) expect(user(u)).not.toBe(compose.services.db!.environment!.POSTGRES_USER);
  });

  it('creates the app role without superuser or BYPASSRLS, its password passed as a psql variable', () => {
    const mount = compose.services.db!.volumes!.find((v) => v.includes('docker-entrypoint-initdb.d'))!;
    const script = read(mount.split(':')[0]!.replace(/^\.\//, ''));
    expect(script).toMatch(/CREATE ROLE palisade LOGIN PASSWORD :'pw' NOSUPERUSER NOBYPASSRLS/);
    expect(script).toContain('CREATE DATABASE palisade OWNER palisade');
    expect(script).not.toMatch(/PASSWORD '\$|PASSWORD "\$/);
  });
});

describe('the Dockerfile HEALTHCHECK command against a real server', () => {
  const { stages } = parseDockerfile(read('Dockerfile'));
  const hc = stages[stages.length - 1]!.instructions.find((i) => i.op === 'HEALTHCHECK')!;
  const command = JSON.parse(hc.args.slice(hc.args.indexOf('CMD ') + 4)) as string[];

  const runCheck = (port: number) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(command[0] === 'node' ? process.execPath : command[0]!, command.slice(1), { env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
      child.on('close', resolve);
    });

  it('passes while palisade serve (production mode) answers and fails once it is gone', async () => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'palisade-healthcheck-'));
    // test fixture: a made-up, random signing key for this run only
    const env = { ...process.env, NODE_ENV: 'production', JWT_SECRET: randomBytes(48).toString('base64url'), DATABASE_URL: '' };
    const server = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(root, 'packages/cli/src/main.ts'), 'serve', '--port', '0', '--data', data], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let err = '';
        server.stderr.setEncoding('utf8').on('data', (d: string) => {
          err += d;
          const m = /serving on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
          if (m) resolve(Number(m[1]));
        });
        server.on('close', () => reject(new Error(`palisade serve exited: ${err}`)));
      });
      expect(await runCheck(port)).toBe(0);
      server.kill('SIGTERM');
      await new Promise((r) => server.once('close', r));
      expect(await runCheck(port)).toBe(1);
    } finally {
      server.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  }, 60_000);
});
