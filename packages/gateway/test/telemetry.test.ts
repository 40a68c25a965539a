// OpenTelemetry traces (issue 16 §5) end to end: a real gateway process exports over OTLP/HTTP
// (JSON) to a receiver on loopback; real SDK clients (2025-11-25 and 2026-07-28) call through it
// to a real HTTP upstream and a real stdio upstream. Without telemetry configured no
// OpenTelemetry module is imported.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { connect, fixtureUpstream, startFromYaml, startHttpFixture, textOf, tmpDir, writeConfig } from './helpers.js';
import { startGatewayProc, type GatewayProc } from './scale/procs.js';
import { telemetryLoaded, telemetrySettings } from '../src/telemetry.js';

interface OtlpAttr {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: OtlpAttr[];
  status?: { code?: number };
}

const SERVER = 2;
const CLIENT = 3;

function attrs(span: OtlpSpan): Record<string, string | number | boolean | undefined> {
  const out: Record<string, string | number | boolean | undefined> = {};
  for (const a of span.attributes ?? []) out[a.key] = a.value.stringValue ?? (a.value.intValue !== undefined ? Number(a.value.intValue) : a.value.boolValue);
  return out;
}

/** A small OTLP/HTTP receiver: keeps every JSON export it is sent. */
async function startReceiver(): Promise<{ url: string; bodies: string[]; spans: () => OtlpSpan[]; serviceNames: () => string[]; close: () => Promise<void> }> {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces' && String(req.headers['content-type']).startsWith('application/json')) bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const parsed = () =>
    bodies.map(
      (b) =>
        JSON.parse(b) as {
          resourceSpans: { resource?: { attributes?: OtlpAttr[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
        },
    );
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    bodies,
    spans: () => parsed().flatMap((p) => p.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))),
    serviceNames: () =>
      parsed().flatMap((p) => p.resourceSpans.map((r) => r.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '')),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until<T>(what: string, fn: () => T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const hex = (n: number) => randomBytes(n).toString('hex');

describe('OpenTelemetry traces', () => {
  it('without telemetry configured, the gateway imports no OpenTelemetry module', async () => {
    const gw = await startFromYaml(`upstreams:\n${fixtureUpstream('fx')}`, { env: { PATH: process.env.PATH } });
    try {
      const client = await connect(gw.url!, { traceparent: `00-${hex(16)}-${hex(8)}-01` });
      expect(textOf(await client.callTool({ name: 'fx__echo', arguments: { text: 'hi' } }))).toBe('hi');
      await client.close();
      expect(gw.gateway.tracing).toBeUndefined();
      expect(telemetryLoaded()).toBe(false);
    } finally {
      await gw.close();
    }
  }, 60_000);

  it('reads the endpoint from the config, else the standard environment; enabled: false wins', () => {
    expect(telemetrySettings({}, {})).toBeUndefined();
    expect(telemetrySettings({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' })?.url).toBe('http://127.0.0.1:4318/v1/traces');
    expect(telemetrySettings({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:1/t' })?.url).toBe('http://c:1/t');
    expect(
      telemetrySettings({ telemetry: { otlpEndpoint: 'http://a:1/v1/traces', sampleRatio: 0.5 } }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:2' }),
    ).toMatchObject({
      url: 'http://a:1/v1/traces',
      sampleRatio: 0.5,
      serviceName: 'palisade-gateway',
    });
    expect(telemetrySettings({ telemetry: { enabled: false } }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:2' })).toBeUndefined();
    expect(telemetrySettings({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:2', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
  });

  describe('through a real gateway process', () => {
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let fixture: Awaited<ReturnType<typeof startHttpFixture>>;
    let proc: GatewayProc;
    const upstreamKey = `upstream-key-${hex(12)}`;
    const canary = `argument-canary-${hex(12)}`;

    beforeAll(async () => {
      receiver = await startReceiver();
      fixture = await startHttpFixture('basic');
      const dir = tmpDir();
      const file = writeConfig(
        dir,
        `store: ${dir}/gw.db
upstreams:
  web:
    url: ${fixture.url}
    allowPrivateAddress: true
    headers: { X-Upstream-Key: "\${PAL_TEST_UPSTREAM_KEY}" }
${fixtureUpstream('fx')}
telemetry:
  otlpEndpoint: ${receiver.url}
  serviceName: palisade-gw-test
`,
      );
      proc = await startGatewayProc(file, { PAL_TEST_UPSTREAM_KEY: upstreamKey, OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_SERVICE_NAME: '' });
    }, 120_000);

    afterAll(async () => {
      proc?.child.kill('SIGTERM');
      await proc?.exited;
      fixture?.stop();
      await receiver?.close();
    });

    it('one span per client call, a child span per upstream call, the client trace followed and propagated to the HTTP upstream, nothing secret', async () => {
      const traceId = hex(16);
      const clientSpanId = hex(8);
      const client = await connect(proc.url, { traceparent: `00-${traceId}-${clientSpanId}-01` });
      const seen = JSON.parse(textOf(await client.callTool({ name: 'web__headers', arguments: {} }))) as { method: string; headers: Record<string, string> }[];
      expect(textOf(await client.callTool({ name: 'fx__echo', arguments: { text: canary } }))).toBe(canary);
      await expect(client.callTool({ name: 'fx__nope', arguments: {} })).rejects.toThrow(/Unknown tool/);
      await client.close();

      const spans = await until('the spans of the three calls', () => {
        const s = receiver.spans().filter((x) => x.traceId === traceId);
        return s.filter((x) => x.name.startsWith('tools/call')).length >= 3 && s.filter((x) => x.kind === CLIENT).length >= 2 ? s : undefined;
      });
      expect(receiver.serviceNames()).toContain('palisade-gw-test');

      const call = (name: string) => spans.find((s) => s.name === `tools/call ${name}`)!;
      const web = call('web__headers');
      expect(web.kind).toBe(SERVER);
      expect(web.parentSpanId).toBe(clientSpanId);
      const a = attrs(web);
      expect(a['mcp.method.name']).toBe('tools/call');
      expect(a['gen_ai.tool.name']).toBe('web__headers');
      expect(a['palisade.decision']).toBe('allowed');
      expect(a['palisade.upstream']).toBe('web');
      expect(String(a['palisade.principal_hash'])).toMatch(/^[0-9a-f]{16}$/);

      const upstreamSpans = spans.filter((s) => s.kind === CLIENT);
      const webUp = upstreamSpans.find((s) => s.parentSpanId === web.spanId)!;
      expect(webUp.name).toBe('upstream tools/call');
      expect(attrs(webUp)).toMatchObject({
        'palisade.upstream': 'web',
        'palisade.upstream.transport': 'http',
        'palisade.outcome': 'ok',
        'mcp.method.name': 'tools/call',
      });
      // the HTTP upstream received the upstream span as its parent
      const last = seen.filter((r) => r.method === 'POST').at(-1)!;
      expect(last.headers.traceparent).toBe(`00-${traceId}-${webUp.spanId}-01`);

      const echo = call('fx__echo');
      const echoUp = upstreamSpans.find((s) => s.parentSpanId === echo.spanId)!;
      expect(attrs(echoUp)).toMatchObject({ 'palisade.upstream': 'fx', 'palisade.upstream.transport': 'stdio', 'palisade.outcome': 'ok' });

      const refused = call('fx__nope');
      expect(attrs(refused)['palisade.decision']).toBe('unknown');
      expect(refused.status?.code).toBe(2);
      expect(upstreamSpans.some((s) => s.parentSpanId === refused.spanId)).toBe(false);

      // never arguments, results, upstream credentials
      const all = receiver.bodies.join('\n');
      expect(all).not.toContain(canary);
      expect(all).not.toContain(upstreamKey);
      expect(all).not.toContain('X-Upstream-Key');
    }, 120_000);

    it('a 2026-07-28 client: the trace context in the request _meta', async () => {
      const traceId = hex(16);
      const parent = hex(8);
      const modern = new ClientV2({ name: 'modern-client', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await modern.connect(new HttpV2(new URL(proc.url)));
      const result = await modern.callTool({ name: 'fx__add', arguments: { a: 2, b: 3 }, _meta: { traceparent: `00-${traceId}-${parent}-01` } });
      expect(textOf(result)).toBe('5');
      await modern.close();
      const spans = await until('the modern call span', () => {
        const s = receiver.spans().filter((x) => x.traceId === traceId);
        return s.some((x) => x.kind === CLIENT) ? s : undefined;
      });
      const add = spans.find((s) => s.name === 'tools/call fx__add')!;
      expect(add.parentSpanId).toBe(parent);
      expect(attrs(add)['palisade.decision']).toBe('allowed');
      expect(spans.find((s) => s.kind === CLIENT)!.parentSpanId).toBe(add.spanId);
    }, 120_000);
  });
});
