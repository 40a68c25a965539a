// PAL-C011: TLS certificate verification switched off (NODE_TLS_REJECT_UNAUTHORIZED=0, --insecure, ...).
import type { RuleCases, ServerRule } from '../types.js';
import { argsOf, disabledNote, safeText, serverLabel } from '../helpers.js';
import { argsDisableTls, TLS_ENV_NAMES } from '../../secrets.js';

// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      { name: 'TLS variable present but not disabling', server: { command: 'node', args: ['server.js'], envNames: ['NODE_TLS_REJECT_UNAUTHORIZED'] } },
      { name: 'nothing about TLS', server: { url: 'https://mcp.example.com/mcp' } },
      { name: 'switches set to their safe values', env: { NODE_TLS_REJECT_UNAUTHORIZED: '1', PYTHONHTTPSVERIFY: '1', OAUTHLIB_INSECURE_TRANSPORT: '0', GIT_SSL_NO_VERIFY: 'false' }, server: { command: 'node', args: ['server.js'] } },
    ],
    invalid: [
      { name: 'NODE_TLS_REJECT_UNAUTHORIZED=0', server: { command: 'npx', args: ['-y', 'mcp-remote@0.1.29', 'https://mcp.internal.example/sse'], envNames: ['NODE_TLS_REJECT_UNAUTHORIZED'], tlsVerifyDisabled: true }, evidence: /NODE_TLS_REJECT_UNAUTHORIZED/, severity: 'medium' },
      { name: '--insecure flag', server: { command: 'some-mcp-proxy', args: ['--insecure', 'https://mcp.example.com'] }, evidence: /--insecure/ },
      { name: 'flag recorded by discovery only', server: { url: 'https://mcp.example.com/mcp', tlsVerifyDisabled: true }, evidence: /verification/ },
      { name: 'NODE_TLS_REJECT_UNAUTHORIZED=0 as an env value', env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' }, server: { command: 'node', args: ['server.js'] }, evidence: /env NODE_TLS_REJECT_UNAUTHORIZED/ },
      { name: 'OAUTHLIB_INSECURE_TRANSPORT=1', env: { OAUTHLIB_INSECURE_TRANSPORT: '1' }, server: { command: 'uvx', args: ['mcp-server-example==1.0.0'] }, evidence: /env OAUTHLIB_INSECURE_TRANSPORT/ },
      { name: 'PYTHONHTTPSVERIFY=0', env: { PYTHONHTTPSVERIFY: '0' }, server: { command: 'python', args: ['-m', 'example_mcp'] }, evidence: /env PYTHONHTTPSVERIFY/ },
      { name: 'GIT_SSL_NO_VERIFY set', env: { GIT_SSL_NO_VERIFY: 'true' }, server: { command: 'uvx', args: ['mcp-server-git==2025.7.1'] }, evidence: /env GIT_SSL_NO_VERIFY/ },
      { name: 'env switch passed as an argument (docker -e)', server: { command: 'docker', args: ['run', '-i', '-e', 'NODE_TLS_REJECT_UNAUTHORIZED=0', 'mcp/fetch:1.0.3'] }, evidence: /NODE_TLS_REJECT_UNAUTHORIZED=0/ },
    ],
  };
}

let cases: RuleCases | undefined;

const TLS_ENV = new Set(TLS_ENV_NAMES);

export const tlsVerificationDisabled: ServerRule = {
  meta: {
    id: 'PAL-C011',
    title: 'TLS certificate verification disabled',
    severity: 'medium',
    category: 'config',
    rationale:
      'With certificate checks off, anyone on the network path can impersonate the MCP server or the APIs it calls, read the traffic and the tokens in it, and feed the model altered tool definitions and results.',
    remediation:
      'Remove NODE_TLS_REJECT_UNAUTHORIZED=0, PYTHONHTTPSVERIFY=0, GIT_SSL_NO_VERIFY, OAUTHLIB_INSECURE_TRANSPORT=1 (OAuth over plain http), --insecure and similar settings. For a private certificate authority, trust it explicitly (NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE pointing at the CA file).',
  },
  kind: 'server',
  get cases() {
    return (cases ??= caseTable());
  },
  check(server) {
    const args = argsOf(server);
    const flags = args.filter((a) => argsDisableTls([a]));
    if (!server.tlsVerifyDisabled && flags.length === 0) return [];
    const envs = (Array.isArray(server.envNames) ? server.envNames : []).filter((n) => typeof n === 'string' && TLS_ENV.has(n.toUpperCase()));
    const where = [...envs.map((e) => `env ${e}`), ...flags.map((f) => `argument ${f}`)];
    return [
      {
        message: `Server ${serverLabel(server)} turns TLS certificate verification off, so its connections can be intercepted without warning.${disabledNote(server)}`,
        evidence: safeText(where.length ? `set by ${where.join(', ')}` : 'TLS verification disabled in the config'),
      },
    ];
  },
};
