// One delivery attempt and the retry schedule. Attempts are bounded (count and time) and
// every outcome is returned for the caller to record.
import { randomUUID } from 'node:crypto';
import { signPayload, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './sign.js';

export const MAX_ATTEMPTS = 5;
export const ATTEMPT_TIMEOUT_MS = 10_000;

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface SendOptions {
  url: string;
  secret: string;
  body: string;
  event: string;
  deliveryId?: string;
  timeoutMs?: number;
  now?: () => number;
}

export async function sendWebhook(opts: SendOptions): Promise<AttemptResult> {
  const started = Date.now();
  const timestamp = Math.floor((opts.now ?? Date.now)() / 1000);
  try {
    const res = await fetch(opts.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Palisade-Webhook/1',
        'x-palisade-event': opts.event,
        'x-palisade-delivery': opts.deliveryId ?? randomUUID(),
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signPayload(opts.secret, timestamp, opts.body),
      },
      body: opts.body,
      redirect: 'manual', // a redirect is not a delivery; following it could reach somewhere else
      signal: AbortSignal.timeout(opts.timeoutMs ?? ATTEMPT_TIMEOUT_MS),
    });
    await res.body?.cancel().catch(() => undefined); // the receiver's answer is not needed
    const ok = res.status >= 200 && res.status < 300;
    return { ok, statusCode: res.status, error: ok ? null : `The receiver answered HTTP ${res.status}.`, durationMs: Date.now() - started };
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    const error = name === 'TimeoutError' ? `No answer within ${opts.timeoutMs ?? ATTEMPT_TIMEOUT_MS} ms.` : `Could not reach the receiver (${err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err)}).`;
    return { ok: false, statusCode: null, error: error.slice(0, 500), durationMs: Date.now() - started };
  }
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failures: exponential from `baseMs`,
 * capped, with up to 20% jitter so many failing hooks do not retry in lockstep.
 * Returns null when no attempt is left.
 */
export function retryDelayMs(attempt: number, baseMs = 30_000, capMs = 3_600_000, random = Math.random): number | null {
  if (attempt >= MAX_ATTEMPTS) return null;
  const raw = Math.min(capMs, baseMs * 2 ** (attempt - 1));
  return Math.round(raw * (1 + 0.2 * random()));
}
