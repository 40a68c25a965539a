// PAL-C010: a remote MCP server reached over plain http:// (not loopback).
import type { RuleCases, RuleHit, ServerRule } from '../types.js';
import { argsOf, disabledNote, safeText, serverLabel } from '../helpers.js';
import { redactUrl } from '../../secrets.js';

// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      { name: 'https', server: { url: 'https://mcp.example.com/mcp' } },
      { name: 'localhost', server: { url: 'http://localhost:3000/mcp' } },
      { name: 'IPv4 loopback', server: { url: 'http://127.0.0.1:8931/sse' } },
      { name: 'IPv6 loopback', server: { url: 'http://[::1]:8080/mcp' } },
      { name: 'loopback via mcp-remote', server: { command: 'npx', args: ['-y', 'mcp-remote@0.1.29', 'http://localhost:9000/sse'] } },
    ],
    invalid: [
      { name: 'remote http', server: { url: 'http://mcp.example.com/mcp' }, evidence: 'http://mcp.example.com/mcp', severity: 'medium' },
      { name: 'private network http', server: { url: 'http://10.0.4.12:8080/sse' }, evidence: /10\.0\.4\.12/ },
      { name: 'http through mcp-remote', server: { command: 'npx', args: ['-y', 'mcp-remote@0.1.29', 'http://mcp.example.com/sse', '--allow-http'] }, evidence: /argument 3/ },
    ],
  };
}

let cases: RuleCases | undefined;

/** Loopback and this-machine names: traffic that never leaves the host. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || /^127(?:\.\d{1,3}){3}$/.test(h) || h === '::1' || h === '0:0:0:0:0:0:0:1' || h === '0.0.0.0' || h === '::' || /^::ffff:127\./.test(h) || /^::ffff:7f/.test(h);
}

function isPrivateHost(h: string): boolean {
  return /^(?:10\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.|169\.254\.)/.test(h) || /^f[cd][0-9a-f]{2}:/i.test(h) || h.endsWith('.local') || h.endsWith('.internal') || h.endsWith('.lan');
}

function plainHttpHost(raw: string): string | undefined {
  if (!/^http:\/\//i.test(raw.trim())) return undefined;
  try {
    const host = new URL(raw.trim()).hostname;
    return isLoopbackHost(host) ? undefined : host;
  } catch {
    return undefined;
  }
}

export const plaintextHttp: ServerRule = {
  meta: {
    id: 'PAL-C010',
    title: 'Remote server over plain HTTP',
    severity: 'medium',
    category: 'config',
    rationale:
      'Over http:// everything between the client and the MCP server (tool calls, results, tokens in headers) can be read and changed by anyone on the network path, including a hostile Wi-Fi. Tool definitions can be rewritten in transit to inject instructions.',
    remediation: 'Use https:// with a valid certificate. Plain http is acceptable only to loopback (localhost, 127.0.0.1, ::1).',
  },
  kind: 'server',
  get cases() {
    return (cases ??= caseTable());
  },
  check(server) {
    const hits: RuleHit[] = [];
    const describe = (host: string) => (isPrivateHost(host) ? `the local-network host ${host}` : `the host ${host}`);
    if (typeof server.url === 'string') {
      const host = plainHttpHost(server.url);
      if (host) hits.push({ message: `Server ${serverLabel(server)} talks to ${describe(host)} over unencrypted http://, so its traffic can be read and altered on the network.${disabledNote(server)}`, evidence: safeText(redactUrl(server.url).url) });
    }
    argsOf(server).forEach((arg, i) => {
      const host = plainHttpHost(arg);
      if (host) hits.push({ message: `Server ${serverLabel(server)} is pointed at ${describe(host)} over unencrypted http:// (argument ${i + 1}), so its traffic can be read and altered on the network.${disabledNote(server)}`, evidence: safeText(`argument ${i + 1} ${redactUrl(arg).url}`) });
    });
    return hits;
  },
};
