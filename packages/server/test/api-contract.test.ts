// The API contract: the dashboard's committed types are what the server's routes declare now,
// every API route declares a response schema for its success answer, and the document says
// who may call each route.
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GENERATED_FILE, generatedTypes } from '../../../scripts/api-types.js';

type Json = Record<string, unknown>;

describe('API contract', () => {
  let document: Json;
  let source: string;
  beforeAll(async () => {
    ({ document, source } = await generatedTypes());
  }, 180_000);

  it('packages/web/src/api/schema.gen.ts is what the server produces now', () => {
    const committed = fs.existsSync(GENERATED_FILE) ? fs.readFileSync(GENERATED_FILE, 'utf8') : '';
    // not toEqual on 5,000 lines: the message says what to do
    expect(committed === source, 'packages/web/src/api/schema.gen.ts differs from the API the server declares: run `npm run api:types` and commit the result').toBe(true);
  });

  it('every API operation has a response schema for its success status and says who may call it', () => {
    const paths = document.paths as Record<string, Record<string, Json>>;
    const problems: string[] = [];
    let operations = 0;
    for (const [p, item] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(item)) {
        operations++;
        const name = `${method.toUpperCase()} ${p}`;
        const responses = (op.responses ?? {}) as Record<string, Json>;
        const success = Object.keys(responses).filter((c) => /^2\d\d$/.test(c));
        if (success.length === 0) problems.push(`${name}: no 2xx response declared`);
        for (const code of success) {
          const content = responses[code]!.content as Record<string, { schema?: unknown }> | undefined;
          if (code !== '204' && !content?.['application/json']?.schema && !content?.['text/plain']?.schema) problems.push(`${name}: ${code} has no schema`);
        }
        if (p.startsWith('/api/')) {
          for (const code of ['400', '500']) if (!responses[code]) problems.push(`${name}: no ${code} response declared`);
          if (!op['x-palisade-access']) problems.push(`${name}: no x-palisade-access`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(operations).toBeGreaterThan(40);
  });

  it('names the shared shapes as components the dashboard imports', () => {
    const schemas = (document.components as { schemas: Json }).schemas;
    for (const name of ['Error', 'Level', 'Severity', 'Role', 'ServerSummary', 'ServerDetail', 'HostSummary', 'HostDetail', 'Override', 'AgentKey', 'Webhook', 'User', 'Me', 'OrgSettings']) {
      expect(schemas[name], name).toBeDefined();
      expect(source).toContain(`        ${name}: `);
    }
    const securitySchemes = (document.components as { securitySchemes: Json }).securitySchemes;
    expect(Object.keys(securitySchemes).sort()).toEqual(['agentKey', 'gatewayKey', 'session']);
    const sync = (document.paths as Record<string, Record<string, Json>>)['/api/v1/gateway/sync']!.post!;
    expect(sync.security).toEqual([{ gatewayKey: [] }]);
    const report = (document.paths as Record<string, Record<string, Json>>)['/api/v1/agent/report']!.post!;
    expect(report.security).toEqual([{ agentKey: [] }]);
    expect(report['x-palisade-access']).toEqual({ kind: 'agent' });
  });

  it('every answer is a closed set of fields: only the free-form JSON fields take any key', () => {
    // (response serialisation writes only the listed fields, so an object that is not closed
    // would let whatever a handler returns through)
    const open: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (!node || typeof node !== 'object') return;
      if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${at}[${i}]`));
      const n = node as Json;
      const free = (n.additionalProperties !== undefined && n.additionalProperties !== false) || n.patternProperties !== undefined || (n.type === 'object' && n.properties === undefined);
      if (free) open.push(at.replace(/\.anyOf\[\d+\]$/, ''));
      for (const [k, v] of Object.entries(n)) walk(v, `${at}.${k}`);
    };
    walk((document.components as { schemas: Json }).schemas, 'components');
    for (const [p, item] of Object.entries(document.paths as Record<string, Record<string, Json>>)) for (const [m, op] of Object.entries(item)) walk(op.responses, `${m} ${p}`);
    const allowed = /\.properties\.(details|config|annotations)$|^get \/api\/v1\/openapi\.json\.200\./;
    expect(open.filter((p) => !allowed.test(p))).toEqual([]);
    expect(open.length).toBeGreaterThan(0);
  });

  it('keeps the dashboard\'s static files out of the document', () => {
    for (const p of Object.keys(document.paths as Json)) expect(p === '/healthz' || p === '/metrics' || p.startsWith('/api/'), p).toBe(true);
  });
});
