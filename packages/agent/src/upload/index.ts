// Sending scans to a backend: the stored target (configure), one report, the daemon loop, and
// the ordered, bounded spool behind them. `palisade configure|report|daemon` load this entry.
export { reportOnce, runDaemon, parseInterval, jittered, scanOptions, type ReportFlags, type RunContext, type ReportOnceResult, type DaemonOptions } from './run.js';
export { checkApiKey, checkServerUrl, saveTarget, loadStoredTarget, resolveTarget, agentConfigFile, UploadConfigError, type UploadTarget } from './target.js';
