// Builds a DiscoveryResult from raw servers the way discovery does (normalizeServer), so the
// probe tests exercise the same shapes the CLI hands to probeServers.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawServer } from '../../src/clients/types.js';
import type { DiscoveryResult } from '../../src/discover.js';
import { normalizeServer } from '../../src/normalize.js';

export const SERVERS_DIR = fileURLToPath(new URL('../servers/', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export function testServer(file: string): string {
  return path.join(SERVERS_DIR, file);
}

export function discoveryOf(raws: RawServer[], configPath = '/test/fixture/mcp.json'): DiscoveryResult {
  const result: DiscoveryResult = { clients: [], servers: [], raw: new Map() };
  for (const raw of raws) {
    const server = normalizeServer({ clientId: 'test-client', configPath, raw, scope: 'user' });
    result.servers.push(server);
    result.raw.set(server.id, raw);
  }
  return result;
}

export function tempDir(prefix = 'palisade-probe-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Wait until none of the pids is alive (killed processes may take a moment to be reaped). */
export async function waitAllGone(pids: number[], ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!pids.some(isAlive)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return !pids.some(isAlive);
}
