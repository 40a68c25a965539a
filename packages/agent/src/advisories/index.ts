// Advisories on the agent side: the store in the state folder, import (OSV zip/folder/JSON and
// CISA KEV), sync with the OSV API, the loader `palisade scan` uses, and node_modules resolution.
export { loadAdvisoryDb, loadAdvisories, loadBundledAdvisories, type LoadedAdvisories } from './loader.js';
export { importAdvisories, readAdvisorySource, ImportError, isKevCatalog, type ImportSummary } from './import.js';
export { syncAdvisories, osvQueries, SyncError, DEFAULT_OSV_API, type SyncSummary } from './sync.js';
export { resolveNodeModulesPackages } from './resolve.js';
export { openStore, readStoreIndex, StoreAdvisoryDb, advisoriesDir } from './store.js';
export { readZipEntries, ZipError, DEFAULT_ZIP_LIMITS, type ZipEntry, type ZipLimits } from './zip.js';
