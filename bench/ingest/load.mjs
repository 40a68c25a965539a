// The ingest bench's load generator: runs in its OWN process (never the server's), keep-alive
// HTTP over loopback, bodies made before the clock starts. One job per process, given as JSON
// in argv[2]; prints one JSON line with its figures.
//   unchanged: re-scans of hosts [from, to) (same servers, a new scan time each) for `seconds`
//              over `connections` connections (also used against the bare route); with
//              `reorder` the same reports in other bytes (keys reversed: the content-hash path)
//   changed:   `count` changed reports of hosts [from, to) (revision `rev` onwards); answers
//              timed (time to accept); then waits until every accepted report is processed
//   steady:    `rate` changed reports/s of org B's hosts with Prefer: wait=30 for `seconds`:
//              the time until each is processed (the fairness case's victim)
//   big:       one 4 MB report (Prefer: wait=0), then waits until it is processed
//   list:      GET /api/v1/servers (and ?host=) `count` times each, one at a time
import http from 'node:http';
import { bigReport, hostReport, withScanTime } from './reports.mjs';

const job = JSON.parse(process.argv[2]);
const base = new URL(job.base);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function request(method, path, { headers = {}, body } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        agent,
        headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } : headers,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t0, text: Buffer.concat(chunks).toString('utf8'), at: t0 }));
      },
    );
    req.on('error', (err) => resolve({ status: 0, ms: performance.now() - t0, text: String(err), at: t0 }));
    if (body) req.write(body);
    req.end();
  });
}

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const summary = (lat) => {
  const s = [...lat].sort((a, b) => a - b);
  return { p50: pct(s, 50), p95: pct(s, 95), p99: pct(s, 99), max: s[s.length - 1] ?? NaN };
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const keyHeaders = { 'x-api-key': job.key };

async function waitProcessed(ids, deadlineMs = 600_000) {
  // reports of one organisation are processed in order: poll the last, then check the rest
  const until = Date.now() + deadlineMs;
  const pending = new Set(ids);
  const counts = { done: 0, failed: 0 };
  for (const id of [...ids].reverse()) {
    while (pending.has(id)) {
      if (Date.now() > until) return { ...counts, pending: pending.size };
      const r = await request('GET', `/api/v1/agent/report/${id}`, { headers: keyHeaders });
      const st = r.status === 200 ? JSON.parse(r.text).status : 'pending';
      if (st === 'pending') await sleep(50);
      else {
        pending.delete(id);
        counts[st] = (counts[st] ?? 0) + 1;
      }
    }
  }
  return { ...counts, pending: pending.size };
}

/** The same JSON value with its keys in reverse order at every level: the same report in other bytes. */
function reversedKeys(v) {
  if (Array.isArray(v)) return v.map(reversedKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversedKeys(x)]));
  return v;
}

/** job.offer: a report as the agent offers it in protocol v2 (its envelope and each server's key and content hash, after redaction). */
async function offerMaker() {
  const { offerBody, redactReport, serverOffers } = await import('@palisade/core');
  return (report) => {
    const r = redactReport(report);
    // (its keys in canonical order, as the agent sends it)
    return JSON.parse(offerBody(r, serverOffers(r)));
  };
}

async function unchanged() {
  // job.reorder: the same reports in other bytes (keys in reverse order), recognised by their content hash, not their raw key
  // job.offer: their protocol v2 offers instead (bench/ingest/v2-unchanged.mjs)
  const offerOf = job.offer ? await offerMaker() : null;
  const hosts = Array.from({ length: job.to - job.from }, (_, i) => {
    const r = hostReport(job.from + i, job.rev ?? 0, { org: job.org ?? 'a' });
    return withScanTime(offerOf ? offerOf(r) : job.reorder ? reversedKeys(r) : r);
  });
  const path = job.path ?? '/api/v1/agent/report';
  const lat = [];
  const status = {};
  let turn = 0;
  const end = performance.now() + job.seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: job.connections }, async () => {
      while (performance.now() < end) {
        const r = await request('POST', path, { headers: keyHeaders, body: hosts[turn++ % hosts.length]() });
        lat.push(r.ms);
        status[r.status] = (status[r.status] ?? 0) + 1;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return { rps: lat.length / secs, ...summary(lat), status };
}

async function changed() {
  const bodies = Array.from({ length: job.count }, (_, i) =>
    JSON.stringify(hostReport(job.from + (i % (job.to - job.from)), job.rev + Math.floor(i / (job.to - job.from)), { org: job.org ?? 'a' })),
  );
  const lat = [];
  const status = {};
  const ids = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: job.connections }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        for (;;) {
          const r = await request('POST', '/api/v1/agent/report', { headers: { ...keyHeaders, prefer: 'wait=0' }, body });
          status[r.status] = (status[r.status] ?? 0) + 1;
          if (r.status === 429) {
            await sleep(1000);
            continue;
          }
          lat.push(r.ms);
          if (r.status === 202) ids.push(JSON.parse(r.text).id);
          break;
        }
      }
    }),
  );
  const accepted = performance.now();
  const done = await waitProcessed(ids);
  const secs = (performance.now() - t0) / 1000;
  return { processedPerSec: done.done / secs, acceptPerSec: ids.length / ((accepted - t0) / 1000), seconds: secs, ...summary(lat), status, ...done };
}

async function steady() {
  const bodies = Array.from({ length: Math.ceil(job.rate * job.seconds) }, (_, i) =>
    JSON.stringify(hostReport(job.from + (i % (job.to - job.from)), job.rev + Math.floor(i / (job.to - job.from)), { org: 'b' })),
  );
  const lat = [];
  const status = {};
  const t0 = performance.now();
  await Promise.all(
    bodies.map(async (body, i) => {
      await sleep(t0 + (i * 1000) / job.rate - performance.now());
      const r = await request('POST', '/api/v1/agent/report', { headers: { ...keyHeaders, prefer: 'wait=30' }, body });
      status[r.status] = (status[r.status] ?? 0) + 1;
      lat.push(r.ms);
    }),
  );
  return { ...summary(lat), status, n: lat.length };
}

async function big() {
  if (job.delayMs) await sleep(job.delayMs);
  const body = JSON.stringify(bigReport(job.servers ?? 1200, job.tools ?? 10, { rev: job.rev ?? 0 }));
  const r = await request('POST', '/api/v1/agent/report', { headers: { ...keyHeaders, prefer: 'wait=0' }, body });
  if (r.status !== 202) return { status: r.status, text: r.text.slice(0, 300), bytes: body.length };
  const t0 = performance.now();
  const done = await waitProcessed([JSON.parse(r.text).id]);
  return { bytes: body.length, acceptMs: r.ms, processMs: performance.now() - t0 + r.ms, ...done };
}

async function list() {
  const out = {};
  for (const [label, path] of Object.entries(job.paths)) {
    const lat = [];
    for (let i = 0; i < job.count; i++) {
      const r = await request('GET', path, { headers: { cookie: job.cookie } });
      if (r.status !== 200) return { error: `${path} answered ${r.status}: ${r.text.slice(0, 200)}` };
      lat.push(r.ms);
    }
    out[label] = summary(lat);
  }
  return out;
}

const result = await { unchanged, changed, steady, big, list }[job.mode]();
process.stdout.write(`${JSON.stringify(result)}\n`);
agent.destroy();
