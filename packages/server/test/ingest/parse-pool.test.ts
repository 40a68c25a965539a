// Accept's CPU work on worker threads (services/ingest/parse-pool.ts): a real worker thread
// gives exactly what the calling thread gives (the inbox envelope, with secrets redacted, the
// content and body hashes, the host), refuses a bad body with the same code and sentence, and
// when a worker dies the work is done on the calling thread: no request fails for it.
import { afterEach, describe, expect, it } from 'vitest';
import { acceptBody, ReportParsers, rereadReport, WORKER_MIN_CHARS } from '../../src/services/ingest/parse-pool.js';
import { contentHash, ReportRejected } from '../../src/services/ingest/validate.js';
import { report, server, tool } from '../inventory/fixtures.js';

const CANARY = 'ghp_ParsePoolCanary0123456789abcdefABCDEF';

/** A body over the worker threshold, with a secret in an arg and in a URL. */
function bigBody(n: number, at = '2026-11-20T10:00:00.000Z'): string {
  const servers = Array.from({ length: 30 }, (_, i) =>
    server({
      name: `pp-${n}-${i}`,
      command: 'npx',
      args: ['-y', `pkg-${i}@1.0.0`, `--token=${CANARY}`],
      url: i % 2 ? `https://mcp.example.test/sse?access_token=${CANARY}` : null,
      tools: [tool(`t${i}`, `tool ${i} of server ${n}`)],
    }),
  );
  const text = JSON.stringify(report(servers, { hostname: `pp-host-${n}` }, at));
  expect(text.length).toBeGreaterThan(WORKER_MIN_CHARS);
  return text;
}

const refusal = async (f: () => Promise<unknown> | unknown) => {
  try {
    await f();
  } catch (err) {
    return err instanceof ReportRejected ? { code: err.code, message: err.message } : { error: (err as Error).constructor.name };
  }
  return 'accepted';
};

let pool: ReportParsers | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('report parsers on worker threads', () => {
  it('give what the calling thread gives, redacted, for bodies sent at once', async () => {
    pool = new ReportParsers(2);
    const bodies = Array.from({ length: 12 }, (_, n) => bigBody(n));
    const got = await Promise.all(bodies.map((b) => pool!.accept(b, `raw-${b.length}`)));
    expect(pool.counts.worker).toBe(12);
    got.forEach((g, i) => {
      const { report: here, ...inline } = acceptBody(bodies[i]!, `raw-${bodies[i]!.length}`);
      expect(g).toEqual(inline);
      expect(g.stored).not.toContain(CANARY);
      expect(contentHash(here!)).toBe(g.content);
      expect(JSON.parse(g.stored)).toEqual({ rawKey: `raw-${bodies[i]!.length}`, report: JSON.parse(JSON.stringify(here)) });
    });
    // read back from the inbox: validated again, the same report and content hash
    const back = await pool.reread(got[0]!.stored);
    expect(back.content).toBe(got[0]!.content);
    expect(back.report).toEqual(rereadReport(got[0]!.stored).report);
  });

  it('refuse a bad body with the code and sentence the calling thread gives, and the worker goes on', async () => {
    pool = new ReportParsers(1);
    const pad = ' '.repeat(WORKER_MIN_CHARS);
    const cases = [`{not json${pad}`, `${'['.repeat(100)}${']'.repeat(100)}${pad}`, JSON.stringify({ schemaVersion: 1, pad }), JSON.stringify({ ...JSON.parse(bigBody(1)), extra: 1 })];
    for (const text of cases) {
      const inWorker = await refusal(() => pool!.accept(text, null));
      expect(inWorker).not.toBe('accepted');
      expect(inWorker).toEqual(await refusal(() => acceptBody(text, null)));
    }
    // an inbox body that is not what accept wrote is refused too (tampered or from another version)
    expect(await refusal(() => pool!.reread(JSON.stringify({ rawKey: null, report: { schemaVersion: 1 }, pad })))).toMatchObject({ code: 'invalid_report' });
    expect(await refusal(() => pool!.reread(`{"rawKey":${pad}`))).toEqual({ error: 'SyntaxError' });
    expect(pool.counts.worker).toBe(cases.length + 2);
    expect((await pool.accept(bigBody(2), null)).host).toBe('pp-host-2|alice');
  });

  it('do the work on the calling thread when a worker dies, and for small bodies', async () => {
    pool = new ReportParsers(1);
    await pool.accept(bigBody(3), null);
    expect(pool.counts.worker).toBe(1);
    // kill the worker while it holds requests: they are answered on the calling thread
    const slots = (pool as unknown as { slots: Array<{ worker: { terminate: () => Promise<number> } } | null> }).slots;
    const pending = Promise.all([pool.accept(bigBody(4), null), pool.accept(bigBody(5), null)]);
    await slots[0]!.worker.terminate();
    const [a, b] = await pending;
    expect(a.host).toBe('pp-host-4|alice');
    expect(b.host).toBe('pp-host-5|alice');
    // a new worker is started for the next body
    await pool.accept(bigBody(6), null);
    expect(pool.counts.worker + pool.counts.inline).toBe(4);
    const small = JSON.stringify(report([server({ name: 'tiny' })]));
    expect(small.length).toBeLessThan(WORKER_MIN_CHARS);
    const before = pool.counts.inline;
    expect((await pool.accept(small, null)).host).toBe(acceptBody(small, null).host);
    expect(pool.counts.inline).toBe(before + 1);
  });

  it('stop a worker that has been idle (its heap given back) and start one again for the next body', async () => {
    pool = new ReportParsers(1, undefined, 300);
    await pool.accept(bigBody(8), null);
    const inside = pool as unknown as { slots: unknown[]; deaths: number[] };
    expect(inside.slots[0]).not.toBeNull();
    await new Promise((r) => setTimeout(r, 800));
    expect(inside.slots[0]).toBeNull();
    expect((await pool.accept(bigBody(9), null)).host).toBe('pp-host-9|alice');
    expect(pool.counts).toEqual({ worker: 2, inline: 0 });
    // a worker stopped for being idle is not a death (deaths stop the pool from restarting)
    expect(inside.deaths).toEqual([]);
  });

  it('with no workers (PALISADE_INGEST_PARSE_WORKERS=0) do everything on the calling thread', async () => {
    pool = new ReportParsers(0);
    const body = bigBody(7);
    const { report: _r, ...inline } = acceptBody(body, null);
    expect(await pool.accept(body, null)).toMatchObject(inline);
    expect(pool.counts).toEqual({ worker: 0, inline: 1 });
  });
});
