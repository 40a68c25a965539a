// PAL-C008: a literal secret (token, key, password) written into the config's env, headers or arguments.
import type { RuleCases, RuleHit, ServerRule } from '../types.js';
import { argsOf, disabledNote, safeText, serverLabel } from '../helpers.js';
import { isUrlSecretType } from '../../secrets.js';

// Server fixtures below are redacted forms; discovery never hands rules a secret value.
// Cases with `env` / `headers` give values as a config writes them: they are classified the
// way discovery classifies them (name, shape and entropy together) and then dropped. Every
// value is a made-up fixture.
// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      { name: 'env given as a reference', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@2025.4.8'], envNames: ['GITHUB_PERSONAL_ACCESS_TOKEN'] } },
      { name: 'no secrets recorded', server: { command: 'uvx', args: ['mcp-server-time==2025.7.1'], secrets: [] } },
      { name: 'URL secrets are PAL-C009', server: { url: 'https://<redacted>:<redacted>@mcp.example.com/', secrets: [{ location: 'url', name: 'userinfo', type: 'url-credentials' }] } },
      { name: 'connection string in an argument is PAL-C009', server: { command: 'npx', args: ['-y', 'pg-mcp@1.0.0', 'postgresql://app:<redacted>@db/prod'], secrets: [{ location: 'arg', name: '2', type: 'url-credentials' }] } },
      // references
      { name: 'reference ${VAR}', env: { GITHUB_TOKEN: '${GITHUB_TOKEN}' } },
      { name: 'reference ${input:token}', env: { API_TOKEN: '${input:token}' } },
      { name: 'reference ${env:VAR} in a header', headers: { Authorization: 'Bearer ${env:MCP_TOKEN}' } },
      { name: 'reference {env:VAR} (OpenCode)', env: { OPENAI_API_KEY: '{env:OPENAI_API_KEY}' } },
      { name: 'reference op:// (1Password)', env: { DB_PASSWORD: 'op://vault/db/password' } },
      // placeholders
      { name: 'placeholder {secret}', env: { CLIENT_SECRET: '{secret}' } },
      { name: 'placeholder <YOUR_TOKEN>', env: { API_TOKEN: '<YOUR_TOKEN>' } },
      { name: 'placeholder sk-your-api-key', env: { OPENAI_API_KEY: 'sk-your-api-key' } },
      { name: 'placeholder sk-your-openai-api-key-here', env: { OPENAI_API_KEY: 'sk-your-openai-api-key-here' } },
      { name: 'placeholder xxx', env: { API_KEY: 'xxx' } },
      { name: 'placeholder changeme', env: { DB_PASSWORD: 'changeme' } },
      { name: 'placeholder YOUR_API_KEY_HERE', env: { BRAVE_API_KEY: 'YOUR_API_KEY_HERE' } },
      // URLs, paths, hosts
      { name: 'URL under a token-ish name', env: { AUTH_TOKEN_URL: 'https://auth.example.com/oauth/token' } },
      { name: 'URL without credentials under a secret name', env: { API_KEY: 'https://vault.example.com/v1/secret/api' } },
      { name: 'database URL without a password', env: { DATABASE_URL: 'postgresql://db.internal:5432/prod' } },
      { name: 'file path to a key', env: { GOOGLE_APPLICATION_CREDENTIALS: '/home/alice/.config/gcloud/service-account.json' } },
      { name: 'Windows path under a secret name', env: { SSH_PRIVATE_KEY: 'C:\\Users\\alice\\.ssh\\id_ed25519' } },
      { name: 'key file name', env: { TLS_KEY: 'server.key' } },
      { name: 'host name', env: { REDIS_HOST: 'cache.internal.example.com', SECRET_HOST: 'vault.example.com' } },
      { name: 'host name under a secret name', env: { PASSWORD: 'db.internal.example.com:5432' } },
      // model names, booleans, numbers, emails, ids
      { name: 'model name', env: { OPENAI_MODEL: 'gpt-4o-mini', ANTHROPIC_MODEL: 'claude-3-5-sonnet-20241022' } },
      { name: 'model name under a token-ish name', env: { TOKENIZER: 'llama3.1:8b' } },
      { name: 'boolean', env: { GITHUB_TOKEN_ENABLED: 'true', USE_AUTH: 'false', AUTH: 'true' } },
      { name: 'number', env: { MAX_TOKENS: '4096', TOKEN_TTL: '3600', SECRET: '42' } },
      { name: 'email', env: { AUTH_USER: 'alice@example.com', SMTP_PASSWORD: 'alice@example.com' } },
      { name: 'ids and names that describe a secret', env: { NOTION_DATABASE_ID: '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d', AWS_SECRET_NAME: 'prod/app/db', API_KEY_HEADER: 'X-Api-Key' } },
      { name: 'plain words under neutral names', env: { LOG_LEVEL: 'debug', REGION: 'eu-west-1', WORKSPACE: 'acme-marketing-team-2024' } },
    ],
    invalid: [
      { name: 'github token in env', server: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@2025.4.8'], envNames: ['GITHUB_PERSONAL_ACCESS_TOKEN'], secrets: [{ location: 'env', name: 'GITHUB_PERSONAL_ACCESS_TOKEN', type: 'github-token' }] }, evidence: 'env GITHUB_PERSONAL_ACCESS_TOKEN holds a literal github-token', severity: 'high' },
      { name: 'bearer token in a header', server: { url: 'https://mcp.example.com/mcp', headerNames: ['Authorization'], secrets: [{ location: 'header', name: 'Authorization', type: 'bearer-token' }] }, evidence: /header Authorization/ },
      { name: 'api key as an argument', server: { command: 'npx', args: ['-y', 'some-mcp@1.0.0', '--api-key=<redacted:generic-secret>'], secrets: [{ location: 'arg', name: '2', type: 'generic-secret' }] }, evidence: /argument 3 "--api-key=<redacted:generic-secret>"/ },
      { name: 'password under a password name, low entropy', env: { DB_PASSWORD: 'hunter2' }, evidence: 'env DB_PASSWORD holds a literal generic-secret' },
      { name: 'literal under an api key name', env: { BRAVE_API_KEY: 'BSAfixture0123456789abcdef' }, evidence: /env BRAVE_API_KEY/ },
      { name: 'literal under a weak name (KEY) that is not a plain word', env: { STRIPE_KEY: 'fixture42Key' }, evidence: /env STRIPE_KEY/ },
      { name: 'random value under a neutral name (entropy)', env: { CONFIG_BLOB: 'Zx9Qw8Er7Ty6Ui5Op4As3Df2' }, evidence: /high-entropy-string/ },
      { name: 'bearer literal in a header', headers: { Authorization: 'Bearer fixture0123456789abcdef' }, evidence: /header Authorization holds a literal/ },
      { name: 'api key header', headers: { 'X-Api-Key': 'fixtureKey0123' }, evidence: /header X-Api-Key/ },
      { name: 'DSN with a password in env', env: { PG_CONN: 'host=db user=app password=fixtureP4ss dbname=prod' }, evidence: /env PG_CONN/ },
      { name: 'database URL with a password in env', env: { DATABASE_URL: 'postgresql://app:fixtureP4ss@db.internal/prod' }, evidence: /env DATABASE_URL holds a literal url-credentials/ },
      { name: 'long digit string under a password name', env: { ADMIN_PIN_PASSWORD: '7391046285' }, evidence: /ADMIN_PIN_PASSWORD/ },
    ],
  };
}

let cases: RuleCases | undefined;

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
  get cases() {
    return (cases ??= caseTable());
  },
  check(server) {
    const hits: RuleHit[] = [];
    const args = argsOf(server);
    for (const s of Array.isArray(server.secrets) ? server.secrets : []) {
      if (!s || s.location === 'url' || (s.location === 'arg' && isUrlSecretType(s.type)) || s.type === 'url-query-value') continue; // PAL-C009
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
