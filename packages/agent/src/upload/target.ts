// Where reports go and with which key: flags, then PALISADE_SERVER / PALISADE_API_KEY, then
// the file `palisade configure` wrote (agent.json in the state folder, mode 0600).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isIP } from 'node:net';
import { ensureStateDir, stateDirPath, writeStateFile } from '../state.js';

export interface UploadTarget {
  server: string;
  apiKey: string;
}

export class UploadConfigError extends Error {}

const KEY_SHAPE = /^pal_[A-Za-z0-9_-]{20,200}$/;

function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

/** The backend's base URL, normalised; https, or http only to this machine. */
export function checkServerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new UploadConfigError(`"${raw}" is not a URL; give the backend's address, e.g. --server https://palisade.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UploadConfigError(`The server URL must start with https:// (got ${url.protocol}//).`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new UploadConfigError(`Refusing to send reports over plain http:// to ${url.hostname}: use https:// (http:// is allowed only to localhost / 127.0.0.1 / ::1).`);
  }
  if (url.username || url.password) throw new UploadConfigError('Put no user name or password in the server URL; the agent key authenticates.');
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}

export function checkApiKey(raw: string): string {
  const key = raw.trim();
  if (!KEY_SHAPE.test(key)) throw new UploadConfigError('That does not look like a Palisade agent key (it starts with "pal_"); create one in the dashboard under Agent keys.');
  return key;
}

export function agentConfigFile(stateDir = stateDirPath()): string {
  return path.join(stateDir, 'agent.json');
}

export async function saveTarget(target: UploadTarget, stateDir = stateDirPath()): Promise<string> {
  await ensureStateDir(stateDir);
  const file = agentConfigFile(stateDir);
  await writeStateFile(file, JSON.stringify({ server: target.server, apiKey: target.apiKey }, null, 2) + '\n');
  await fs.chmod(file, 0o600);
  return file;
}

export async function loadStoredTarget(stateDir = stateDirPath()): Promise<Partial<UploadTarget>> {
  try {
    const v = JSON.parse(await fs.readFile(agentConfigFile(stateDir), 'utf8')) as Partial<UploadTarget>;
    return { server: typeof v.server === 'string' ? v.server : undefined, apiKey: typeof v.apiKey === 'string' ? v.apiKey : undefined };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UploadConfigError(`Cannot read ${agentConfigFile(stateDir)}; run \`palisade configure --server URL --api-key KEY\` again.`);
  }
}

export async function resolveTarget(flags: { server?: string; apiKey?: string }, env: NodeJS.ProcessEnv = process.env, stateDir = stateDirPath({ env })): Promise<UploadTarget> {
  const stored = await loadStoredTarget(stateDir);
  // an empty variable counts as unset
  const server = flags.server ?? (env.PALISADE_SERVER || undefined) ?? stored.server;
  const apiKey = flags.apiKey ?? (env.PALISADE_API_KEY || undefined) ?? stored.apiKey;
  if (!server || !apiKey) throw new UploadConfigError('No backend configured: run `palisade configure --server URL --api-key KEY` (or pass --server and --api-key, or set PALISADE_SERVER and PALISADE_API_KEY).');
  return { server: checkServerUrl(server), apiKey: checkApiKey(apiKey) };
}
