// The redaction table: every shape in canary-table.ts is redacted by core's redactServer
// (the function discovery, `report` and the backend share), its shape is kept, the arg
// index is flagged for PAL-C008/C009, and no canary survives anywhere in the scored report.
import { describe, expect, it } from 'vitest';
import { caseServer, CASE_CONTEXT, detectSecret, evaluate, redactArgs, redactReport, redactServer, type ScanReport, type ServerConfig } from '@palisade/core';
import { CANARY_CASES } from './canary-table.js';

function serverOf(c: (typeof CANARY_CASES)[number], n: number): ServerConfig {
  return caseServer(
    { name: `case-${n}`, command: c.command ?? (c.url ? null : 'npx'), args: c.args ?? [], url: c.url ?? null, transport: c.url ? 'http' : 'stdio' },
    n,
  );
}

describe('redaction table', () => {
  it('has at least 60 shapes', () => {
    expect(CANARY_CASES.length).toBeGreaterThanOrEqual(60);
  });

  CANARY_CASES.forEach((c, i) => {
    it(c.name, () => {
      const { server, found } = redactServer(serverOf(c, i + 1));
      const text = JSON.stringify(server);
      for (const canary of c.canaries) expect(text, `${c.name}: ${text}`).not.toContain(canary);
      expect(text).toContain('<redacted');
      if (c.shape) {
        const shown = c.url ? server.url! : server.args.find((a) => c.shape!.test(a));
        expect(shown, `${c.name}: ${JSON.stringify(server.args)}`).toMatch(c.shape);
      }
      if (c.flagged !== undefined) {
        const name = c.flagged === 'url' ? undefined : String(c.flagged);
        const hit = c.flagged === 'url' ? found.some((f) => f.location === 'url') : found.some((f) => f.location === 'arg' && f.name === name);
        expect(hit, `${c.name}: ${JSON.stringify(found)}`).toBe(true);
      }
      // idempotent: a second pass changes nothing
      expect(redactServer(server).server.args).toEqual(server.args);
      expect(redactServer(server).server.url).toEqual(server.url);
    });
  });

  it('raises PAL-C008 or PAL-C009 with the argument index as evidence, never the value', () => {
    const servers = CANARY_CASES.map((c, i) => redactServer(serverOf(c, i + 1)).server);
    const result = evaluate(servers, CASE_CONTEXT);
    const text = JSON.stringify(result);
    for (const c of CANARY_CASES) for (const canary of c.canaries) expect(text).not.toContain(canary);
    result.servers.forEach((s, i) => {
      const ids = s.findings.map((f) => f.ruleId);
      expect(
        ids.some((id) => id === 'PAL-C008' || id === 'PAL-C009'),
        `${CANARY_CASES[i]!.name}: ${ids.join(',')}`,
      ).toBe(true);
    });
    const argFinding = result.servers[10]!.findings.find((f) => f.ruleId === 'PAL-C008')!;
    expect(argFinding.evidence).toMatch(/^argument 2 /);
  });

  it('redacts a hostile report whose servers were never redacted, and its free text', () => {
    const servers = CANARY_CASES.map((c, i) => ({ ...serverOf(c, i + 1), findings: [], score: 0, level: 'none' as const }));
    const report: ScanReport = {
      schemaVersion: 1,
      agent: { name: 'palisade', version: '0.0.0' },
      host: { hostname: 'h', os: 'linux', user: 'u' },
      scannedAt: new Date().toISOString(),
      clients: [{ id: 'c', name: 'c', configPath: '/x', serverCount: 1, error: `failed with --token=${CANARY_CASES[0]!.canaries[0]}` }],
      servers,
      findings: [{ ruleId: 'PAL-F001', severity: 'high', title: 't', message: `m --password=${CANARY_CASES[1]!.canaries[0]}`, evidence: 'e', servers: [] }],
      summary: { clients: 1, servers: servers.length, findings: 0, errors: 0, byLevel: { critical: 0, high: 0, medium: 0, low: 0, none: 0 }, maxLevel: 'none' },
    };
    const text = JSON.stringify(redactReport(report));
    for (const c of CANARY_CASES) for (const canary of c.canaries) expect(text, c.name).not.toContain(canary);
    // the report given is not changed in place
    expect(JSON.stringify(report)).toContain(CANARY_CASES[0]!.canaries[0]);
  });

  it('leaves what is not a secret as it is', () => {
    const args = [
      '-y',
      '@modelcontextprotocol/server-filesystem@2025.8.21',
      '/home/alice/src',
      '--port',
      '8080',
      '--model',
      'gpt-4o',
      '--token',
      '${GITHUB_TOKEN}',
      '--api-key',
      '<YOUR_API_KEY>',
      '--key',
      'sk-your-api-key',
      '--password-file',
      '/etc/app/pw',
      '--private-key',
      '~/.ssh/id_ed25519',
      '--header',
      'Authorization: Bearer ${TOKEN}',
      '--auth',
      'oauth',
      '--signature-algorithm',
      'RS256',
      '--auth-mode',
      'none',
      'https://mcp.example.com/sse?region=eu',
      'postgresql://db.internal:5432/prod',
      '--token-env',
      'GH_TOKEN',
      '--max-tokens',
      '4096',
      '--email',
      'alice@example.com',
      'KEY_PATH=/x/y.pem',
      '--secret',
      'changeme',
      '--session',
      'xxx',
    ];
    expect(redactArgs(args)).toEqual({ args, found: [] });
  });

  it('reads the parameters of a Bearer challenge as parameters, and a token after Bearer as a token', () => {
    for (const challenge of [
      'WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"',
      'Bearer realm="example-realm-name", error="invalid_token"',
      'Bearer error_description="The access token expired"',
    ])
      expect(detectSecret(challenge), challenge).toBeUndefined();
    for (const token of ['Authorization: Bearer dGhpcyBpcyBhIHRva2VuMQ=', '"Bearer 4f1c2a9e7b3d5f6a8c0e"', 'Bearer realmX8c0e9f7a6b5d4c3b2a1'])
      expect(detectSecret(token), token).toBe('bearer-token');
  });
});
