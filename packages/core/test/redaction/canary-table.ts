// Argument, command and URL shapes that carry a secret, each with planted canaries: made-up
// values (test fixtures, valid nowhere) that must never appear in any output, spool file,
// database file or log. Shared by the core, agent and backend tests.

/** A canary: distinctive, mixed letters and digits, never a placeholder or a plain word. */
export const cn = (n: number): string => `Cq${String(n).padStart(3, '0')}zK7vW`;
/** A canary long and random enough to be called a token by entropy alone. */
export const cnLong = (n: number): string => `Rt${String(n).padStart(3, '0')}Xa9Lm2Pq8Zw4Ny6Bv`;
const alnum36 = (n: number) => `Fx${String(n).padStart(3, '0')}aB3cD4eF5gH6iJ7kL8mN9oP0qR1sT2uV`;

export interface CanaryCase {
  name: string;
  command?: string;
  args?: string[];
  url?: string;
  /** values that must not survive */
  canaries: string[];
  /** the redacted form must still show this (the shape is kept) */
  shape?: RegExp;
  /** redaction must flag this arg index (or 'command' / 'url') */
  flagged?: number | 'command' | 'url';
}

export const CANARY_CASES: CanaryCase[] = [
  // --flag=value
  { name: '--token=V', args: ['--token=' + cn(1)], canaries: [cn(1)], shape: /^--token=<redacted/, flagged: 0 },
  { name: '--password=V', args: ['--password=' + cn(2)], canaries: [cn(2)], shape: /^--password=<redacted/, flagged: 0 },
  { name: '--api-key=V', args: ['--api-key=' + cn(3)], canaries: [cn(3)], shape: /^--api-key=<redacted/, flagged: 0 },
  { name: '--apikey=V', args: ['--apikey=' + cn(4)], canaries: [cn(4)], flagged: 0 },
  { name: '--client-secret=V', args: ['--client-secret=' + cn(5)], canaries: [cn(5)], flagged: 0 },
  { name: '--access-token=V', args: ['--access-token=' + cn(6)], canaries: [cn(6)], flagged: 0 },
  { name: '--auth-token=V', args: ['--auth-token=' + cn(7)], canaries: [cn(7)], flagged: 0 },
  { name: '--secret=V', args: ['--secret=' + cn(8)], canaries: [cn(8)], flagged: 0 },
  { name: '--db-password=V', args: ['--db-password=' + cn(9)], canaries: [cn(9)], flagged: 0 },
  { name: '--key=V', args: ['--key=' + cn(10)], canaries: [cn(10)], flagged: 0 },
  // --flag value
  { name: '--token V', args: ['--token', cn(11)], canaries: [cn(11)], flagged: 1 },
  { name: '--password V', args: ['--password', cn(12)], canaries: [cn(12)], flagged: 1 },
  { name: '--api-key V', args: ['--api-key', cn(13)], canaries: [cn(13)], flagged: 1 },
  { name: '--apikey V', args: ['--apikey', cn(14)], canaries: [cn(14)], flagged: 1 },
  { name: '--key V', args: ['--key', cn(15)], canaries: [cn(15)], flagged: 1 },
  { name: '--secret V', args: ['--secret', cn(16)], canaries: [cn(16)], flagged: 1 },
  { name: '--client-secret V', args: ['--client-secret', cn(17)], canaries: [cn(17)], flagged: 1 },
  { name: '--pat V', args: ['--pat', cn(18)], canaries: [cn(18)], flagged: 1 },
  { name: '--auth V (user:pass)', args: ['--auth', `admin:${cn(19)}`], canaries: [cn(19)], flagged: 1 },
  { name: '--password low-entropy word with digits', args: ['--password', 'hunter2' + cn(20)], canaries: ['hunter2' + cn(20)], flagged: 1 },
  { name: '--token high-entropy', args: ['--token', cnLong(21)], canaries: [cnLong(21)], flagged: 1 },
  // database clients
  { name: 'mysql -pV', command: 'mysql', args: ['-u', 'root', '-p' + cn(22), 'shop'], canaries: [cn(22)], shape: /^-p<redacted/, flagged: 2 },
  { name: 'mysql -p V', command: 'mysql', args: ['-u', 'root', '-p', cn(23), 'shop'], canaries: [cn(23)], flagged: 3 },
  { name: 'mariadb through docker exec', command: 'docker', args: ['exec', '-i', 'db', 'mariadb', '-uroot', '-p' + cn(24)], canaries: [cn(24)], flagged: 5 },
  { name: 'mysqldump -pV', command: '/usr/bin/mysqldump', args: ['-p' + cn(25), 'shop'], canaries: [cn(25)], flagged: 0 },
  { name: 'redis-cli -a V', command: 'redis-cli', args: ['-h', 'cache', '-a', cn(26)], canaries: [cn(26)], flagged: 3 },
  { name: 'mongosh -p V', command: 'mongosh', args: ['-u', 'app', '-p', cn(27)], canaries: [cn(27)], flagged: 3 },
  // headers
  { name: '--header "Authorization: Bearer V"', args: ['--header', `Authorization: Bearer ${cn(28)}`], canaries: [cn(28)], shape: /^Authorization: Bearer <redacted>$/, flagged: 1 },
  { name: '-H "X-Api-Key: V"', args: ['-H', `X-Api-Key: ${cn(29)}`], canaries: [cn(29)], shape: /^X-Api-Key: <redacted>$/, flagged: 1 },
  { name: '--header=Authorization: Bearer V', args: [`--header=Authorization: Bearer ${cn(30)}`], canaries: [cn(30)], flagged: 0 },
  { name: '--header Authorization:Bearer V (no space)', args: ['--header', `Authorization:Bearer ${cn(31)}`], canaries: [cn(31)], flagged: 1 },
  { name: '-H "Authorization: Basic V"', args: ['-H', `Authorization: Basic ${cn(32)}==`], canaries: [cn(32)], flagged: 1 },
  { name: '--header "X-Auth-Token: V"', args: ['--header', `X-Auth-Token: ${cn(33)}`], canaries: [cn(33)], flagged: 1 },
  { name: '--header "Cookie: session=V"', args: ['--header', `Cookie: session=${cn(34)}`], canaries: [cn(34)], flagged: 1 },
  // connection strings
  { name: 'postgresql://user:V@host/db', args: [`postgresql://app:${cn(35)}@db.internal:5432/prod`], canaries: [cn(35)], shape: /^postgresql:\/\/app:<redacted>@db\.internal:5432\/prod$/, flagged: 0 },
  { name: 'postgres:// in --connection-string=', args: [`--connection-string=postgres://app:${cn(36)}@db/prod`], canaries: [cn(36)], flagged: 0 },
  { name: 'mysql://user:V@host/db', args: [`mysql://root:${cn(37)}@localhost:3306/shop`], canaries: [cn(37)], flagged: 0 },
  { name: 'mongodb+srv://user:V@cluster', args: [`mongodb+srv://app:${cn(38)}@cluster0.abcde.mongodb.net/?retryWrites=true&w=majority`], canaries: [cn(38)], flagged: 0 },
  { name: 'redis://:V@host', args: [`redis://:${cn(39)}@cache:6379/0`], canaries: [cn(39)], shape: /^redis:\/\/:<redacted>@cache:6379\/0$/, flagged: 0 },
  { name: 'rediss://default:V@host', args: [`rediss://default:${cn(40)}@cache.example.com:6380`], canaries: [cn(40)], flagged: 0 },
  { name: 'amqp://user:V@host', args: [`amqp://guest:${cn(41)}@mq:5672/vhost`], canaries: [cn(41)], flagged: 0 },
  { name: 'DSN password=V host=...', args: [`password=${cn(42)} host=db.internal user=app dbname=prod`], canaries: [cn(42)], shape: /^password=<redacted[^ ]*> host=db\.internal/, flagged: 0 },
  { name: 'DSN as the value of --dsn', args: ['--dsn', `host=db user=app password=${cn(43)} sslmode=require`], canaries: [cn(43)], flagged: 1 },
  { name: 'ADO Password=V;', args: [`Server=tcp:sql.example.com,1433;Database=shop;User Id=sa;Password=${cn(44)};Encrypt=true`], canaries: [cn(44)], shape: /Password=<redacted[^;]*>;Encrypt=true$/, flagged: 0 },
  { name: 'ADO Pwd=V', args: ['--connection', `Driver={ODBC};Server=x;Uid=sa;Pwd=${cn(45)};`], canaries: [cn(45)], flagged: 1 },
  { name: 'Azure storage AccountKey=V', args: [`DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${cn(46)}==;EndpointSuffix=core.windows.net`], canaries: [cn(46)], flagged: 0 },
  // JSON as one argument
  { name: "JSON '{\"apiKey\":\"V\"}'", args: ['--config', `{"apiKey":"${cn(47)}","region":"eu"}`], canaries: [cn(47)], shape: /"apiKey":"<redacted[^"]*>","region":"eu"/, flagged: 1 },
  { name: 'JSON nested token', args: [`{"auth":{"token":"${cn(48)}"},"debug":true}`], canaries: [cn(48)], flagged: 0 },
  { name: 'JSON with a password and spaces', args: [`{ "user": "app", "password": "${cn(49)}" }`], canaries: [cn(49)], flagged: 0 },
  // URLs
  { name: 'secret in a URL path segment (sk-)', args: [`https://mcp.example.com/sse/sk-${cnLong(50)}/`], canaries: [cnLong(50)], shape: /^https:\/\/mcp\.example\.com\/sse\/<redacted[^/]*>\/$/, flagged: 0 },
  { name: 'random token as a path segment', args: [`https://actions.example.com/mcp/${cnLong(51)}/sse`], canaries: [cnLong(51)], flagged: 0 },
  { name: '?key=V', args: [`https://mcp.example.com/mcp?key=${cn(52)}`], canaries: [cn(52)], shape: /\?key=<redacted>$/, flagged: 0 },
  { name: '?access_token=V', args: [`https://mcp.example.com/sse?access_token=${cn(53)}&region=eu`], canaries: [cn(53)], shape: /access_token=<redacted>&region=eu$/, flagged: 0 },
  { name: '?api_key=V in url', url: `https://mcp.example.com/mcp?api_key=${cn(54)}`, canaries: [cn(54)], flagged: 'url' },
  { name: 'user:password in url', url: `https://admin:${cn(55)}@mcp.example.com/mcp`, canaries: [cn(55)], flagged: 'url' },
  { name: 'token as URL user', url: `https://${cnLong(56)}@mcp.example.com/mcp`, canaries: [cnLong(56)], flagged: 'url' },
  { name: 'path token in url', url: `https://mcp.example.com/s/${cnLong(57)}/sse`, canaries: [cnLong(57)], flagged: 'url' },
  { name: 'fragment access_token', url: `https://mcp.example.com/cb#access_token=${cn(58)}`, canaries: [cn(58)], flagged: 'url' },
  { name: 'mcp-remote URL with token query', args: ['-y', 'mcp-remote@0.1.29', `https://mcp.example.com/sse?token=${cn(59)}`], canaries: [cn(59)], flagged: 2 },
  // known token formats, anywhere
  { name: 'GitHub token bare', args: [`ghp_${alnum36(60)}`], canaries: [alnum36(60)], flagged: 0 },
  { name: 'GitHub fine-grained token glued', args: [`--gh=github_pat_${alnum36(61)}_${alnum36(61)}`], canaries: [alnum36(61)], flagged: 0 },
  { name: 'Slack bot token', args: ['--slack', `xoxb-1234567890-${cn(62)}`], canaries: [cn(62)], flagged: 1 },
  { name: 'OpenAI key', args: ['run', `sk-proj-${cnLong(63)}`], canaries: [cnLong(63)], flagged: 1 },
  { name: 'Anthropic key', args: [`ANTHROPIC=sk-ant-api03-${cnLong(64)}`], canaries: [cnLong(64)], flagged: 0 },
  { name: 'AWS access key', args: ['-e', `AWS_ACCESS_KEY_ID=AKIA${'Z9Q8W7E6R5T4Y3U2'}`], canaries: ['AKIAZ9Q8W7E6R5T4Y3U2'], flagged: 1 },
  { name: 'Stripe live key', args: [`--stripe=sk_live_${cn(66)}abcdef`], canaries: [cn(66)], flagged: 0 },
  { name: 'JWT', args: ['--session', `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI${cn(67)}In0.${cn(67)}sig00`], canaries: [cn(67)], flagged: 1 },
  { name: 'private key in an argument', args: ['--pem', `-----BEGIN RSA PRIVATE KEY-----\nMIIE${cn(68)}\n-----END RSA PRIVATE KEY-----`], canaries: [cn(68)], flagged: 1 },
  { name: 'Google API key', args: [`--google=AIza${'S'.repeat(10)}${cn(69)}${'x'.repeat(15)}`], canaries: [cn(69)], flagged: 0 },
  // env pairs passed as args and shell strings
  { name: 'docker -e TOKEN=V', command: 'docker', args: ['run', '-i', '--rm', '-e', `GITHUB_TOKEN=${cn(70)}`, 'ghcr.io/github/github-mcp-server'], canaries: [cn(70)], shape: /^GITHUB_TOKEN=<redacted/, flagged: 4 },
  { name: 'env KEY=V command', command: 'env', args: [`OPENAI_API_KEY=${cn(71)}`, 'node', 'server.js'], canaries: [cn(71)], flagged: 0 },
  { name: 'bash -c with mysql -pV and a curl header', command: 'bash', args: ['-c', `mysql -uroot -p${cn(72)} shop && curl -H "X-Api-Key: ${cn(73)}" https://api.example.com`], canaries: [cn(72), cn(73)], flagged: 1 },
  { name: 'sh -c with --token V', command: 'sh', args: ['-c', `exec my-mcp --token ${cn(74)} --port 8080`], canaries: [cn(74)], flagged: 1 },
  { name: 'long random key by position', args: ['start', cnLong(75) + cnLong(75)], canaries: [cnLong(75)], flagged: 1 },
  { name: 'secret in the command itself', command: `/opt/tools/mcp --token=${cn(76)}`, args: [], canaries: [cn(76)], flagged: 'command' },
  { name: 'PostgreSQL password-file line', args: ['--pgpass-line', `db.internal:5432:prod:app:${cn(78)}`], canaries: [cn(78)], shape: /^db\.internal:5432:prod:app:<redacted/, flagged: 1 },
  { name: 'password-file line with wildcards', args: [`*:*:*:postgres:${cn(79)}`], canaries: [cn(79)], flagged: 0 },
  { name: 'YAML-ish apiKey: V', args: [`apiKey: ${cn(77)}`], canaries: [cn(77)], flagged: 0 },
];
