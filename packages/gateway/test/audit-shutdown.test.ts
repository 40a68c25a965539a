// Audit records are written in batches (store.ts: one transaction per event-loop turn): a
// `palisade gateway` process stopped with SIGTERM in the middle of a burst of calls still has
// the record of every call it answered in its store. A real process (the CLI from the sources), real HTTP, real SIGTERM.
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { GatewayStore } from '../src/store.js';
import { callRecord, fixtureUpstream, jsonRpcPost, tmpDir, writeConfig } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

const CLI = path.join(ROOT, 'packages/cli/src/main.ts');

function post(
  url: URL,
  agent: http.Agent,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(jsonRpcPost(url, text, headers, agent), (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: data }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

describe('audit records and SIGTERM', () => {
  it('a gateway stopped with SIGTERM amid a burst of calls has a record of every call it answered', async () => {
    const dir = tmpDir();
    const store = path.join(dir, 'store');
    const file = writeConfig(dir, `listen: { host: 127.0.0.1, port: 0 }\nstore: ${JSON.stringify(store)}\nupstreams:\n${fixtureUpstream('fx', 'basic')}`);
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI, 'gateway', '--config', file], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<URL>((resolve, reject) => {
        let err = '';
        child.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /listening on (http:\/\/\S+\/mcp)/.exec(err);
          if (m) resolve(new URL(m[1]!));
        });
        void exited.then((code) => reject(new Error(`the gateway exited (${code}) before listening: ${err.slice(-2000)}`)));
      });
      const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
      const init = await post(
        url,
        agent,
        {
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'audit-test', version: '1' } },
        },
        {},
      );
      expect(init.status).toBe(200);
      const headers = { 'mcp-session-id': String(init.headers['mcp-session-id']), 'mcp-protocol-version': '2025-11-25' };
      expect((await post(url, agent, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).status).toBe(202);
      // calls 16 at a time; SIGTERM once 200 answers are in, with calls still in flight
      let next = 1;
      let answered = 0;
      let stopped = false;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (!stopped) {
            const id = next++;
            try {
              const r = await post(
                url,
                agent,
                { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'fx__echo', arguments: { text: `call ${id}` } } },
                headers,
              );
              if (r.text.includes('"result"')) answered++;
            } catch {
              stopped = true; // the gateway is gone
            }
            if (answered >= 200 && !stopped) {
              stopped = true;
              child.kill('SIGTERM');
            }
          }
        }),
      );
      agent.destroy();
      expect(await exited).toBe(0);
      expect(answered).toBeGreaterThanOrEqual(200);
      const db = new Database(path.join(store, 'gateway.sqlite'), { readonly: true });
      try {
        const row = db.prepare("SELECT count(*) AS n FROM audit WHERE kind = 'call' AND tool = 'fx__echo' AND decision = 'allowed'").get() as { n: number };
        // every call the client saw answered was recorded (a call cut short by the stop may be recorded too)
        expect(row.n).toBeGreaterThanOrEqual(answered);
      } finally {
        db.close();
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);

  it('a committed record survives the process being killed (SQLite WAL, synchronous NORMAL: no fsync per commit, nothing lost but to an OS crash)', async () => {
    const folder = path.join(tmpDir(), 'store');
    // a process that writes records, waits for their batch to be committed, says so and waits to be killed
    const script = [
      `import { GatewayStore } from ${JSON.stringify(path.join(ROOT, 'packages/gateway/src/store.ts'))};`,
      `const store = new GatewayStore(${JSON.stringify(folder)});`,
      `const at = new Date().toISOString();`,
      `for (let i = 0; i < 50; i++) store.audit({ at, kind: 'call', principal: 'p', virtualServer: null, upstream: 'fx', tool: 'k' + i, argHash: null, decision: 'allowed', reason: null, latencyMs: 1, resultBytes: 2 });`,
      `setTimeout(() => { process.stdout.write(store.db.pragma('synchronous', { simple: true }) + ' committed\\n'); setInterval(() => {}, 1000); }, 100);`,
    ].join('\n');
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const said = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('committed')) resolve(out);
      });
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.once('exit', (code) => reject(new Error(`the writer exited (${code}): ${err.slice(-2000)}`)));
    });
    expect(said.trim()).toBe('1 committed'); // 1 = NORMAL
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const again = new GatewayStore(folder);
    try {
      expect(again.recentAudit(100).length).toBe(50);
    } finally {
      again.close();
    }
  }, 60_000);

  it('records still waiting for their batch are written by close(), the last thing a stopping gateway does', () => {
    const folder = path.join(tmpDir(), 'store');
    const store = new GatewayStore(folder);
    for (let i = 0; i < 10; i++)
      store.audit(callRecord(`t${i}`, { i }));
    // no event-loop turn in between: the batch has not been written yet
    store.close();
    const again = new GatewayStore(folder);
    try {
      expect(
        again
          .recentAudit(100)
          .map((r) => r.tool)
          .sort(),
      ).toEqual(Array.from({ length: 10 }, (_, i) => `t${i}`).sort());
    } finally {
      again.close();
    }
  });

  it('audit records reach the database without a read: a first one at the end of its turn, those of a burst within the flush window; store.db flushes first', async () => {
    const folder = path.join(tmpDir(), 'store');
    const store = new GatewayStore(folder);
    const reader = new Database(path.join(folder, 'gateway.sqlite'), { readonly: true });
    const tools = () => (reader.prepare('SELECT tool FROM audit ORDER BY id').all() as { tool: string }[]).map((r) => r.tool);
    const record = (tool: string) => store.audit(callRecord(tool));
    try {
      // nothing written for a while: the record is in the database once its event-loop turn ends
      record('first');
      await new Promise((r) => setImmediate(r));
      expect(tools()).toEqual(['first']);
      // records right after a write, each in a turn of its own: all written, with no read through the store
      for (const t of ['a', 'b', 'c']) {
        record(t);
        await new Promise((r) => setImmediate(r));
      }
      await vi.waitFor(() => expect(tools()).toEqual(['first', 'a', 'b', 'c']), { timeout: 2000, interval: 2 });
      // a read through store.db (admin views, backend sync, tests) sees a record queued just now
      record('queued');
      expect((store.db.prepare("SELECT count(*) AS n FROM audit WHERE tool = 'queued'").get() as { n: number }).n).toBe(1);
    } finally {
      reader.close();
      store.close();
    }
  });
});
