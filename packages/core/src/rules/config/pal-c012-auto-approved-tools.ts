// PAL-C012: tools approved in advance, so the model calls them without asking the person.
import type { RuleCases, ServerRule } from '../types.js';
import { disabledNote, safeText, serverLabel } from '../helpers.js';

// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      { name: 'no auto-approve', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory@2025.4.25'] } },
      { name: 'empty list', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory@2025.4.25'], autoApprove: [] } },
    ],
    invalid: [
      { name: 'some tools', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/home/alice/src'], autoApprove: ['read_file', 'list_directory'] }, evidence: /read_file, list_directory/, severity: 'medium' },
      { name: 'every tool', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/home/alice/src'], autoApprove: ['*'] }, severity: 'high' },
      { name: 'a command-running tool', server: { command: 'npx', args: ['-y', '@wonderwhy-er/desktop-commander@0.2.3'], autoApprove: ['execute_command'] }, severity: 'high', evidence: /execute_command/ },
    ],
  };
}

let cases: RuleCases | undefined;

const ALL = /^(?:\*|all|true)$/i;
// Names of tools that run code or change things: approving these unseen is worse.
const RISKY_TOOL = /(?:^|[_-])(?:exec|execute|run|shell|command|cmd|terminal|eval|script|write|delete|remove|rm|push|send|post|deploy|kill)(?:$|[_-])/i;

export const autoApprovedTools: ServerRule = {
  meta: {
    id: 'PAL-C012',
    title: 'Tools auto-approved without confirmation',
    severity: 'medium',
    category: 'config',
    rationale:
      'The confirmation prompt is the person\'s last chance to notice that a prompt injection is steering the model. Auto-approved tools (autoApprove, alwaysAllow, trust settings) run without it. Approving every tool ("*"), or tools that run commands, write, delete or send, is reported as high.',
    remediation: 'Remove the auto-approve entries, or limit them to read-only tools whose output cannot leave the machine. Never auto-approve "*".',
  },
  kind: 'server',
  get cases() {
    return (cases ??= caseTable());
  },
  check(server) {
    const list = (Array.isArray(server.autoApprove) ? server.autoApprove : []).filter((t): t is string => typeof t === 'string' && t.length > 0);
    if (list.length === 0) return [];
    const all = list.some((t) => ALL.test(t));
    const risky = list.filter((t) => RISKY_TOOL.test(t));
    const message = all
      ? `Server ${serverLabel(server)} auto-approves every tool, so the model can call any of them without the person ever confirming.`
      : `Server ${serverLabel(server)} auto-approves ${list.length} tool${list.length === 1 ? '' : 's'}${risky.length ? `, including ${risky.slice(0, 5).join(', ')} which can change things or run commands` : ''}, so the model calls ${list.length === 1 ? 'it' : 'them'} without the person confirming.`;
    return [{ message: message + disabledNote(server), evidence: safeText(`auto-approved: ${list.slice(0, 20).join(', ')}${list.length > 20 ? ', ...' : ''}`), ...(all || risky.length ? { severity: 'high' as const } : {}) }];
  },
};
