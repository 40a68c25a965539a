// Probing remote servers started in-process on 127.0.0.1: Streamable HTTP, SSE, the
// Streamable-HTTP-then-SSE fallback for `http` servers, the config's headers, and errors.
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeServers } from '../../src/probe/index.js';
import { startSseServer, startStreamableHttpServer, type TestHttpServer } from '../servers/http.js';
import { discoveryOf, tempDir } from './helpers.js';

// a fake bearer token shaped like a real one: test fixture only
const TOKEN = 'Bearer test-fixture-token-0123456789';
let streamable: TestHttpServer;
let sse: TestHttpServer;
const stateDir = tempDir();

beforeAll(async () => {
  streamable = await startStreamableHttpServer({ requireHeader: { name: 'Authorization', value: TOKEN } });
  sse = await startSseServer({ requireHeader: { name: 'X-Api-Key', value: 'test-fixture-key-abcdef' } });
});
afterAll(async () => {
  await streamable.close();
  await sse.close();
  rmSync(stateDir, { recursive: true, force: true });
});

async function freePortUrl(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}/mcp`;
}

describe('probing remote servers', () => {
  it('lists tools over Streamable HTTP, sending the headers from the config', async () => {
    const discovery = discoveryOf([{ name: 'docs', type: 'http', url: `${streamable.origin}/mcp`, headers: { Authorization: TOKEN } }]);
    await probeServers(discovery, { stateDir });
    const server = discovery.servers[0]!;
    expect(server.probe).toMatchObject({ ok: true, serverInfo: { name: 'palisade-test-streamable' } });
    expect(server.tools!.map((t) => t.name).sort()).toEqual(['search_docs', 'send_email']);
    expect(server.tools!.find((t) => t.name === 'search_docs')!.annotations).toEqual({ readOnlyHint: true });
  });

  it('lists tools over SSE', async () => {
    const discovery = discoveryOf([{ name: 'legacy', type: 'sse', url: `${sse.origin}/sse`, headers: { 'X-Api-Key': 'test-fixture-key-abcdef' } }]);
    await probeServers(discovery, { stateDir });
    expect(discovery.servers[0]!.probe).toMatchObject({ ok: true, serverInfo: { name: 'palisade-test-sse' } });
    expect(discovery.servers[0]!.tools!.map((t) => t.name).sort()).toEqual(['search_docs', 'send_email']);
  });

  it('falls back to SSE when an http server answers the Streamable HTTP POST with 4xx', async () => {
    const before = sse.requests.length;
    const discovery = discoveryOf([{ name: 'legacy-as-http', type: 'http', url: `${sse.origin}/sse`, headers: { 'X-Api-Key': 'test-fixture-key-abcdef' } }]);
    await probeServers(discovery, { stateDir });
    expect(discovery.servers[0]!.probe).toMatchObject({ ok: true, serverInfo: { name: 'palisade-test-sse' } });
    const seen = sse.requests.slice(before);
    expect(seen[0]).toEqual({ method: 'POST', path: '/sse' });
    expect(seen).toContainEqual({ method: 'GET', path: '/sse' });
  });

  it('explains a 401 without falling back, and a refused connection', async () => {
    const discovery = discoveryOf([
      { name: 'no-token', type: 'http', url: `${streamable.origin}/mcp` },
      { name: 'down', type: 'http', url: await freePortUrl() },
    ]);
    await probeServers(discovery, { stateDir });
    expect(discovery.servers[0]!.probe!.error).toMatch(/^The server at 127\.0\.0\.1:\d+ requires authorization \(HTTP 401\)/);
    expect(discovery.servers[1]!.probe!.error).toMatch(/^Could not connect to 127\.0\.0\.1:\d+: connection refused/);
  });

  it('still reports the tools, with a clear warning, when pins cannot be saved', async () => {
    const notAFolder = path.join(stateDir, 'a-file');
    writeFileSync(notAFolder, 'test fixture: a file where the state folder should be');
    const discovery = discoveryOf([{ name: 'docs', type: 'http', url: `${streamable.origin}/mcp`, headers: { Authorization: TOKEN } }]);
    const progress: string[] = [];
    await probeServers(discovery, { stateDir: path.join(notAFolder, 'state'), onProgress: (m) => progress.push(m) });
    expect(discovery.servers[0]!.probe?.ok).toBe(true);
    expect(discovery.servers[0]!.tools).toHaveLength(2);
    expect(progress.filter((m) => m.startsWith('warning:'))).toHaveLength(1);
    expect(progress.at(-1)).toMatch(/^warning: tool pins could not be saved \(.*\); set PALISADE_STATE_DIR to a writable folder/);
  });

  it('refuses a URL that is not http(s) without contacting anything', async () => {
    const discovery = discoveryOf([{ name: 'odd', type: 'http', url: 'ftp://127.0.0.1/mcp' }]);
    await probeServers(discovery, { stateDir });
    expect(discovery.servers[0]!.probe!.error).toBe('The URL uses ftp, but Palisade can only probe http and https servers.');
  });
});
