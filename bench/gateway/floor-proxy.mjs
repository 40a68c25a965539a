// The floor of the gateway bench: the least any Streamable HTTP -> stdio hop can cost here. A bare
// node:http server that hands each POSTed JSON-RPC message to one stdio upstream as a line and
// answers with the line that carries the same id: no MCP library, no session state beyond one
// fixed session id, no checks, no policy, no audit. Not a gateway (it would forward anything); it
// shows how much of what a gateway adds at a given rate is the extra process and HTTP hop on this
// machine, whatever the gateway does.
//
// node floor-proxy.mjs [--raw] PORT COMMAND ARGS...
// --raw: HTTP/1.1 read and written on node:net sockets by this file (a Content-Length body, the
// answer in one write) instead of node:http: the floor without Node's HTTP server either.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import net from 'node:net';

const argv = process.argv.slice(2);
const raw = argv[0] === '--raw';
const [port, command, ...args] = raw ? argv.slice(1) : argv;
const upstream = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
upstream.on('exit', () => process.exit(1));
const waiting = new Map();
let pending = '';
upstream.stdout.setEncoding('utf8');
upstream.stdout.on('data', (chunk) => {
  pending += chunk;
  for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    let id;
    try {
      id = JSON.parse(line).id;
    } catch {
      continue;
    }
    const res = waiting.get(id);
    if (!res) continue;
    waiting.delete(id);
    if (raw)
      res.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(line)}\r\nmcp-session-id: floor\r\n\r\n${line}`);
    else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(line), 'mcp-session-id': 'floor' });
      res.end(line);
    }
  }
});

// one request at a time per connection (the bench's client does not pipeline)
function rawConnection(socket) {
  socket.setNoDelay(true);
  let buf = '';
  socket.setEncoding('latin1');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    buf += chunk;
    for (;;) {
      const head = buf.indexOf('\r\n\r\n');
      if (head < 0) return;
      const m = /\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, head));
      const size = m ? Number(m[1]) : 0;
      if (buf.length < head + 4 + size) return;
      const method = buf.slice(0, buf.indexOf(' '));
      const body = Buffer.from(buf.slice(head + 4, head + 4 + size), 'latin1').toString('utf8');
      buf = buf.slice(head + 4 + size);
      if (method !== 'POST') {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
        continue;
      }
      let id;
      try {
        id = JSON.parse(body).id;
      } catch {
        socket.write('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
        continue;
      }
      upstream.stdin.write(body + '\n');
      if (id === undefined) socket.write('HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n');
      else waiting.set(id, socket);
    }
  });
}

const server = raw
  ? net.createServer(rawConnection)
  : createServer((req, res) => {
      if (req.method !== 'POST') {
        res.writeHead(200).end();
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        let id;
        try {
          id = JSON.parse(body).id;
        } catch {
          res.writeHead(400).end();
          return;
        }
        upstream.stdin.write(body + '\n');
        if (id === undefined) res.writeHead(202).end();
        else waiting.set(id, res);
      });
    });
if (!raw) server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1');
