// The "What is redacted, and how" section of docs/agent-data.md. Every example row is run
// through the real redaction functions when the page is generated, so the page shows what
// Palisade does, not what someone remembered it doing. Values are made-up fixtures.
import { classifyValue, redactArgs, redactUrl } from './secrets.js';

interface ArgExample {
  what: string;
  command?: string;
  args: string[];
}

// Made-up values (test fixtures), shaped like what configs hold.
const ARG_EXAMPLES: ArgExample[] = [
  { what: 'secret-named flag with `=`', args: ['--token=Fx7kQ2mZ9pLw'] },
  { what: 'secret-named flag, value next', args: ['--api-key', 'Fx7kQ2mZ9pLw'] },
  { what: '`--key`, `--secret`, `--client-secret`, `--password`', args: ['--client-secret', 'Fx7kQ2mZ9pLw'] },
  { what: 'database client password (`mysql`, `mariadb`, `mongosh` `-p`; `redis-cli -a`)', command: 'mysql', args: ['-u', 'root', '-pFx7kQ2mZ9pLw'] },
  { what: 'header given to a flag', args: ['--header', 'Authorization: Bearer Fx7kQ2mZ9pLw'] },
  { what: 'API key header', args: ['-H', 'X-Api-Key: Fx7kQ2mZ9pLw'] },
  { what: 'connection string with user-info (any scheme)', args: ['postgresql://app:Fx7kQ2mZ9pLw@db.internal:5432/prod'] },
  { what: 'password-only user-info', args: ['redis://:Fx7kQ2mZ9pLw@cache:6379/0'] },
  { what: 'libpq DSN', args: ['password=Fx7kQ2mZ9pLw host=db.internal dbname=prod'] },
  { what: 'ADO connection string', args: ['Server=sql.internal;User Id=sa;Password=Fx7kQ2mZ9pLw;Encrypt=true'] },
  { what: 'PostgreSQL password-file line', args: ['db.internal:5432:prod:app:Fx7kQ2mZ9pLw'] },
  { what: 'JSON document as one argument', args: ['{"apiKey":"Fx7kQ2mZ9pLw","region":"eu"}'] },
  { what: 'token in a URL path', args: ['https://mcp.example.com/sse/sk-Fx7kQ2mZ9pLwFx7kQ2mZ9pLw/'] },
  { what: 'secret query value (names kept)', args: ['https://mcp.example.com/mcp?access_token=Fx7kQ2mZ9pLw&region=eu'] },
  { what: 'known token shape anywhere (GitHub, Slack, OpenAI, Anthropic, AWS, Stripe, JWT, private key ...)', args: ['--gh', 'ghp_Fx7kQ2mZ9pLwFx7kQ2mZ9pLwFx7kQ2mZ9pLw'] },
  { what: 'KEY=value passed as an argument (`docker -e`, `env`)', args: ['-e', 'GITHUB_TOKEN=Fx7kQ2mZ9pLw'] },
  { what: 'words of a shell string', command: 'bash', args: ['-c', 'mysql -pFx7kQ2mZ9pLw shop'] },
  { what: 'not a secret: reference, placeholder, path, model', args: ['--token', '${GITHUB_TOKEN}', '--api-key', '<YOUR_API_KEY>', '--private-key', '~/.ssh/id_ed25519', '--model', 'gpt-4o'] },
];

const VALUE_EXAMPLES: Array<[string, string]> = [
  ['GITHUB_TOKEN', '${GITHUB_TOKEN}'],
  ['API_TOKEN', '${input:token}'],
  ['OPENAI_API_KEY', 'sk-your-api-key'],
  ['API_KEY', '<YOUR_TOKEN>'],
  ['DB_PASSWORD', 'changeme'],
  ['AUTH_TOKEN_URL', 'https://auth.example.com/token'],
  ['GOOGLE_APPLICATION_CREDENTIALS', '/home/alice/sa.json'],
  ['OPENAI_MODEL', 'gpt-4o-mini'],
  ['MAX_TOKENS', '4096'],
  ['AUTH_USER', 'alice@example.com'],
  ['NOTION_DATABASE_ID', '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d'],
  ['DB_PASSWORD', 'hunter2'],
  ['STRIPE_KEY', 'fixture42Key'],
  ['CONFIG_BLOB', 'Zx9Qw8Er7Ty6Ui5Op4As3Df2'],
  ['DATABASE_URL', 'postgresql://app:Fx7kQ2mZ9pLw@db/prod'],
];

const code = (s: string): string => '`' + s.replace(/`/g, "'").replace(/\|/g, '\\|').replace(/\n/g, ' ') + '`';

/** Markdown for the redaction section, computed with the real functions. */
export function redactionDocMarkdown(): string {
  const out: string[] = [
    '## What is redacted, and how',
    '',
    'Generated from `packages/core/src/redaction-doc.ts`: every example below was run through',
    'the real functions when this page was written (the values are made-up fixtures).',
    '',
    '**Env and header values are never sent.** They are classified in memory and dropped; what',
    'leaves the machine is the variable or header name, a signal such as `env GITHUB_TOKEN holds',
    'a literal github-token` (PAL-C008), and flags such as "TLS verification off" (PAL-C011 for',
    '`NODE_TLS_REJECT_UNAUTHORIZED=0`, `PYTHONHTTPSVERIFY=0`, `GIT_SSL_NO_VERIFY`,',
    '`OAUTHLIB_INSECURE_TRANSPORT=1`).',
    '',
    '**Commands, arguments and URLs are sent redacted.** One function in `@palisade/core`',
    '(`redactServer` / `redactReport`, built on `redactArgs`, `redactUrl` and',
    '`redactFreeText`) redacts them: discovery applies it to every server, `palisade report`',
    'applies it to the whole report before it is written to the spool and again before a',
    'spooled report is sent, every output format (table, JSON, SARIF, Markdown) renders the',
    'redacted servers, the rule engine redacts every finding message and evidence, and the',
    'backend applies it again to every report it accepts, so a report from an old or hostile',
    'agent cannot store a secret. Redaction keeps the shape, so an analyst still sees what is',
    'configured: the value becomes `<redacted>` or `<redacted:kind>`. Each redacted argument',
    'raises PAL-C008 (literal secret) or PAL-C009 (credentials in a URL) with the argument',
    'number as evidence, never the value. Tool names and descriptions, server names, paths,',
    'client errors and the host fields are scrubbed of known token shapes, URL credentials',
    'and secret-named pairs the same way.',
    '',
    '### Arguments',
    '',
    '| Shape | In the config | Sent and shown as | Finding |',
    '|---|---|---|---|',
  ];
  for (const ex of ARG_EXAMPLES) {
    const r = redactArgs(ex.args, ex.command ?? null);
    const kinds = r.found.length ? [...new Set(r.found.map((f) => `argument ${f.index + 1}: ${f.type}`))].join('; ') : 'none';
    out.push(`| ${ex.what} | ${code([ex.command, ...ex.args].filter(Boolean).join(' '))} | ${code([ex.command, ...r.args].filter(Boolean).join(' '))} | ${kinds} |`);
  }
  out.push(
    '',
    'Argument rules, in order: known token shapes anywhere in an argument (glued or not); a',
    'header line (`Name: value`) whose name is a secret\'s name keeps its scheme (`Bearer`,',
    '`Basic`); URLs of any scheme lose the password of their user-info (a user name that is',
    'itself a token goes too), secret or not-plainly-harmless query and fragment values (the',
    'names stay) and path segments that are tokens; `name=value` and `"name": "value"` pairs',
    '(flags, DSN, ADO, JSON, KEY=value) are judged by name, shape and entropy as below; the',
    'value after a secret-named flag (`--token`, `--password`, `--api-key`, `--apikey`,',
    '`--key`, `--secret`, `--client-secret`, `--pat`, `--auth`) is judged the same way; for',
    'database clients `-pVALUE` / `-p VALUE` (`-a` for redis-cli, `-P` for sqlcmd) is always',
    'redacted; shell strings (`bash -c "..."`) are judged word by word; a bare argument of 32+',
    'random characters is redacted as a key passed by position.',
    '',
    '### How a value is judged (env, headers, flag values, query values)',
    '',
    'By the name, the value\'s shape and its entropy together. In order: empty; a reference',
    '(`${VAR}`, `${env:VAR}`, `${input:id}`, `{env:VAR}`, `$VAR`, `%VAR%`, `op://`, `keychain:`)',
    'is not a secret; an obvious placeholder (`<YOUR_TOKEN>`, `{secret}`, `sk-your-api-key`,',
    '`xxx`, `changeme`, `YOUR_API_KEY_HERE`) is not; a known token shape is, under any name; a',
    'URL is only when it carries credentials; a path, email, host name, model name, boolean or',
    'short number is not; then the name decides: a name that is about a secret but holds',
    'something else (`*_URL`, `*_PATH`, `*_FILE`, `*_ID`, `*_NAME`, `*_MODEL`, `*_TYPE` ...) is',
    'not a secret; a strong secret name (`PASSWORD`, `TOKEN`, `SECRET`, `API_KEY`,',
    '`CLIENT_SECRET`, `Authorization`, `X-Api-Key` ...) makes any other literal one; a weak one',
    '(`KEY`, `SESSION`) one with digits or mixed case or 16+ characters; under any other name',
    'only a random-looking value (20+ characters, upper and lower case and digits, high',
    'entropy) is one.',
    '',
    '| Name | Value | Judged |',
    '|---|---|---|',
  );
  for (const [name, value] of VALUE_EXAMPLES) {
    const c = classifyValue(name, value);
    out.push(`| ${code(name)} | ${code(value)} | ${c.kind === 'secret' ? `secret (${c.secretType})` : c.kind === 'reference' ? 'reference, not a secret' : 'not a secret'} |`);
  }
  const url = redactUrl('https://admin:Fx7kQ2mZ9pLw@mcp.example.com/mcp?api_key=Fx7kQ2mZ9pLw&region=eu#frag-Fx7kQ2mZ9pLw');
  out.push(
    '',
    '### Remote server URLs',
    '',
    `${code('https://admin:Fx7kQ2mZ9pLw@mcp.example.com/mcp?api_key=Fx7kQ2mZ9pLw&region=eu#frag-Fx7kQ2mZ9pLw')} is sent as ${code(url.url)} (${url.found.filter((k) => k !== 'url-query-value').join(', ')}: PAL-C009).`,
    '',
    'Not covered: a secret in a form none of the above recognises (a short, plain word passed by',
    'position with no secret-named flag before it, for example) is sent as written. Use a',
    'reference (`${VAR}`) for every credential; PAL-C008 exists to find the literal ones.',
    '',
  );
  return out.join('\n');
}
