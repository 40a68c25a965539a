// @palisade/server: the backend behind `palisade serve`.
export { buildApp, type BuiltApp, type Platform } from './app.js';
export { resolveConfig, ConfigError, type ServerConfig, type ServeFlags } from './config.js';
export { startServer, runServe, type RunningServer } from './main.js';
export { SERVER_VERSION } from './version.js';
export * from './db/index.js';
export { access, type Access } from './auth/access.js';
export { can, permissionMinRole, roles, type Permission } from './auth/permissions.js';
export { audit, writeAudit, type AuditEntry } from './audit.js';
export { ApiError } from './errors.js';
export { storeAdvisories, storeKnownExploited, rematchAfterImport, rematchWatched, seedBundledAdvisories, type AdvisoryImportResult } from './services/advisories.js';
