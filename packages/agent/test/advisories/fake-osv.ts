// Test helper: a local fake of the OSV API (POST /v1/querybatch, GET /v1/vulns/ID) on 127.0.0.1,
// answering from a list of OSV records the way osv.dev does (ids and modified in the batch,
// full records by id). Records every request so tests can see what left the machine.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isVersionAffected, normalizePackageName, type OsvRecord } from '@palisade/core';

export interface FakeOsv {
  url: string;
  requests: Array<{ method: string; path: string; body?: unknown }>;
  close(): Promise<void>;
}

export async function startFakeOsv(records: OsvRecord[]): Promise<FakeOsv> {
  const requests: FakeOsv['requests'] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const parsed = body ? (JSON.parse(body) as unknown) : undefined;
      requests.push({ method: req.method ?? '', path: req.url ?? '', body: parsed });
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST' && req.url === '/v1/querybatch') {
        const queries = (parsed as { queries: Array<{ package: { ecosystem: string; name: string }; version?: string }> }).queries;
        const results = queries.map((q) => ({
          vulns: records
            .filter((r) => r.affected?.some((a) => a.package?.ecosystem === q.package.ecosystem && normalizePackageName(q.package.ecosystem, a.package.name) === normalizePackageName(q.package.ecosystem, q.package.name)))
            .filter((r) => !q.version || isVersionAffected(r, q.package.ecosystem, q.package.name, q.version).affected)
            .map((r) => ({ id: r.id, modified: r.modified })),
        }));
        res.end(JSON.stringify({ results }));
        return;
      }
      const m = /^\/v1\/vulns\/([^/]+)$/.exec(req.url ?? '');
      const rec = m && records.find((r) => r.id === decodeURIComponent(m[1]!));
      if (req.method === 'GET' && rec) {
        res.end(JSON.stringify(rec));
        return;
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ code: 5, message: 'Bug not found.' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}
