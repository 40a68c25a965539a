// The load generator of the gateway bench, in a process of its own: `calls` tools/call requests
// with `concurrency` in flight, each call's latency recorded. Prints one JSON line:
// { p50, p99, callsPerSecond, errors, cpuMsPerCall } (cpuMsPerCall: this process's own CPU).
//
// node load.mjs --url URL | --stdio CMD ARGS... ; options: --tool NAME --calls N --concurrency C
//               --rate R (open loop: R calls/s, latency counted from each call's due time)
//               --client raw|node|sdk (default raw)
//
// --client raw (the default) speaks the protocol itself with as little work as it can: HTTP/1.1
// written and read on keep-alive TCP sockets by this file (one request at a time per socket, the
// request in one write, answers with a Content-Length or chunked) for Streamable HTTP
// (initialize, notifications/initialized, then every call a POST with the session's headers;
// answers read as JSON or as an event stream), newline-delimited JSON for stdio. --client node
// does the same HTTP through node:http's client and agent (about 0.15-0.2 ms more CPU per call). A load generator that costs more CPU per call than the server it drives measures
// itself (the SDK client costs ~1.9 ms of CPU per call here, more than any gateway measured), and
// on 2 cores it takes that CPU from the server.
// --client sdk drives the same calls through the MCP SDK's own client, as a real application would.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { createInterface } from 'node:readline';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const calls = Number(opt('calls', 1000));
const concurrency = Number(opt('concurrency', 1));
const tool = opt('tool', 'echo');
const kind = opt('client', 'raw');
// --rate R: open loop at R calls/s instead of `concurrency` calls in flight
const rate = Number(opt('rate', 0));
const stdioAt = argv.indexOf('--stdio');
const PROTOCOL = '2025-11-25';
const callParams = { name: tool, arguments: { text: 'hello from the bench' } };
const initParams = { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'palisade-bench-load', version: '1.0.0' } };

/**
 * POSTs on keep-alive sockets of our own: the request head and body in one write, the response
 * parsed just enough (status, headers, a Content-Length or chunked body). One request at a time
 * per socket; a new socket when all are busy, up to `maxSockets` (then requests wait for one, as
 * with node:http's agent).
 */
function socketPoster(target, maxSockets) {
  const idle = [];
  const all = new Set();
  const queued = [];
  const hostHeader = `${target.hostname}:${target.port}`;
  const open = () => {
    const socket = net.connect(Number(target.port), target.hostname);
    socket.setNoDelay(true);
    all.add(socket);
    let buf = Buffer.alloc(0);
    let pending;
    const fail = (err) => {
      all.delete(socket);
      const i = idle.indexOf(socket);
      if (i >= 0) idle.splice(i, 1);
      pending?.reject(err);
      pending = undefined;
    };
    socket.on('error', fail);
    socket.on('close', () => {
      fail(new Error('the server closed the connection'));
      // a request waiting for a socket gets a new one
      const next = queued.shift();
      if (next) next(open());
    });
    socket.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      if (!pending) return;
      const head = buf.indexOf('\r\n\r\n');
      if (head < 0) return;
      const lines = buf.toString('latin1', 0, head).split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const headers = {};
      for (let i = 1; i < lines.length; i++) {
        const c = lines[i].indexOf(':');
        headers[lines[i].slice(0, c).trim().toLowerCase()] = lines[i].slice(c + 1).trim();
      }
      let body;
      let used;
      const start = head + 4;
      if (headers['content-length'] !== undefined || status === 204 || status === 304) {
        const n = Number(headers['content-length'] ?? 0);
        if (buf.length < start + n) return;
        body = buf.subarray(start, start + n);
        used = start + n;
      } else if ((headers['transfer-encoding'] ?? '').includes('chunked')) {
        const parts = [];
        let at = start;
        for (;;) {
          const eol = buf.indexOf('\r\n', at);
          if (eol < 0) return;
          const size = parseInt(buf.toString('latin1', at, eol), 16);
          if (buf.length < eol + 2 + size + 2) return;
          if (size === 0) {
            // no trailers expected: the last chunk is followed by one empty line
            used = eol + 4;
            break;
          }
          parts.push(buf.subarray(eol + 2, eol + 2 + size));
          at = eol + 2 + size + 2;
        }
        body = Buffer.concat(parts);
      } else return; // a body up to the close: not spoken by the servers measured
      buf = buf.subarray(used);
      const done = pending;
      pending = undefined;
      if ((headers.connection ?? '').toLowerCase() === 'close') socket.destroy();
      else release(socket);
      done.resolve({ status, headers, text: body.toString('utf8') });
    });
    socket.request = (bytes) =>
      new Promise((resolve, reject) => {
        pending = { resolve, reject };
        socket.write(bytes);
      });
    return socket;
  };
  const release = (socket) => {
    const next = queued.shift();
    if (next) next(socket);
    else idle.push(socket);
  };
  const acquire = () => {
    const socket = idle.pop() ?? (all.size < maxSockets ? open() : undefined);
    return socket ? Promise.resolve(socket) : new Promise((resolve) => queued.push(resolve));
  };
  return {
    post: async (path, headers, body) => {
      let head = `POST ${path} HTTP/1.1\r\nhost: ${hostHeader}\r\n`;
      for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
      const socket = await acquire();
      return socket.request(head + '\r\n' + body);
    },
    destroy: () => {
      for (const s of all) s.destroy();
    },
  };
}

/** A raw Streamable HTTP client: one session, requests over keep-alive sockets. */
async function rawHttp(url) {
  const target = new URL(url);
  // one socket per call in flight (an open loop at a rate may need many)
  const agent = new http.Agent({ keepAlive: true, maxSockets: rate > 0 ? 256 : Math.max(1, concurrency) });
  const sockets = kind === 'node' ? undefined : socketPoster(target, rate > 0 ? 256 : Math.max(1, concurrency));
  let session;
  let nextId = 1;
  const post = (message) => {
    if (!sockets) return nodePost(message);
    const body = JSON.stringify(message);
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(body) };
    if (session) Object.assign(headers, { 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL });
    return sockets.post(target.pathname + target.search, headers, body);
  };
  const nodePost = (message) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(message);
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(body) };
      if (session) Object.assign(headers, { 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL });
      const req = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: 'POST', agent, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  // the answer to request `id`, from a JSON body or from an event stream's data lines
  const answerOf = (r, id) => {
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 300)}`);
    const type = String(r.headers['content-type'] ?? '');
    const candidates = type.includes('text/event-stream')
      ? r.text
          .split(/\r?\n\r?\n/)
          .map((event) => event.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n'))
          .filter((d) => d.length > 0)
          .map((d) => JSON.parse(d))
      : [JSON.parse(r.text)].flat();
    const answer = candidates.find((m) => m && m.id === id && ('result' in m || 'error' in m));
    if (!answer) throw new Error(`no answer to request ${id} in: ${r.text.slice(0, 300)}`);
    if (answer.error) throw new Error(`JSON-RPC error ${answer.error.code}: ${answer.error.message}`);
    return answer.result;
  };
  const init = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: initParams });
  answerOf(init, 0);
  session = init.headers['mcp-session-id'];
  const ack = await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  if (ack.status !== 202 && ack.status !== 200) throw new Error(`notifications/initialized answered HTTP ${ack.status}`);
  return {
    call: async () => {
      const id = nextId++;
      return answerOf(await post({ jsonrpc: '2.0', id, method: 'tools/call', params: callParams }), id);
    },
    close: async () => {
      if (session) await new Promise((resolve) => http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'DELETE', agent, headers: { 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL } }, (res) => (res.resume(), res.on('end', resolve))).on('error', resolve).end());
      agent.destroy();
      sockets?.destroy();
    },
  };
}

/** A raw stdio client: newline-delimited JSON-RPC to a child process. */
async function rawStdio(command, args) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const waiting = new Map();
  createInterface({ input: child.stdout }).on('line', (line) => {
    let m;
    try {
      m = JSON.parse(line);
    } catch {
      return;
    }
    const w = m && waiting.get(m.id);
    if (!w || !('result' in m || 'error' in m)) return;
    waiting.delete(m.id);
    if (m.error) w.reject(new Error(`JSON-RPC error ${m.error.code}: ${m.error.message}`));
    else w.resolve(m.result);
  });
  let nextId = 1;
  const request = (method, params) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    });
  await request('initialize', initParams);
  child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
  return { call: () => request('tools/call', callParams), close: async () => child.kill() };
}

/** The MCP SDK's own client. */
async function sdkClient() {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const { CallToolResultSchema } = await import('@modelcontextprotocol/sdk/types.js');
  const transport =
    stdioAt >= 0 ? new StdioClientTransport({ command: argv[stdioAt + 1], args: argv.slice(stdioAt + 2), stderr: 'ignore' }) : new StreamableHTTPClientTransport(new URL(opt('url')));
  const client = new Client({ name: 'palisade-bench-load', version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  return { call: () => client.request({ method: 'tools/call', params: callParams }, CallToolResultSchema), close: () => client.close() };
}

const client = kind === 'sdk' ? await sdkClient() : stdioAt >= 0 ? await rawStdio(argv[stdioAt + 1], argv.slice(stdioAt + 2)) : await rawHttp(opt('url'));

// warm up: connections, JIT, the gateway's first-call work
for (let i = 0; i < Math.min(200, calls); i++) await client.call();

const latencies = new Float64Array(calls);
let next = 0;
let errors = 0;
let firstError;
const timed = async (i, t0) => {
  try {
    const r = await client.call();
    if (r?.isError) {
      errors++;
      firstError ??= JSON.stringify(r.content).slice(0, 300);
    }
  } catch (err) {
    errors++;
    firstError ??= String(err?.message ?? err).slice(0, 300);
  }
  latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
};
const cpu0 = process.cpuUsage();
const started = process.hrtime.bigint();
if (rate > 0) {
  // open loop: call i is due at i / rate seconds; its latency counts from when it was due, so a
  // server that falls behind is charged for the wait (no coordinated omission). Calls are sent
  // in the ticks of a 1 ms timer, as many as are due.
  const inflight = new Set();
  await new Promise((resolve) => {
    const tick = () => {
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      while (next < calls && next <= elapsed * rate) {
        const i = next++;
        const due = started + BigInt(Math.round((i / rate) * 1e9));
        const p = timed(i, due).finally(() => inflight.delete(p));
        inflight.add(p);
      }
      if (next < calls) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(inflight);
} else {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        const i = next++;
        await timed(i, process.hrtime.bigint());
      }
    }),
  );
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpu0);
const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
process.stdout.write(
  JSON.stringify({ p50: pct(50), p99: pct(99), callsPerSecond: calls / seconds, errors, cpuMsPerCall: (cpu.user + cpu.system) / 1000 / calls, ...(firstError ? { firstError } : {}) }) + '\n',
);
await client.close();
process.exit(0);
