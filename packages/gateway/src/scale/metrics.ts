// Prometheus figures beyond the audited-event counters of gateway.ts: tool calls by decision,
// a call latency histogram, limit refusals by scope, upstream restarts. Fed by every audit
// record (the Gateway's onAudit hook) and by the upstream supervisor.
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** a Prometheus label value, escaped */
export const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class ScaleMetrics {
  private readonly calls = new Map<string, number>();
  private readonly limited = new Map<string, number>();
  private readonly restarts = new Map<string, number>();
  private readonly idleStops = new Map<string, number>();
  private readonly buckets = new Array<number>(BUCKETS.length).fill(0);
  private latencyCount = 0;
  private latencySum = 0;

  observe(rec: { kind: string; decision: string; upstream: string | null; latencyMs: number | null }): void {
    if (rec.kind !== 'call') return;
    this.calls.set(rec.decision, (this.calls.get(rec.decision) ?? 0) + 1);
    if (rec.decision === 'rate-limited' || rec.decision === 'concurrency-limited')
      this.limited.set(rec.decision, (this.limited.get(rec.decision) ?? 0) + 1);
    if (rec.latencyMs !== null && (rec.decision === 'allowed' || rec.decision === 'upstream-error')) {
      const s = rec.latencyMs / 1000;
      this.latencyCount++;
      this.latencySum += s;
      for (let i = 0; i < BUCKETS.length; i++) if (s <= BUCKETS[i]!) this.buckets[i]!++;
    }
  }

  restarted(upstream: string): void {
    this.restarts.set(upstream, (this.restarts.get(upstream) ?? 0) + 1);
  }

  idleStopped(upstream: string): void {
    this.idleStops.set(upstream, (this.idleStops.get(upstream) ?? 0) + 1);
  }

  render(gauges: Record<string, number> = {}): string {
    const out: string[] = [];
    out.push('# HELP palisade_gateway_calls_total Tool calls by decision.', '# TYPE palisade_gateway_calls_total counter');
    for (const [d, v] of [...this.calls].sort()) out.push(`palisade_gateway_calls_total{decision="${label(d)}"} ${v}`);
    out.push('# HELP palisade_gateway_limited_total Calls refused by a rate or concurrency limit.', '# TYPE palisade_gateway_limited_total counter');
    for (const kind of ['rate-limited', 'concurrency-limited']) out.push(`palisade_gateway_limited_total{decision="${kind}"} ${this.limited.get(kind) ?? 0}`);
    out.push(
      '# HELP palisade_gateway_call_duration_seconds Time from the call reaching the gateway to its answer (forwarded calls).',
      '# TYPE palisade_gateway_call_duration_seconds histogram',
    );
    BUCKETS.forEach((b, i) => out.push(`palisade_gateway_call_duration_seconds_bucket{le="${b}"} ${this.buckets[i]}`));
    out.push(`palisade_gateway_call_duration_seconds_bucket{le="+Inf"} ${this.latencyCount}`);
    out.push(`palisade_gateway_call_duration_seconds_sum ${this.latencySum}`, `palisade_gateway_call_duration_seconds_count ${this.latencyCount}`);
    out.push('# HELP palisade_gateway_upstream_restarts_total Upstreams restarted after they crashed or disconnected.', '# TYPE palisade_gateway_upstream_restarts_total counter');
    for (const [u, v] of [...this.restarts].sort()) out.push(`palisade_gateway_upstream_restarts_total{upstream="${label(u)}"} ${v}`);
    out.push('# HELP palisade_gateway_upstream_idle_stops_total stdio upstreams stopped after limits.upstreamIdleMs without calls.', '# TYPE palisade_gateway_upstream_idle_stops_total counter');
    for (const [u, v] of [...this.idleStops].sort()) out.push(`palisade_gateway_upstream_idle_stops_total{upstream="${label(u)}"} ${v}`);
    for (const [k, v] of Object.entries(gauges)) out.push(`# TYPE ${k} gauge`, `${k} ${v}`);
    return out.join('\n') + '\n';
  }
}
