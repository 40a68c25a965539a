// @palisade/cli: the `palisade` command. Only what `scan` needs is loaded up front; the
// agent's upload and probe code, the backend and the gateway load when their command runs.
export { main, buildProgram, runScan, outputFormat, useColor, worstLevel, UsageError, type ScanFlags } from './cli.js';
export { render, type OutputFormat } from './output/index.js';
