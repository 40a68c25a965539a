// PAL-C009: credentials carried inside a URL (user:password@host, or a token in the query string or path).
import type { RuleCases, RuleHit, ServerRule } from '../types.js';
import { argsOf, disabledNote, safeText, serverLabel } from '../helpers.js';
import { isUrlSecretType, redactUrl } from '../../secrets.js';

// URLs below are already redacted, as discovery hands them over (test fixtures).
// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      { name: 'plain https URL', server: { url: 'https://mcp.example.com/mcp' } },
      { name: 'token passed by header reference', server: { url: 'https://mcp.example.com/mcp', headerNames: ['Authorization'] } },
      { name: 'harmless query', server: { url: 'https://mcp.example.com/sse?region=eu' } },
      { name: 'a query value hidden only because it is not plainly harmless', server: { url: 'https://mcp.example.com/sse?workspace=<redacted>', secrets: [] } },
      { name: 'a plain user name without a password', server: { url: 'https://git@mcp.example.com/mcp' } },
    ],
    invalid: [
      { name: 'user and password', server: { url: 'https://<redacted>:<redacted>@mcp.example.com/mcp', secrets: [{ location: 'url', name: 'userinfo', type: 'url-credentials' }] }, evidence: /<redacted>:<redacted>@mcp\.example\.com/, severity: 'high' },
      { name: 'api key in the query', server: { url: 'https://mcp.example.com/sse?api_key=<redacted>', secrets: [{ location: 'url', name: 'query', type: 'generic-secret' }] }, evidence: /api_key=<redacted>/ },
      { name: 'credentials in an mcp-remote argument', server: { command: 'npx', args: ['-y', 'mcp-remote@0.1.29', 'https://<redacted>:<redacted>@mcp.example.com/sse'], secrets: [{ location: 'arg', name: '2', type: 'url-credentials' }] }, evidence: /argument 3/ },
      { name: 'connection string with a password in an argument', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-postgres@0.6.2', 'postgresql://app:<redacted>@db.internal/prod'], secrets: [{ location: 'arg', name: '2', type: 'url-credentials' }] }, evidence: /argument 3 "postgresql:\/\/app:<redacted>@db\.internal\/prod"/ },
      { name: 'token in a URL path, in an argument', server: { command: 'npx', args: ['-y', 'mcp-remote@0.1.29', 'https://mcp.example.com/sse/<redacted:openai-key>/'], secrets: [{ location: 'arg', name: '2', type: 'url-path-secret' }] }, evidence: /argument 3/ },
      { name: 'unredacted user-info is recognised and not echoed', server: { url: 'https://bob:hunter2-test-fixture@mcp.example.com/' }, evidence: /^(?!.*hunter2)/ },
    ],
  };
}

let cases: RuleCases | undefined;

export const credentialsInUrl: ServerRule = {
  meta: {
    id: 'PAL-C009',
    title: 'Credentials inside a URL',
    severity: 'high',
    category: 'config',
    rationale:
      'Credentials inside a URL (https://user:pass@host, ?api_key=..., a token as a path segment) are written to shell history, proxy and server logs, browser history and crash reports, and they leak with every copy of the config.',
    remediation:
      'Rotate the credential, remove it from the URL and send it in an Authorization header whose value is a reference (`${env:TOKEN}`), or use the client\'s OAuth support for remote servers.',
  },
  kind: 'server',
  get cases() {
    return (cases ??= caseTable());
  },
  check(server) {
    const hits: RuleHit[] = [];
    const args = argsOf(server);
    const signals = Array.isArray(server.secrets) ? server.secrets.filter((s) => s && (s.location === 'url' || (s.location === 'arg' && isUrlSecretType(s.type)))) : [];
    // only a URL with user-info, a query or a long path segment can carry a credential
    if (typeof server.url === 'string' && (signals.some((s) => s.location === 'url') || /@|\?|[A-Za-z0-9_-]{20}/.test(server.url))) {
      const r = redactUrl(server.url);
      const kinds = new Set([...signals.filter((s) => s.location === 'url').map((s) => s.type), ...r.found].filter((k) => k !== 'url-query-value'));
      if (kinds.size > 0) {
        hits.push({
          message: `Server ${serverLabel(server)} connects to a URL that carries ${kinds.has('url-credentials') ? 'a user name and password' : 'a secret-looking value'}; it leaks into logs and every copy of this config.${disabledNote(server)}`,
          evidence: safeText(`${r.url} (${[...kinds].sort().join(', ')})`),
        });
      }
    }
    for (const s of signals.filter((x) => x.location === 'arg')) {
      const index = Number(s.name);
      const arg = Number.isInteger(index) ? args[index] : undefined;
      hits.push({
        message: `Server ${serverLabel(server)} passes a URL with credentials as an argument; it leaks into process listings, logs and every copy of this config.${disabledNote(server)}`,
        evidence: safeText(`argument ${Number.isInteger(index) ? index + 1 : s.name}${arg ? ` "${redactUrl(arg).url}"` : ''} (${s.type})`),
      });
    }
    return hits;
  },
};
