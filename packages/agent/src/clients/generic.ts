// The fallback for --config files that no client claims by path or shape but that hold the
// common `mcpServers` map. Not in the registry: it has no locations of its own.
import { parseMcpServersJson } from './common.js';
import type { Discoverer } from './types.js';

export const genericMcpJson: Discoverer = {
  id: 'mcp-config',
  name: 'MCP config file',
  locations: () => [],
  parse: (text) => parseMcpServersJson(text),
};
