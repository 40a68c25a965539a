// @palisade/gateway: one authenticated MCP endpoint in front of many MCP servers, enforcing
// Palisade's policy (risk, pins, hidden text, inputs, limits) at run time.
export { loadConfig, parseConfig, ConfigError, type GatewayConfig, type UpstreamConfig, type VirtualServerConfig } from './config.js';
export { gatewayConfigSchema } from './schema.js';
export { Gateway, GatewayError, type Principal, type Scope } from './gateway.js';
export { GatewayStore } from './store.js';
export { GatewayHttpServer } from './http.js';
export { startGateway, type RunningGateway, type StartOptions } from './run.js';
export { newToken, hashToken, TOKEN_PREFIX } from './auth.js';
export { runGatewayCommand, runGuardCommand, registerGatewayCommands } from './cli.js';
