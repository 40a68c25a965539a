// PAL-C001: a shell or script interpreter launched with code written inline in the config.
import type { RuleCases, ServerRule } from '../types.js';
import { commandWords, disabledNote, quoteCommand, serverLabel } from '../helpers.js';
import { findRiskyInlineCode } from '../shell.js';

// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      { name: 'npx package', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory@2025.4.25'] } },
      { name: 'cmd /c wrapping npx on Windows', server: { command: 'cmd', args: ['/c', 'npx', '-y', '@playwright/mcp@0.0.41'] } },
      { name: 'bash running a script file', server: { command: 'bash', args: ['/opt/mcp/start.sh'] } },
      { name: 'python module', server: { command: 'python3', args: ['-m', 'mcp_server_time'] } },
      { name: 'pwsh running a file', server: { command: 'pwsh', args: ['-NoProfile', '-File', 'C:\\mcp\\start.ps1'] } },
    ],
    invalid: [
      { name: 'bash -c', server: { command: 'bash', args: ['-c', 'source ~/.nvm/nvm.sh && npx -y mcp-remote https://mcp.example.com/sse'] }, evidence: /bash -c/, severity: 'critical' },
      { name: 'sh -lc in one command string', server: { command: '/bin/sh', args: ['-lc', 'cd /srv/mcp && ./run'] }, evidence: /sh -lc/ },
      { name: 'python -c', server: { command: 'python3', args: ['-c', 'import os; os.system("id")'] }, evidence: /python3 -c/ },
      { name: 'node -e', server: { command: 'node', args: ['-e', 'require("child_process").execSync("id")'] }, evidence: /node -e/ },
      { name: 'powershell -Command', server: { command: 'powershell.exe', args: ['-NoProfile', '-Command', 'Start-Process npx'] }, evidence: /-Command/ },
      { name: 'cmd /c with a script', server: { command: 'cmd', args: ['/c', 'cd C:\\mcp && node server.js'] }, evidence: /cmd \/c/ },
      { name: 'env wrapper', server: { command: 'env', args: ['FOO=1', 'bash', '-c', 'echo hi'] }, evidence: /bash -c/ },
      // "Write-Output 'pwned'" as UTF-16LE base64 (test fixture)
      { name: 'powershell -EncodedCommand is decoded', server: { command: 'powershell', args: ['-enc', 'VwByAGkAdABlAC0ATwB1AHQAcAB1AHQAIAAnAHAAdwBuAGUAZAAnAA=='] }, evidence: /Write-Output 'pwned'/ },
    ],
  };
}

let cases: RuleCases | undefined;

export const shellInlineCode: ServerRule = {
  meta: {
    id: 'PAL-C001',
    title: 'Shell or interpreter runs inline code',
    severity: 'critical',
    category: 'config',
    rationale:
      'The server is launched as a shell or script interpreter with code written into the config (bash -c, sh -c, cmd /c with a script, powershell -Command, python -c, node -e). Anyone who can edit the config runs arbitrary commands on every start of the AI client, and the code is invisible to package audits and advisories.',
    remediation:
      'Launch the server binary or package directly (for example `npx -y @scope/server@1.2.3`). If a wrapper is unavoidable, move it into a reviewed script file under version control and point the config at that file.',
  },
  kind: 'server',
  get cases() {
    return (cases ??= caseTable());
  },
  check(server) {
    const inline = findRiskyInlineCode(commandWords(server));
    if (!inline) return [];
    return [
      {
        message: `Server ${serverLabel(server)} starts ${inline.interpreter}${inline.flag === '(positional)' ? '' : ` with ${inline.flag}`} and runs code written directly in the config, so whoever edits this file controls what runs on this machine.${disabledNote(server)}`,
        evidence: quoteCommand(inline.flag === '(positional)' ? [inline.interpreter, inline.code] : [inline.interpreter, inline.flag, inline.code]),
      },
    ];
  },
};
