// One delivery attempt and the retry schedule. Attempts are bounded (count and time) and
// every outcome is returned for the caller to record. The destination is checked where the
// connection is made: a host name is resolved here and every address it resolves to must
// pass the address policy, and the socket connects to the address that was checked (no
// second lookup an attacker's DNS could answer differently). Redirects are not followed.
import { randomUUID } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { addressProblem } from './address.js';
import { signPayload, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './sign.js';
import { urlHost } from './url.js';

export const MAX_ATTEMPTS = 5;
export const ATTEMPT_TIMEOUT_MS = 10_000;

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** retrying cannot help (the destination is refused by policy) */
  permanent?: boolean;
}

export interface SendOptions {
  url: string;
  secret: string;
  body: string;
  event: string;
  deliveryId?: string;
  timeoutMs?: number;
  now?: () => number;
  /** private and loopback receivers allowed (PALISADE_WEBHOOK_ALLOW_PRIVATE=1) */
  allowPrivate?: boolean;
}

class DestinationRefused extends Error {
  override name = 'DestinationRefused';
}

/** dns.lookup, with every answer held to the address policy. */
function checkedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { all: true, family: options.family ?? 0, hints: options.hints }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      if (addresses.length === 0) return callback(new Error(`${hostname} has no address.`), '', 0);
      for (const a of addresses) {
        const problem = addressProblem(a.address, allowPrivate);
        if (problem) return callback(new DestinationRefused(`${hostname} resolves to ${problem}`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export async function sendWebhook(opts: SendOptions): Promise<AttemptResult> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const allowPrivate = opts.allowPrivate ?? false;
  const done = (statusCode: number | null, error: string | null): AttemptResult => ({ ok: error === null, statusCode, error: error?.slice(0, 500) ?? null, durationMs: Date.now() - started });
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    return done(null, 'The webhook URL is not a valid URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return done(null, 'Only http:// and https:// webhook URLs are allowed.');
  const host = urlHost(url);
  if (isIP(host)) {
    const problem = addressProblem(host, allowPrivate);
    if (problem) return { ...done(null, `Not sent: ${problem}`), permanent: true };
  }
  const timestamp = Math.floor((opts.now ?? Date.now)() / 1000);
  const body = Buffer.from(opts.body);
  const headers = {
    'content-type': 'application/json',
    'content-length': String(body.length),
    'user-agent': 'Palisade-Webhook/1',
    'x-palisade-event': opts.event,
    'x-palisade-delivery': opts.deliveryId ?? randomUUID(),
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: signPayload(opts.secret, timestamp, opts.body),
  };
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const finish = (r: AttemptResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const req = request(url, { method: 'POST', headers, lookup: checkedLookup(allowPrivate), signal: AbortSignal.timeout(timeoutMs), agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume(); // the receiver's answer is not needed
      res.destroy();
      finish(done(status, status >= 200 && status < 300 ? null : `The receiver answered HTTP ${status}.`));
    });
    req.on('error', (err: Error & { code?: string }) => {
      if (err.name === 'AbortError' || err.code === 'ABORT_ERR') return finish(done(null, `No answer within ${timeoutMs} ms.`));
      if (err instanceof DestinationRefused) return finish({ ...done(null, `Not sent: ${err.message}`), permanent: true });
      finish(done(null, `Could not reach the receiver (${err.message}).`));
    });
    req.end(body);
  });
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
