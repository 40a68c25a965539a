// The load generator of the gateway bench, in a process of its own: one MCP client (the SDK's),
// `calls` tools/call requests with `concurrency` in flight, each call's latency recorded.
// Prints one JSON line: { p50, p99, callsPerSecond, errors }.
// node load.mjs --url URL | --stdio CMD ARGS... ; options: --tool NAME --calls N --concurrency C
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const calls = Number(opt('calls', 1000));
const concurrency = Number(opt('concurrency', 1));
const tool = opt('tool', 'echo');
const stdioAt = argv.indexOf('--stdio');
const transport =
  stdioAt >= 0 ? new StdioClientTransport({ command: argv[stdioAt + 1], args: argv.slice(stdioAt + 2), stderr: 'ignore' }) : new StreamableHTTPClientTransport(new URL(opt('url')));
const client = new Client({ name: 'palisade-bench-load', version: '1.0.0' }, { capabilities: {} });
await client.connect(transport);

const call = () => client.request({ method: 'tools/call', params: { name: tool, arguments: { text: 'hello from the bench' } } }, CallToolResultSchema);
// warm up: connections, JIT, the gateway's first-call work
for (let i = 0; i < Math.min(200, calls); i++) await call();

const latencies = new Float64Array(calls);
let next = 0;
let errors = 0;
let firstError;
const started = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < calls) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      try {
        const r = await call();
        if (r.isError) {
          errors++;
          firstError ??= JSON.stringify(r.content).slice(0, 300);
        }
      } catch (err) {
        errors++;
        firstError ??= String(err?.message ?? err).slice(0, 300);
      }
      latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    }
  }),
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
process.stdout.write(JSON.stringify({ p50: pct(50), p99: pct(99), callsPerSecond: calls / seconds, errors, ...(firstError ? { firstError } : {}) }) + '\n');
await client.close();
process.exit(0);
