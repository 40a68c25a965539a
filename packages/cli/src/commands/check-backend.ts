// `palisade configure` checks the backend URL and the agent key before saving them, with the
// read-only GET /api/v1/agent/whoami: nothing is stored on the backend, and a typo in either
// is found now rather than at the first report.

export const WHOAMI_PATH = '/api/v1/agent/whoami';

export class BackendCheckError extends Error {}

export interface BackendIdentity {
  orgId?: string;
  keyId?: string;
}

function why(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNREFUSED') return 'connection refused: nothing listens there';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name does not resolve';
  if (code === 'ETIMEDOUT' || (cause instanceof Error && cause.name === 'TimeoutError')) return 'no answer in time';
  if (code && /CERT|SSL|TLS/.test(code)) return `its TLS certificate was refused (${code})`;
  return cause instanceof Error ? cause.message : String(cause);
}

/** Ask the backend who this key is. Throws a BackendCheckError whose message says what to do. */
export async function checkBackend(server: string, apiKey: string, timeoutMs = 15_000): Promise<BackendIdentity> {
  const skip = 'or pass --no-check to save the settings without checking';
  let res: Response;
  try {
    res = await fetch(`${server}${WHOAMI_PATH}`, {
      headers: { 'x-api-key': apiKey, accept: 'application/json', 'user-agent': 'palisade-agent' },
      redirect: 'error', // a redirect could carry the key elsewhere
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new BackendCheckError(`cannot reach the backend at ${server} (${why(err)}); check the URL and that palisade serve is running there, ${skip}.`);
  }
  const text = await res.text().catch(() => '');
  if (res.status === 401) throw new BackendCheckError(`the backend at ${server} does not accept this agent key (it is unknown or revoked); create a key in the dashboard under Settings > Agent keys and run palisade configure again with it.`);
  if (res.status === 403) throw new BackendCheckError(`the backend at ${server} knows this key but does not let it send reports (wrong scope); use an agent key, not a user or read-only token, created under Settings > Agent keys.`);
  if (res.status === 404) throw new BackendCheckError(`${server} has no Palisade agent endpoint (${WHOAMI_PATH} answered 404); check that the URL is the dashboard's address without a path, ${skip}.`);
  if (res.status < 200 || res.status >= 300) throw new BackendCheckError(`the backend at ${server} answered ${res.status} to the key check; try again later, ${skip}.`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BackendCheckError(`${server} answered the key check with something that is not JSON, so it is not a Palisade backend; check the URL, ${skip}.`);
  }
  const b = (body ?? {}) as Record<string, unknown>;
  return { ...(typeof b.orgId === 'string' ? { orgId: b.orgId } : {}), ...(typeof b.keyId === 'string' ? { keyId: b.keyId } : {}) };
}
