// OpenTelemetry traces (issue 16 §5): one span per client call and one child span per upstream
// call, exported over OTLP/HTTP. Off unless configured (the config's `telemetry.otlpEndpoint`,
// or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT): the OpenTelemetry
// modules are imported only then, so `palisade scan` and a gateway without tracing load none.
//
// Spans carry what an operator needs to follow a call (method, tool or prompt name, virtual
// server, decision, a hash of the principal, upstream, transport, outcome) and never arguments,
// results, tokens or resource URIs. No global OpenTelemetry state is registered: the current
// span lives in this module's AsyncLocalStorage, so several gateways in one process (tests)
// keep their own traces.
import { createHash } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context, Span, TextMapPropagator, Tracer } from '@opentelemetry/api';
import type { GatewayConfig } from './config.js';

export interface TelemetrySettings {
  /** the OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces */
  url: string;
  serviceName: string;
  /** 0..1: the share of new traces recorded (a sampled parent from the client is followed) */
  sampleRatio: number;
  /** extra headers for the exporter (OTEL_EXPORTER_OTLP_HEADERS) */
  headers?: Record<string, string>;
}

/**
 * What tracing to do, from the config and then the standard environment; undefined = none.
 * The config wins; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is a full URL, OTEL_EXPORTER_OTLP_ENDPOINT
 * a base that gets /v1/traces.
 */
export function telemetrySettings(cfg: Pick<GatewayConfig, 'telemetry'>, env: Readonly<Record<string, string | undefined>>): TelemetrySettings | undefined {
  const t = cfg.telemetry;
  if (t?.enabled === false) return undefined;
  let url = t?.otlpEndpoint;
  if (!url && env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!url && env.OTEL_EXPORTER_OTLP_ENDPOINT) url = `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  if (!url || env.OTEL_SDK_DISABLED === 'true') return undefined;
  const ratioEnv = Number(env.OTEL_TRACES_SAMPLER_ARG);
  return {
    url,
    serviceName: t?.serviceName ?? env.OTEL_SERVICE_NAME ?? 'palisade-gateway',
    sampleRatio: t?.sampleRatio ?? (Number.isFinite(ratioEnv) && ratioEnv >= 0 && ratioEnv <= 1 && env.OTEL_TRACES_SAMPLER_ARG ? ratioEnv : 1),
    headers: parseHeaderList(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS),
  };
}

function parseHeaderList(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    try {
      out[decodeURIComponent(part.slice(0, i).trim())] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      // a malformed pair is skipped, never echoed (it may hold a key)
    }
  }
  return Object.keys(out).length ? out : undefined;
}

/** Whether this process has imported the OpenTelemetry modules (it does only when tracing is configured). */
let loaded = false;
export function telemetryLoaded(): boolean {
  return loaded;
}

/** A short, stable, one-way name for a principal: traces can group by caller without naming it. */
export function principalHash(id: string): string {
  return createHash('sha256').update(`palisade-principal\0${id}`).digest('hex').slice(0, 16);
}

export interface ClientCallInfo {
  method: string;
  /** a tool or prompt name (never a resource URI or arguments) */
  name?: string;
  virtualServer?: string;
  principal: string;
  /** W3C trace context from the request's params._meta, if the client put it there */
  traceparent?: unknown;
  tracestate?: unknown;
}

export interface UpstreamCallInfo {
  method: string;
  upstream: string;
  transport: string;
}

/** The gateway's tracing, once the modules are loaded. */
export class Tracing {
  private readonly store = new AsyncLocalStorage<Context>();

  private constructor(
    private readonly api: typeof import('@opentelemetry/api'),
    private readonly tracer: Tracer,
    private readonly propagator: TextMapPropagator,
    private readonly provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> },
  ) {}

  static async start(s: TelemetrySettings): Promise<Tracing> {
    const [api, sdk, core, resources, exporterMod] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/core'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/exporter-trace-otlp-http'),
    ]);
    loaded = true;
    const exporter = new exporterMod.OTLPTraceExporter({ url: s.url, headers: s.headers, timeoutMillis: 10_000 });
    const provider = new sdk.TracerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': s.serviceName, 'service.version': '0.1.0' }),
      sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(s.sampleRatio) }),
      spanProcessors: [new sdk.BatchSpanProcessor({ exporter, scheduledDelayMillis: 1000, maxQueueSize: 4096 })],
    });
    return new Tracing(api, provider.getTracer('palisade-gateway', '0.1.0'), new core.W3CTraceContextPropagator(), provider);
  }

  /** The trace context of an incoming HTTP request (traceparent/tracestate headers), for the calls it carries. */
  incoming<T>(headers: Record<string, string | string[] | undefined>, fn: () => T): T {
    if (typeof headers.traceparent !== 'string') return fn();
    const ctx = this.propagator.extract(this.api.ROOT_CONTEXT, headers, this.api.defaultTextMapGetter);
    return this.store.run(ctx, fn);
  }

  /** Run `fn` as one client call: a SERVER span, child of the client's trace context when it sent one. */
  async clientCall<T>(info: ClientCallInfo, fn: () => Promise<T>): Promise<T> {
    const { api } = this;
    let parent = this.store.getStore() ?? api.ROOT_CONTEXT;
    if (typeof info.traceparent === 'string' && info.traceparent.length <= 100) {
      const carrier: Record<string, string> = { traceparent: info.traceparent };
      if (typeof info.tracestate === 'string' && info.tracestate.length <= 512) carrier.tracestate = info.tracestate;
      const fromMeta = this.propagator.extract(api.ROOT_CONTEXT, carrier, api.defaultTextMapGetter);
      if (api.trace.getSpanContext(fromMeta)) parent = fromMeta;
    }
    const attributes: Record<string, string> = { 'mcp.method.name': info.method, 'palisade.principal_hash': principalHash(info.principal) };
    if (info.name !== undefined) attributes[info.method === 'prompts/get' ? 'gen_ai.prompt.name' : 'gen_ai.tool.name'] = info.name.slice(0, 200);
    if (info.virtualServer) attributes['palisade.virtual_server'] = info.virtualServer;
    const span = this.tracer.startSpan(
      info.name ? `${info.method} ${info.name.slice(0, 100)}` : info.method,
      { kind: api.SpanKind.SERVER, attributes },
      parent,
    );
    return this.within(span, parent, fn);
  }

  /** Run `fn` as one upstream call: a CLIENT span under the current client call. */
  async upstreamCall<T>(info: UpstreamCallInfo, fn: () => Promise<T>): Promise<T> {
    const { api } = this;
    const parent = this.store.getStore() ?? api.ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      `upstream ${info.method}`,
      {
        kind: api.SpanKind.CLIENT,
        attributes: { 'mcp.method.name': info.method, 'palisade.upstream': info.upstream, 'palisade.upstream.transport': info.transport },
      },
      parent,
    );
    return this.within(span, parent, fn, true);
  }

  private async within<T>(span: Span, parent: Context, fn: () => Promise<T>, outcome = false): Promise<T> {
    const { api } = this;
    try {
      const value = await this.store.run(api.trace.setSpan(parent, span), fn);
      if (outcome) span.setAttribute('palisade.outcome', 'ok');
      return value;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (outcome) span.setAttribute('palisade.outcome', /timed? ?out/i.test(String((err as Error)?.message)) ? 'timeout' : 'error');
      if (typeof code === 'number') span.setAttribute('rpc.jsonrpc.error_code', code);
      // the status says that it failed, not the message (an upstream's text may hold anything)
      span.setStatus({ code: api.SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  }

  /** The decision the gateway took on the current call (from its audit record). */
  decision(decision: string, upstream: string | null): void {
    const span = this.api.trace.getSpan(this.store.getStore() ?? this.api.ROOT_CONTEXT);
    if (!span) return;
    span.setAttribute('palisade.decision', decision);
    if (upstream) span.setAttribute('palisade.upstream', upstream);
  }

  /** traceparent (and tracestate) for an HTTP request to an upstream made inside an upstream span; {} outside one. */
  headers(): Record<string, string> {
    const ctx = this.store.getStore();
    if (!ctx) return {};
    const out: Record<string, string> = {};
    this.propagator.inject(ctx, out, this.api.defaultTextMapSetter);
    return out;
  }

  async shutdown(): Promise<void> {
    await this.provider.forceFlush().catch(() => undefined);
    await this.provider.shutdown().catch(() => undefined);
  }
}
