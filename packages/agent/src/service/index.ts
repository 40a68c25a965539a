// The agent as an operating-system service (`palisade agent install|uninstall|status|run`).
export * from './files.js';
export * from './plan.js';
export { fileLog, runService, serviceTarget, userHomes, type ServiceRunOptions, type RoundResult } from './run.js';
