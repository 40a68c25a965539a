// PAL-C007: a server started with elevated privileges (sudo, doas, pkexec, runas, gsudo).
import type { RuleCases, ServerRule } from '../types.js';
import { commandName, commandWords, disabledNote, quoteCommand, safeText, serverLabel, unwrapCommand } from '../helpers.js';
import { findInlineCode } from '../shell.js';

// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      { name: 'ordinary command', server: { command: 'npx', args: ['-y', 'mcp-remote@0.1.29', 'https://mcp.example.com/sse'] } },
      { name: 'the word sudo inside an argument', server: { command: 'mcp-docs', args: ['--topic', 'sudoers-manual'] } },
      { name: 'a script mentioning pseudo', server: { command: 'bash', args: ['-c', 'echo pseudo-terminal'] } },
    ],
    invalid: [
      { name: 'sudo', server: { command: 'sudo', args: ['-E', 'node', '/opt/mcp/server.js'] }, evidence: /sudo -E node/, severity: 'high' },
      { name: 'doas', server: { command: '/usr/bin/doas', args: ['mcp-server'] }, evidence: /doas/ },
      { name: 'sudo inside bash -c', server: { command: 'bash', args: ['-c', 'sudo docker run -i mcp/tool:1.0.0'] }, evidence: /sudo docker/ },
      { name: 'runas on Windows', server: { command: 'runas', args: ['/user:Administrator', 'C:\\mcp\\server.exe'] }, evidence: /runas/ },
      { name: 'Start-Process -Verb RunAs', server: { command: 'powershell', args: ['-Command', 'Start-Process node -Verb RunAs'] }, evidence: /-Verb RunAs/ },
    ],
  };
}

let cases: RuleCases | undefined;

const ELEVATORS = new Set(['sudo', 'doas', 'pkexec', 'gsudo', 'runas', 'su']);
const ELEVATION_IN_CODE = /(?:^|[;&|(`\s])(?:sudo|doas|pkexec|gsudo|su\s+-c)\s+\S+[^;&|]*|-Verb\s+RunAs\b/i;

export const elevatedPrivileges: ServerRule = {
  meta: {
    id: 'PAL-C007',
    title: 'Server runs with elevated privileges',
    severity: 'high',
    category: 'config',
    rationale:
      'An MCP server acts on instructions that come from a model, and a model can be steered by any text it reads. Running the server as root or Administrator (sudo, doas, pkexec, runas) turns every prompt injection into full control of the machine.',
    remediation:
      'Run the server as the ordinary user. If it needs one privileged operation, give it that narrow permission (group membership, a specific sudoers rule for a reviewed script) instead of running the whole server elevated.',
  },
  kind: 'server',
  get cases() {
    return (cases ??= caseTable());
  },
  check(server) {
    const words = unwrapCommand(commandWords(server));
    if (words.length && ELEVATORS.has(commandName(words[0]))) {
      return [{ message: `Server ${serverLabel(server)} is started through ${commandName(words[0])}, so it runs with administrator rights.${disabledNote(server)}`, evidence: quoteCommand(words.slice(0, 6)) }];
    }
    const inline = findInlineCode(words);
    const m = inline ? ELEVATION_IN_CODE.exec(inline.code) : null;
    if (m) return [{ message: `Server ${serverLabel(server)} runs inline ${inline!.interpreter} code that elevates to administrator rights.${disabledNote(server)}`, evidence: safeText(m[0].trim()) }];
    return [];
  },
};
