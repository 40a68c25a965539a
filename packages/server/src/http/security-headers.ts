// The security headers every answer carries (the content security policy, HSTS in production,
// no-referrer, nosniff, frame-ancestors 'none', the cross-origin policies...), as helmet
// chooses them from the options, worked out ONCE at start-up. The fastify helmet plugin built
// the whole helmet middleware again for every request (parsing the CSP directives each time):
// about a tenth of the bytes an agent's re-scan allocated. No route sets helmet options of its
// own and no directive depends on the request, so one fixed list is the same answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

export function securityHeaders(options: Readonly<HelmetOptions>): Readonly<Record<string, string>> {
  const headers = new Map<string, string>();
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value));
    },
    removeHeader(name: string) {
      headers.delete(name.toLowerCase());
    },
  };
  let finished = false;
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err instanceof Error ? err : new Error(String(err));
    finished = true;
  });
  // helmet runs its steps synchronously for directives that are plain strings
  if (!finished) throw new Error('the security headers depend on the request: set them per request instead');
  return Object.freeze(Object.fromEntries(headers));
}
