// PAL-C006: a server given a whole disk, a whole home folder or a folder of keys and system config.
import type { RuleCases, RuleHit, ServerRule } from '../types.js';
import { argsOf, commandName, disabledNote, safeText, serverLabel } from '../helpers.js';
import { classifyPath } from '../paths.js';

// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      { name: 'a project folder', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/home/alice/projects/app'] } },
      { name: 'a folder under ${HOME}', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '${HOME}/Documents/notes'] } },
      { name: 'Windows project folder', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', 'C:\\Users\\alice\\src\\app'] }, ctx: { platform: 'win32', home: 'C:\\Users\\alice' } },
      { name: 'a flag value that is not a path', server: { command: 'mcp-server', args: ['--mode=/stdio'] } },
    ],
    invalid: [
      { name: 'the root', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/'] }, evidence: /"\/"/, severity: 'high' },
      { name: 'the home via ~', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '~'] }, evidence: /whole home/ },
      { name: 'the home via ${HOME}', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '${HOME}'] }, evidence: /\$\{HOME\}/ },
      { name: 'the literal home path', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/home/alice/'] }, evidence: /whole home/ },
      { name: 'Windows drive root', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', 'C:\\'] }, evidence: /root of a disk/ },
      { name: '%USERPROFILE%', server: { command: 'cmd', args: ['/c', 'npx', '-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '%USERPROFILE%'] }, evidence: /%USERPROFILE%/ },
      { name: '~/.ssh', server: { command: 'uvx', args: ['some-mcp-files==1.0.0', '--allowed-dir=~/.ssh'] }, evidence: /~\/\.ssh/ },
      { name: '$HOME/.aws', server: { command: 'node', args: ['server.js', '$HOME/.aws'] }, evidence: /~\/\.aws/ },
      { name: '/etc', server: { command: 'mcp-files', args: ['/etc'] }, evidence: /\/etc/ },
      { name: 'cwd is the home folder (medium)', server: { command: 'mcp-files', args: [], cwd: '/home/alice' }, severity: 'medium' },
    ],
  };
}

let cases: RuleCases | undefined;

// per argument, made once (a regular expression literal inside a function is a new object every time it runs)
const WINDOWS_SWITCH = /^\/[a-z]$/i;
const FLAG_WITH_VALUE = /^--?[\w-]+=/;

export const broadFilesystemScope: ServerRule = {
  meta: {
    id: 'PAL-C006',
    title: 'Broad or sensitive filesystem scope',
    severity: 'high',
    category: 'config',
    rationale:
      'Folders passed to a server are what its tools may read and write for the model. The root of a disk, a whole home folder, or folders such as ~/.ssh, ~/.aws, ~/.gnupg, ~/.kube or /etc put private keys, cloud credentials and every other project within reach of any prompt injection the model meets.',
    remediation:
      'Pass only the project folders the server needs. Keep key and credential folders out of every MCP server\'s scope. A working directory set to the home folder is reported at medium: set it to the project instead.',
  },
  kind: 'server',
  get cases() {
    return (cases ??= caseTable());
  },
  check(server, ctx) {
    const hits: RuleHit[] = [];
    const seen = new Set<string>();
    const cmd = commandName(server.command);
    argsOf(server).forEach((arg, i) => {
      // `cmd /c` and similar one-letter Windows switches are not paths
      if (cmd === 'cmd' && WINDOWS_SWITCH.test(arg)) return;
      const value = FLAG_WITH_VALUE.test(arg) ? arg.slice(arg.indexOf('=') + 1) : arg;
      const cls = classifyPath(value, ctx);
      if (!cls || seen.has(cls.label)) return;
      seen.add(cls.label);
      hits.push({
        message: `Server ${serverLabel(server)} is given ${cls.kind === 'sensitive' ? `the sensitive location ${cls.label}` : cls.label} as argument ${i + 1}, so its tools can reach far more than one project.${disabledNote(server)}`,
        evidence: safeText(`arg ${i + 1} "${arg}" is ${cls.label}`),
      });
    });
    if (typeof server.cwd === 'string') {
      const cls = classifyPath(server.cwd, ctx);
      if (cls && !seen.has(cls.label)) {
        hits.push({
          message: `Server ${serverLabel(server)} runs with its working directory set to ${cls.label}, so relative paths its tools use resolve there.${disabledNote(server)}`,
          evidence: safeText(`cwd "${server.cwd}" is ${cls.label}`),
          ...(cls.kind === 'home' ? { severity: 'medium' as const } : {}),
        });
      }
    }
    return hits;
  },
};
