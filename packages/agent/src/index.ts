export * from './clients/types.js';
export { discoverers, findDiscoverer } from './clients/index.js';
export { locationContext, isPlatform, toHostPath } from './paths.js';
export { discover, discoverFile, readConfigFile, MAX_CONFIG_BYTES } from './discover.js';
export { normalizeServer, inferTransport, serverId } from './normalize.js';
export { scan, runPipeline, discoverServers, summarize, hostInfo, type ScanOptions } from './scan.js';
export { stateDirPath, ensureStateDir } from './state.js';
export { AGENT_NAME, AGENT_VERSION } from './version.js';
