// The agent's protocol v2 delivery (upload/v2.ts) against a small real HTTP backend whose
// answers each test sets: what it sends, to which route, and when it falls back to the whole
// report (v1). The round trip against the real backend is in packages/server/test/ingest/protocol-v2.test.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { instanceKey, redactReport, serverContentHash, type ScanReport, type ScoredServer } from '@palisade/core';
import { deliverReport, forgetProtocolMemo } from '../../src/upload/v2.js';

// a made-up key of the right shape (test fixture)
const KEY = 'pal_' + 'V'.repeat(43);

function srv(name: string, over: Partial<ScoredServer> = {}): ScoredServer {
  return {
    id: name,
    name,
    client: 'cursor',
    configPath: '/home/u/.cursor/mcp.json',
    scope: 'user',
    transport: 'stdio',
    command: 'npx',
    args: ['-y', `@example/${name}@1.0.0`],
    cwd: null,
    url: null,
    envNames: [],
    headerNames: [],
    findings: [],
    score: 0,
    level: 'none',
    ...over,
  };
}

function report(servers: ScoredServer[]): ScanReport {
  return {
    schemaVersion: 1,
    agent: { name: 'palisade', version: '0.1.0' },
    host: { hostname: 'h', os: 'linux 6.8.0', user: 'u' },
    scannedAt: '2026-12-01T10:00:00.000Z',
    clients: [{ id: 'cursor', name: 'Cursor', configPath: '/home/u/.cursor/mcp.json', serverCount: servers.length }],
    servers,
    findings: [],
    summary: { clients: 1, servers: servers.length, findings: 0, errors: 0, byLevel: { critical: 0, high: 0, medium: 0, low: 0, none: servers.length }, maxLevel: 'none' },
  };
}

describe('protocol v2 delivery', () => {
  let server: http.Server;
  let base: string;
  const got: Array<{ url: string; body: unknown }> = [];
  let answers: Record<string, { status: number; body: unknown }> = {};

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let text = '';
      req.setEncoding('utf8').on('data', (d: string) => (text += d));
      req.on('end', () => {
        got.push({ url: req.url ?? '', body: JSON.parse(text) });
        const a = answers[req.url ?? ''] ?? { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } };
        res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    forgetProtocolMemo();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    got.length = 0;
    answers = {};
    forgetProtocolMemo();
  });

  const target = () => ({ server: base, apiKey: KEY });
  const done = { status: 202, body: { id: 'r1', status: 'pending' } };

  it('offers keys and content hashes computed on the redacted report, then sends only the needed servers and references the others', async () => {
    const r = report([srv('a'), srv('b', { args: ['--token=ghp_FixtureNotARealToken0123456789abcdefXY'] }), srv('c')]);
    const body = JSON.stringify(redactReport(r));
    const sent = JSON.parse(body) as ScanReport;
    answers = {
      '/api/v1/agent/report/offer': { status: 200, body: { status: 'need', need: [instanceKey(sent.servers[1]!)], offer: 'tok', result: null } },
      '/api/v1/agent/report/v2': done,
    };
    const d = await deliverReport(target(), body);
    expect(d).toMatchObject({ kind: 'delivered', protocol: 'v2', sentServers: 1 });
    expect(got.map((g) => g.url)).toEqual(['/api/v1/agent/report/offer', '/api/v1/agent/report/v2']);
    const offer = got[0]!.body as { servers: Array<{ key: string; hash: string }> };
    expect(offer.servers).toEqual(sent.servers.map((s) => ({ key: instanceKey(s), hash: serverContentHash(s) })));
    expect(Object.keys(offer).sort()).toEqual(['agent', 'clients', 'host', 'scannedAt', 'schemaVersion', 'servers']);
    const v2 = got[1]!.body as ScanReport & { offer: string; servers: unknown[] };
    expect(v2.offer).toBe('tok');
    expect(v2.servers[0]).toEqual({ ref: instanceKey(sent.servers[0]!), hash: serverContentHash(sent.servers[0]!) });
    expect(v2.servers[1]).toEqual(sent.servers[1]);
    expect(JSON.stringify(got)).not.toContain('ghp_FixtureNotARealToken');
  });

  it('an offer answered "done" is delivered with nothing more sent', async () => {
    answers = { '/api/v1/agent/report/offer': { status: 200, body: { status: 'done', need: [], offer: null, result: { unchanged: true } } } };
    const d = await deliverReport(target(), JSON.stringify(report([srv('a')])));
    expect(d).toMatchObject({ kind: 'delivered', protocol: 'v2', sentServers: 0 });
    expect(got.map((g) => g.url)).toEqual(['/api/v1/agent/report/offer']);
  });

  it('two servers under one key: the whole report, no offer', async () => {
    answers = { '/api/v1/agent/report': done };
    const d = await deliverReport(target(), JSON.stringify(report([srv('a'), srv('a', { args: ['other'] })])));
    expect(d).toMatchObject({ kind: 'delivered', protocol: 'v1', fallback: 'two servers share a key' });
    expect(got.map((g) => g.url)).toEqual(['/api/v1/agent/report']);
  });

  it('a busy or unreachable backend at the offer: retry later, nothing else sent (the spool keeps the report)', async () => {
    answers = { '/api/v1/agent/report/offer': { status: 503, body: { error: { message: 'busy' } } }, '/api/v1/agent/report': done };
    const d = await deliverReport(target(), JSON.stringify(report([srv('a')])));
    expect(d).toMatchObject({ kind: 'retry', protocol: 'v2' });
    expect(got.map((g) => g.url)).toEqual(['/api/v1/agent/report/offer']);
  });

  it('an offer refused (4xx) or an answer not understood: the whole report (v1)', async () => {
    answers = { '/api/v1/agent/report/offer': { status: 400, body: { error: { message: 'invalid offer' } } }, '/api/v1/agent/report': done };
    expect(await deliverReport(target(), JSON.stringify(report([srv('a')])))).toMatchObject({ kind: 'delivered', protocol: 'v1' });
    answers['/api/v1/agent/report/offer'] = { status: 200, body: { something: 'else' } };
    expect(await deliverReport(target(), JSON.stringify(report([srv('a')])))).toMatchObject({ kind: 'delivered', protocol: 'v1', fallback: 'the offer answer was not understood' });
    expect(got.map((g) => g.url)).toEqual(['/api/v1/agent/report/offer', '/api/v1/agent/report', '/api/v1/agent/report/offer', '/api/v1/agent/report']);
  });

  it('a v1 rejection after the fallback is the outcome (the spool moves the report aside)', async () => {
    answers = {
      '/api/v1/agent/report/offer': { status: 200, body: { status: 'need', need: [], offer: 'tok', result: null } },
      '/api/v1/agent/report/v2': { status: 409, body: { error: { code: 'unknown_reference', message: 'send the whole report' } } },
      '/api/v1/agent/report': { status: 400, body: { error: { code: 'invalid_report', message: 'bad' } } },
    };
    const d = await deliverReport(target(), JSON.stringify(report([srv('a')])));
    expect(d).toMatchObject({ kind: 'rejected', status: 400, protocol: 'v1' });
    expect(d.fallback).toMatch(/409/);
  });
});
