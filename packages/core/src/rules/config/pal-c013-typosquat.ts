// PAL-C013: a package whose name imitates a well-known MCP package (lookalike letters, confused scope, a typo).
import type { RuleCases, ServerRule } from '../types.js';
import { disabledNote, packageOf, safeText, serverLabel } from '../helpers.js';
import { findTyposquat } from '../../typosquat.js';

// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      { name: 'the real package', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@2025.4.8'] } },
      { name: 'a new package in the official scope', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-gitea@1.0.0'] } },
      { name: 'an unrelated package', server: { command: 'npx', args: ['-y', '@acme/inventory-mcp@2.1.0'] } },
      { name: 'PyPI spelling variant of the same name', server: { command: 'uvx', args: ['mcp_server_fetch==2025.4.7'] } },
    ],
    invalid: [
      { name: 'Cyrillic letter in the name', server: { command: 'npx', args: ['-y', 'mcp-rem\u043ete@0.1.29'] }, evidence: /U\+043E/, severity: 'high' },
      { name: 'capital I for l in the scope', server: { command: 'npx', args: ['-y', '@modelcontextprotocoI/server-filesystem@2025.8.21', '/tmp'] }, evidence: /@modelcontextprotocol\/server-filesystem/ },
      { name: 'scope misspelt', server: { command: 'npx', args: ['-y', '@modelcontextprotcol/server-github'] }, evidence: /scope/ },
      { name: 'scope dropped', server: { command: 'npx', args: ['-y', 'server-filesystem@1.0.0'] }, evidence: /server-filesystem/ },
      { name: 'one letter swapped', server: { command: 'npx', args: ['-y', 'mcp-remtoe@0.1.29'] }, evidence: /mcp-remote/ },
      { name: 'PyPI typo', server: { command: 'uvx', args: ['mcp-server-fecth'] }, evidence: /mcp-server-fetch/ },
    ],
  };
}

let cases: RuleCases | undefined;

/** Show non-ASCII characters as code points so lookalikes are visible in evidence. */
function showLookalikes(name: string): string {
  return Array.from(name, (c) => (c.codePointAt(0)! > 0x7e ? `[U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]` : c)).join('');
}

const HOW = { homoglyph: 'differs only by lookalike characters from', 'scope-confusion': 'copies the name but not the npm scope of' } as const;

export const typosquat: ServerRule = {
  meta: {
    id: 'PAL-C013',
    title: 'Possible typosquat of a well-known MCP package',
    severity: 'high',
    category: 'config',
    rationale:
      'Attackers publish packages whose names look like popular MCP servers (a Cyrillic letter, a misspelt scope, one swapped character) and wait for people to copy the wrong name. The impostor runs with the same access the real server would get, often while forwarding to the real one.',
    remediation:
      'Compare the name letter by letter with the official README or registry page; replace it with the real package at a pinned version, and check the machine for what the impostor could reach (tokens in its env, folders in its scope).',
  },
  kind: 'server',
  get cases() {
    return (cases ??= caseTable());
  },
  check(server) {
    const pkg = packageOf(server);
    if (!pkg || (pkg.ecosystem !== 'npm' && pkg.ecosystem !== 'PyPI')) return [];
    const match = findTyposquat(pkg.name, pkg.ecosystem);
    if (!match) return [];
    const how = match.kind === 'edit-distance' ? `is ${match.distance} edit${match.distance === 1 ? '' : 's'} away from` : HOW[match.kind];
    return [
      {
        message: `Server ${serverLabel(server)} runs the ${pkg.ecosystem} package "${showLookalikes(pkg.name)}", which ${how} the well-known package "${match.target}". It may be an impostor.${disabledNote(server)}`,
        evidence: safeText(`${showLookalikes(pkg.name)} ~ ${match.target} (${match.kind === 'scope-confusion' ? 'scope confusion' : match.kind})`),
      },
    ];
  },
};
