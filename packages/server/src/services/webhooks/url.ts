// Webhook endpoints must be http(s) URLs without credentials in them, and may not name an
// address the server refuses to send to (see address.ts). Host names are checked again,
// after DNS, on every delivery.
import { isIP } from 'node:net';
import { addressProblem } from './address.js';

/** The bare host of a URL: IPv6 literals lose their brackets. */
export function urlHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

export function checkWebhookUrl(raw: unknown, opts: { allowPrivate: boolean }): { ok: true; url: string } | { ok: false; message: string } {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048) return { ok: false, message: 'Give the webhook URL as an http:// or https:// address of at most 2048 characters.' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: 'The webhook URL is not a valid URL; give an http:// or https:// address.' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, message: 'Only http:// and https:// webhook URLs are allowed.' };
  if (url.username || url.password) return { ok: false, message: 'Put no user name or password in the webhook URL; the payload is signed with the webhook secret instead.' };
  const host = urlHost(url);
  if (isIP(host)) {
    const problem = addressProblem(host, opts.allowPrivate);
    if (problem) return { ok: false, message: `That webhook URL is not allowed: ${problem}` };
  } else if (!opts.allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) {
    return { ok: false, message: 'The webhook URL points at this server itself (localhost); set PALISADE_WEBHOOK_ALLOW_PRIVATE=1 on the server to allow internal receivers.' };
  }
  return { ok: true, url: url.toString() };
}
