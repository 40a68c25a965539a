// One attempt to deliver a report. The outcome decides what the spool does with it:
// delivered (2xx) -> delete; retry later (network error, 5xx, 429) -> keep, in order;
// rejected (any other 4xx) -> move aside with the backend's reason.
import type { UploadTarget } from './target.js';

export type SendOutcome =
  | { kind: 'delivered'; status: number; body: unknown }
  | { kind: 'retry'; reason: string }
  | { kind: 'rejected'; status: number; reason: string };

export const REPORT_PATH = '/api/v1/agent/report';

/** POSTs a body to one of the agent routes (by default the v1 report route; v2.ts uses the others). */
export async function sendReport(target: UploadTarget, body: string, timeoutMs = 60_000, route = REPORT_PATH): Promise<SendOutcome> {
  let res: Response;
  try {
    res = await fetch(`${target.server}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': target.apiKey, 'user-agent': 'palisade-agent' },
      body,
      redirect: 'error', // a redirect could carry the key elsewhere
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    return { kind: 'retry', reason: `cannot reach ${target.server} (${cause})` };
  }
  const text = await res.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null; // not JSON (a proxy's error page): the text itself is the reason
  }
  const message = (parsed as { error?: { message?: string } } | null)?.error?.message ?? text.slice(0, 300);
  if (res.status >= 200 && res.status < 300) return { kind: 'delivered', status: res.status, body: parsed };
  if (res.status === 429 || res.status >= 500) return { kind: 'retry', reason: `the backend answered ${res.status}${message ? `: ${message}` : ''}` };
  return { kind: 'rejected', status: res.status, reason: `the backend rejected the report (${res.status})${message ? `: ${message}` : ''}` };
}
