// PAL-C008: a literal secret (token, key, password) written into the config's env, headers or arguments.
import type { RuleCases, RuleHit, ServerRule } from '../types.js';
import { argsOf, disabledNote, safeText, serverLabel } from '../helpers.js';

// Fixture values below are redacted forms; discovery never hands rules a secret value.
export const cases: RuleCases = {
  valid: [
    { name: 'env given as a reference', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@2025.4.8'], envNames: ['GITHUB_PERSONAL_ACCESS_TOKEN'] } },
    { name: 'no secrets recorded', server: { command: 'uvx', args: ['mcp-server-time==2025.7.1'], secrets: [] } },
    { name: 'URL secrets are PAL-C009', server: { url: 'https://<redacted>:<redacted>@mcp.example.com/', secrets: [{ location: 'url', name: 'userinfo', type: 'url-credentials' }] } },
  ],
  invalid: [
    { name: 'github token in env', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@2025.4.8'], envNames: ['GITHUB_PERSONAL_ACCESS_TOKEN'], secrets: [{ location: 'env', name: 'GITHUB_PERSONAL_ACCESS_TOKEN', type: 'github-token' }] }, evidence: 'env GITHUB_PERSONAL_ACCESS_TOKEN holds a literal github-token', severity: 'high' },
    { name: 'bearer token in a header', server: { url: 'https://mcp.example.com/mcp', headerNames: ['Authorization'], secrets: [{ location: 'header', name: 'Authorization', type: 'bearer-token' }] }, evidence: /header Authorization/ },
    { name: 'api key as an argument', server: { command: 'npx', args: ['-y', 'some-mcp@1.0.0', '--api-key=<redacted:generic-secret>'], secrets: [{ location: 'arg', name: '2', type: 'generic-secret' }] }, evidence: /--api-key=<redacted:generic-secret>/ },
  ],
};

const WHERE: Record<string, string> = { env: 'env', header: 'header', arg: 'argument', url: 'URL' };

export const literalSecret: ServerRule = {
  meta: {
    id: 'PAL-C008',
    title: 'Literal secret in the config',
    severity: 'high',
    category: 'config',
    rationale:
      'MCP config files are plain text that gets copied, synced, backed up, committed to repositories and read by other tools. A token written into env values, headers or arguments leaks with the file, and it cannot be rotated without editing every copy.',
    remediation:
      'Rotate the exposed credential, then reference it instead of writing it: `${VAR}` or `${env:VAR}` from the environment, `${input:id}` prompts in VS Code, or a secret manager (op://, keychain). Palisade never records the value, only its name and kind.',
  },
  kind: 'server',
  cases,
  check(server) {
    const hits: RuleHit[] = [];
    const args = argsOf(server);
    for (const s of Array.isArray(server.secrets) ? server.secrets : []) {
      if (!s || s.location === 'url' || s.type === 'url-credentials') continue; // PAL-C009
      const where = WHERE[s.location] ?? s.location;
      let evidence = `${s.location} ${s.name} holds a literal ${s.type}`;
      if (s.location === 'arg') {
        const index = Number(s.name);
        const arg = Number.isInteger(index) ? args[index] : undefined;
        evidence = arg !== undefined ? `argument ${index + 1} "${arg}" holds a literal ${s.type}` : `the command holds a literal ${s.type}`;
      }
      hits.push({
        message: `Server ${serverLabel(server)} has a literal ${s.type} written into its config (${where} ${s.location === 'arg' ? Number(s.name) + 1 || s.name : s.name}); anyone who can read this file or a copy of it holds the credential.${disabledNote(server)}`,
        evidence: safeText(evidence),
      });
    }
    return hits;
  },
};
