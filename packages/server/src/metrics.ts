// Prometheus text metrics. Labels are route patterns, methods and status codes only: never
// user data (an unmatched URL is counted under route="unmatched").
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly durations = new Map<string, Histogram>();
  private readonly ingest = new Map<string, number>();

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const k = `method="${esc(method)}",route="${esc(route)}",status="${status}"`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
    const hk = `method="${esc(method)}",route="${esc(route)}"`;
    let h = this.durations.get(hk);
    if (!h) this.durations.set(hk, (h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.counts[i]!++;
    h.sum += seconds;
    h.count++;
  }

  /** Agent reports, counted by outcome (from the answer's status; no user data in labels). */
  observeIngest(status: number): void {
    const result = status < 300 ? 'accepted' : status === 429 ? 'rate_limited' : status === 401 ? 'unauthenticated' : status < 500 ? 'rejected' : 'error';
    const k = `result="${result}"`;
    this.ingest.set(k, (this.ingest.get(k) ?? 0) + 1);
  }

  render(): string {
    const out: string[] = [];
    out.push('# HELP palisade_http_requests_total HTTP requests by method, route pattern and status.', '# TYPE palisade_http_requests_total counter');
    for (const [k, v] of this.requests) out.push(`palisade_http_requests_total{${k}} ${v}`);
    out.push('# HELP palisade_http_request_duration_seconds HTTP request durations by method and route pattern.', '# TYPE palisade_http_request_duration_seconds histogram');
    for (const [k, h] of this.durations) {
      BUCKETS.forEach((b, i) => out.push(`palisade_http_request_duration_seconds_bucket{${k},le="${b}"} ${h.counts[i]}`));
      out.push(`palisade_http_request_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`);
      out.push(`palisade_http_request_duration_seconds_sum{${k}} ${h.sum}`);
      out.push(`palisade_http_request_duration_seconds_count{${k}} ${h.count}`);
    }
    out.push('# HELP palisade_ingest_reports_total Agent reports received, by result.', '# TYPE palisade_ingest_reports_total counter');
    for (const [k, v] of this.ingest) out.push(`palisade_ingest_reports_total{${k}} ${v}`);
    const mem = process.memoryUsage();
    out.push('# HELP process_resident_memory_bytes Resident memory size in bytes.', '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${mem.rss}`);
    out.push('# HELP process_uptime_seconds Seconds since the process started.', '# TYPE process_uptime_seconds gauge', `process_uptime_seconds ${process.uptime()}`);
    return out.join('\n') + '\n';
  }
}
