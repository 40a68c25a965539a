// @palisade/mcp: Palisade talking MCP as a client. Start stdio servers in their own process
// group (the tree is killed on close, stderr kept as a bounded tail), connect over SSE and
// Streamable HTTP, list tools, prompts and resources within a deadline. The agent's probe
// and the gateway's upstream side use it; nothing else spawns or connects to MCP servers.
export { connectServer, closeSession, sessionPid, listEverything, describeConnectError, isTimeoutError, McpUserError, type ServerTarget, type ClientInfo, type McpSession, type ConnectOptions, type Listed } from './client.js';
export { CallCancel, signalOf, type CancelWatcher } from './cancel.js';
export { createStdioTransport, ProcessGroupStdioTransport, type StdioParams, type StdioServerTransport } from './stdio.js';
export { childEnvironment, expandReferences, expandRecord, type ExpandContext } from './env.js';
export { toTool, truncate, schemaText, boundAnnotations, type ListedTool } from './tools.js';
export { UpstreamClient, plainToolResult, type UpstreamTarget, type UpstreamOptions, type ListKind, type CallOptions } from './upstream.js';
export { checkUrl, resolveChecked, guardedFetch, blockedAddressReason, SsrfError, type Resolver, type AddressPolicy, type GuardOptions } from './ssrf.js';
