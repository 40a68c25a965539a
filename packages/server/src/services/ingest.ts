// The ingest service, by stage (services/ingest/): validate -> normalise -> diff against the
// last state -> write -> alerts and webhooks -> aggregates; the inbox and its queue accept a
// report first and process it after the answer. This module is the service's public face.
export type { IngestOptions, IngestResult } from './ingest/types.js';
export { rawReportKey, bodyHash } from './ingest/validate.js';
export { ingestReport, ingestReportText, withRetry } from './ingest/pipeline.js';
export { ingestUnchangedBody } from './ingest/touch.js';
export { TOOL_MEMO_SERVERS } from './ingest/state.js';
export { refreshServerAggregates, writeDailySnapshot, dailySnapshotsFor } from './ingest/aggregates.js';
