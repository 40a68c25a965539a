// Probing (--probe): connect to each discovered MCP server, list its tools, and pin them.
// This is the only place in Palisade that starts stdio servers.
import type { DiscoveryResult } from '../discover.js';
import { applyPins, loadPins, savePins } from '../pins.js';
import { stateDirPath } from '../state.js';
import { probeServer } from './server.js';

export { probeServer, type ServerProbe, type ProbeServerOptions } from './server.js';

export const DEFAULT_PROBE_TIMEOUT_MS = 15_000;
export const DEFAULT_PROBE_CONCURRENCY = 4;

export interface ProbeOptions {
  /** per-server limit covering spawn, initialize and listing (default 15 s) */
  timeoutMs?: number;
  /** servers probed at once (default 4) */
  concurrency?: number;
  /** progress lines for stderr, e.g. "probing 3/12: github..." */
  onProgress?: (msg: string) => void;
  /** where pins are kept (default: $PALISADE_STATE_DIR or the platform's state folder) */
  stateDir?: string;
  now?: Date;
}

/** Probe every server in place: sets `tools` and `probe` on each, applies pins. Never throws. */
export async function probeServers(discovery: DiscoveryResult, opts: ProbeOptions = {}): Promise<void> {
  const timeoutMs = positive(opts.timeoutMs, DEFAULT_PROBE_TIMEOUT_MS);
  const concurrency = Math.floor(positive(opts.concurrency, DEFAULT_PROBE_CONCURRENCY));
  const progress = (msg: string) => {
    try {
      opts.onProgress?.(msg);
    } catch {
      // a broken progress sink must not break the scan
    }
  };
  const servers = discovery.servers;
  const total = servers.length;
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const index = next++;
      const server = servers[index]!;
      progress(`probing ${index + 1}/${total}: ${server.name}...`);
      try {
        const result = await probeServer(server, discovery.raw.get(server.id), { timeoutMs });
        server.probe = result.probe;
        if (result.tools) server.tools = result.tools;
        else delete server.tools;
      } catch (err) {
        // probeServer does not throw; this is the last wall so the scan always goes on
        server.probe = { ok: false, error: `The probe failed unexpectedly: ${err instanceof Error ? err.message : String(err)}` };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));

  try {
    const store = await loadPins(opts.stateDir ?? stateDirPath());
    for (const w of store.warnings) progress(`warning: ${w}`);
    if (applyPins(store, servers, opts.now ?? new Date())) await savePins(store);
  } catch (err) {
    progress(`warning: tool pins could not be saved (${err instanceof Error ? err.message : String(err)}); set PALISADE_STATE_DIR to a writable folder to track tool changes.`);
  }
}

function positive(v: number | undefined, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback;
}
