// Defence in depth: the agent redacts secrets before sending, but an old, modified or
// hostile agent might not. The backend scrubs anything secret-shaped again before a value
// can reach the database. Values already redacted by the agent are left as they are.
import { detectSecret, redactArgs, redactUrl, type ServerConfig } from '@palisade/core';

const ALREADY = /<redacted[:>]/;

export function scrubArgs(args: readonly string[]): string[] {
  const redacted = redactArgs(args).args;
  return args.map((a, i) => (ALREADY.test(a) ? a : (redacted[i] ?? a)));
}

export function scrubUrl(url: string | null): string | null {
  if (url === null) return null;
  if (ALREADY.test(url) && !detectSecret(url)) return url;
  return redactUrl(url).url;
}

export function scrubCommand(command: string | null): string | null {
  if (command === null || !detectSecret(command)) return command;
  return redactArgs([command]).args[0] ?? '<redacted>';
}

export function scrubServer<T extends ServerConfig>(s: T): T {
  return { ...s, command: scrubCommand(s.command), args: scrubArgs(s.args), url: scrubUrl(s.url), cwd: s.cwd === null ? null : (scrubCommand(s.cwd) ?? null) };
}
