// The registry of known AI clients. Adding a client: one file in this folder, one line here,
// fixtures under test/fixtures/<id>/. Order matters only for --config, and only last: when two
// clients explain a file equally well and its name does not tell them apart (configfile.ts).
import { amazonQ } from './amazon-q.js';
import { amp } from './amp.js';
import { antigravity } from './antigravity.js';
import { claudeCode } from './claude-code.js';
import { claudeDesktop } from './claude-desktop.js';
import { cline } from './cline.js';
import { codex } from './codex.js';
import { continueDev } from './continue.js';
import { copilotCli } from './copilot-cli.js';
import { crush } from './crush.js';
import { cursor } from './cursor.js';
import { geminiCli } from './gemini-cli.js';
import { goose } from './goose.js';
import { junie } from './junie.js';
import { kiloCode } from './kilo-code.js';
import { kiro } from './kiro.js';
import { libreChat } from './librechat.js';
import { lmStudio } from './lmstudio.js';
import { openCode } from './opencode.js';
import { qwenCode } from './qwen-code.js';
import { rooCode } from './roo-code.js';
import type { Discoverer } from './types.js';
import { vscode } from './vscode.js';
import { vscodeInsiders } from './vscode-insiders.js';
import { windsurf } from './windsurf.js';
import { zed } from './zed.js';

export const discoverers: readonly Discoverer[] = [
  claudeDesktop,
  claudeCode,
  cursor,
  // before VS Code: both may write "mcp": {"servers": ...}; OpenCode's sniff needs type local/remote
  openCode,
  vscodeInsiders,
  vscode,
  windsurf,
  zed,
  codex,
  antigravity,
  geminiCli,
  // before Roo Code, whose `mcp_settings.json` pattern also matches Kilo's file
  kiloCode,
  rooCode,
  cline,
  continueDev,
  goose,
  lmStudio,
  kiro,
  amazonQ,
  libreChat,
  crush,
  junie,
  copilotCli,
  qwenCode,
  amp,
];

export function findDiscoverer(id: string): Discoverer | undefined {
  return discoverers.find((d) => d.id === id);
}
