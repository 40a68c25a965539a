// Qwen Code (github.com/QwenLM/qwen-code, a Gemini CLI fork, docs "MCP servers"):
// ~/.qwen/settings.json and <project>/.qwen/settings.json, `mcpServers` read as Gemini CLI
// reads them (`url` is SSE, `httpUrl` streamable HTTP, `trust` skips confirmations).
import { parseJsonc } from '../formats/index.js';
import { pathEndsWith, requireObject } from './common.js';
import { parseGeminiServers } from './gemini-cli.js';
import type { Discoverer } from './types.js';

export const qwenCode: Discoverer = {
  id: 'qwen-code',
  name: 'Qwen Code',
  locations(loc) {
    return [{ path: loc.join(loc.home, '.qwen', 'settings.json'), scope: 'user' }];
  },
  projectFiles: ['.qwen/settings.json'],
  parse: (text) => parseGeminiServers(requireObject(parseJsonc(text)).mcpServers),
  matchesPath: (p) => pathEndsWith(p, '/.qwen/settings.json'),
};
