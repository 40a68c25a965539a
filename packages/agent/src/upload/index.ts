// Sending scans to a backend: the stored target (configure), one report, the daemon loop, and
// the ordered, bounded spool behind them. `palisade configure|report|daemon` load this entry.
export { reportOnce, runDaemon, parseInterval, jittered, scanOptions, type ReportFlags, type RunContext, type ReportOnceResult, type DaemonOptions } from './run.js';
export { checkApiKey, checkServerUrl, saveTarget, loadStoredTarget, resolveTarget, agentConfigFile, UploadConfigError, type UploadTarget } from './target.js';
export { deliverReport, forgetProtocolMemo, OFFER_PATH, REPORT_V2_PATH, type Delivery, type DeliverOptions } from './v2.js';
export { sendReport, REPORT_PATH, type SendOutcome } from './send.js';
