// Webhook endpoints must be http(s) URLs without credentials in them.
export function checkWebhookUrl(raw: unknown): { ok: true; url: string } | { ok: false; message: string } {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048) return { ok: false, message: 'Give the webhook URL as an http:// or https:// address of at most 2048 characters.' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: 'The webhook URL is not a valid URL; give an http:// or https:// address.' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, message: 'Only http:// and https:// webhook URLs are allowed.' };
  if (url.username || url.password) return { ok: false, message: 'Put no user name or password in the webhook URL; the payload is signed with the webhook secret instead.' };
  return { ok: true, url: url.toString() };
}
