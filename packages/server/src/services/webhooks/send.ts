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
import { addressProblem, classifyAddress } from './address.js';
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
  /** aborts the attempt (shutdown) */
  signal?: AbortSignal;
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
        // the message names the host, never the address it resolved to (users see it)
        const cls = classifyAddress(a.address);
        if (cls === 'forbidden') return callback(new DestinationRefused(`${hostname} resolves to a link-local, multicast or reserved address; webhooks are never sent there.`), '', 0);
        if (cls === 'private' && !allowPrivate) return callback(new DestinationRefused(`${hostname} resolves to a private or loopback address; set PALISADE_WEBHOOK_ALLOW_PRIVATE=1 on the server to allow internal receivers.`), '', 0);
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
    const timers: { hard?: NodeJS.Timeout } = {};
    const finish = (r: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timers.hard);
      resolve(r);
    };
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    // a hard deadline too, whatever the socket does (a lookup that never answers, a stalled TLS handshake)
    timers.hard = setTimeout(() => {
      req.destroy();
      finish(done(null, `No answer from ${host} within ${timeoutMs} ms.`));
    }, timeoutMs + 250);
    timers.hard.unref();
    const req = request(url, { method: 'POST', headers, lookup: checkedLookup(allowPrivate), signal, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume(); // the receiver's answer is not needed
      res.destroy();
      finish(done(status, status >= 200 && status < 300 ? null : `The receiver answered HTTP ${status}.`));
    });
    req.on('error', (err: Error & { code?: string }) => {
      if (err.name === 'AbortError' || err.code === 'ABORT_ERR') return finish(done(null, opts.signal?.aborted ? 'Stopped: the server was shutting down; the delivery stays queued.' : `No answer from ${host} within ${timeoutMs} ms.`));
      if (err instanceof DestinationRefused) return finish({ ...done(null, `Not sent: ${err.message}`), permanent: true });
      finish(done(null, `Could not reach ${host}: ${genericReason(err)}`));
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

/**
 * Why a connection failed, in words that name no address: socket errors carry the resolved
 * IP ("connect ECONNREFUSED 10.1.2.3:443"), which would tell an organisation's admin about
 * the server's internal network.
 */
export function genericReason(err: { code?: string; message?: string }): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'the connection was refused.';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NODATA':
    case 'EAI_NONAME':
      return 'the host name could not be resolved.';
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
      return 'the connection timed out.';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'the connection was closed before an answer.';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return 'the host is unreachable.';
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_INVALID_STATUS':
      return 'the answer was not valid HTTP.';
    default:
      if (err.code && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(err.code)) return 'the TLS certificate was not accepted.';
      return 'the connection failed.';
  }
}
