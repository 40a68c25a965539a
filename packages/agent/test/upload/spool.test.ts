// The agent's spool and upload settings on the real file system.
import { afterEach, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Spool } from '../../src/upload/spool.js';
import type { SendOutcome } from '../../src/upload/send.js';
import { checkServerUrl, resolveTarget, saveTarget } from '../../src/upload/target.js';
import { jittered, parseInterval } from '../../src/upload/run.js';

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'palisade-spool-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

// a made-up key of the right shape (test fixture)
const KEY = 'pal_' + 'T'.repeat(43);

describe('spool', () => {
  it('keeps reports as 0600 files and sends them oldest first, deleting only after delivery', async () => {
    const spool = new Spool(await tmp(), { warn: () => undefined });
    for (const n of [1, 2, 3]) await spool.add(`{"n":${n}}`, 1_700_000_000_000 + n);
    const files = await spool.pending();
    expect(files).toHaveLength(3);
    for (const f of files) expect((await fs.stat(f)).mode & 0o777).toBe(0o600);
    const sent: string[] = [];
    const r = await spool.drain(async (body) => {
      sent.push(body);
      return sent.length === 2 ? { kind: 'retry', reason: 'the backend answered 503' } : { kind: 'delivered', status: 200, body: null };
    });
    expect(sent).toEqual(['{"n":1}', '{"n":2}']);
    expect(r).toMatchObject({ delivered: 1, stoppedBecause: 'the backend answered 503', remaining: 2 });
    const again: string[] = [];
    await spool.drain(async (body): Promise<SendOutcome> => {
      again.push(body);
      return { kind: 'delivered', status: 200, body: null };
    });
    expect(again).toEqual(['{"n":2}', '{"n":3}']);
    expect(await spool.pending()).toEqual([]);
  });

  it('keeps the same order for reports added within one millisecond', async () => {
    const spool = new Spool(await tmp(), { warn: () => undefined });
    for (let n = 0; n < 12; n++) await spool.add(String(n), 5);
    const order: string[] = [];
    await spool.drain(async (b) => {
      order.push(b);
      return { kind: 'delivered', status: 200, body: null };
    });
    expect(order).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
  });

  it('moves a rejected report aside with the reason, and carries on with the next', async () => {
    const spool = new Spool(await tmp(), { warn: () => undefined });
    await spool.add('bad', 1);
    await spool.add('good', 2);
    const r = await spool.drain(async (b) => (b === 'bad' ? { kind: 'rejected', status: 400, reason: 'the backend rejected the report (400): invalid' } : { kind: 'delivered', status: 200, body: null }));
    expect(r).toMatchObject({ delivered: 1, rejected: 1 });
    const kept = await fs.readdir(spool.rejectedDir);
    expect(kept.some((f) => f.endsWith('.reason.txt'))).toBe(true);
    const reason = await fs.readFile(path.join(spool.rejectedDir, kept.find((f) => f.endsWith('.reason.txt'))!), 'utf8');
    expect(reason).toContain('invalid');
  });

  it('is bounded: the oldest reports are dropped with a warning', async () => {
    const warnings: string[] = [];
    const spool = new Spool(await tmp(), { maxFiles: 3, maxBytes: 1000, warn: (m) => warnings.push(m) });
    for (let n = 0; n < 5; n++) await spool.add(`report ${n}`, 10 + n);
    const left = await Promise.all((await spool.pending()).map((f) => fs.readFile(f, 'utf8')));
    expect(left).toEqual(['report 2', 'report 3', 'report 4']);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/dropped the oldest/);
    const big = new Spool(await tmp(), { maxFiles: 100, maxBytes: 25, warn: (m) => warnings.push(m) });
    for (let n = 0; n < 4; n++) await big.add('x'.repeat(10), n);
    expect(await big.pending()).toHaveLength(2);
  });
});

describe('upload settings', () => {
  it('allows https anywhere and http only to this machine', () => {
    expect(checkServerUrl('https://palisade.example.test/')).toBe('https://palisade.example.test');
    expect(checkServerUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(checkServerUrl('http://localhost:8080/')).toBe('http://localhost:8080');
    expect(checkServerUrl('http://[::1]:9/')).toBe('http://[::1]:9');
    expect(() => checkServerUrl('http://palisade.example.test')).toThrow(/plain http/);
    expect(() => checkServerUrl('http://127.0.0.1.evil.test')).toThrow(/plain http/);
    expect(() => checkServerUrl('ftp://x')).toThrow(/https/);
    expect(() => checkServerUrl('not a url')).toThrow(/not a URL/);
  });

  it('stores the settings 0600; flags beat the environment, which beats the stored file', async () => {
    const dir = await tmp();
    const file = await saveTarget({ server: 'https://stored.example.test', apiKey: KEY }, dir);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    expect(await resolveTarget({}, {}, dir)).toEqual({ server: 'https://stored.example.test', apiKey: KEY });
    expect((await resolveTarget({}, { PALISADE_SERVER: 'https://env.example.test' }, dir)).server).toBe('https://env.example.test');
    expect((await resolveTarget({ server: 'https://flag.example.test' }, { PALISADE_SERVER: 'https://env.example.test' }, dir)).server).toBe('https://flag.example.test');
    await expect(resolveTarget({}, {}, await tmp())).rejects.toThrow(/palisade configure/);
    await expect(resolveTarget({ apiKey: 'nope' }, {}, dir)).rejects.toThrow(/agent key/);
  });

  it('parses intervals and jitters them by at most 10%', () => {
    expect(parseInterval('1h')).toBe(3_600_000);
    expect(parseInterval('2h30m')).toBe(9_000_000);
    expect(parseInterval('90')).toBe(90_000);
    expect(() => parseInterval('5s')).toThrow(/at least/);
    expect(() => parseInterval('soon')).toThrow(/not an interval/);
    expect(jittered(100_000, () => 0)).toBe(90_000);
    expect(jittered(100_000, () => 1)).toBe(110_000);
  });
});
