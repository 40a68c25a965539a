// Gateways managed from the backend (issue 16 §4).
// - Admins create, list and revoke gateway keys (as agent keys; the key is shown once).
// - A gateway syncs with its key (X-Gateway-Key): it pushes its version, upstreams with their
//   tools, virtual servers, quarantine events, call records and rate-limit hits, and pulls the
//   organisation's policy and the approve / reject decisions taken in the dashboard.
// - The gateway's upstreams enter the inventory through the ingest queue as one host named
//   "gateway:<name>" whose client is "palisade-gateway": the same rules and scores as any
//   scanned server.
// - A new quarantine event raises a `gateway_quarantine` alert (webhooks included); approving
//   a critical tool's change needs a second approver when the organisation requires one for
//   critical overrides.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Transaction } from 'kysely';
import { levelRank, SCHEMA_VERSION, type Level, type Severity } from '@palisade/core';
import { access } from '../auth/access.js';
import { generateGatewayKey } from '../auth/gateway-keys.js';
import { newId } from '../auth/crypto.js';
import { writeAudit } from '../audit.js';
import { withOrg, type OrgScope, type Tx } from '../db/scope.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { page } from '../http/pagination.js';
import { errors, IdParams, ListOf, ListQuery, NoContent, typed } from '../http/schemas.js';
import {
  Gateway,
  GatewayCall,
  GatewayDetail,
  GatewayPolicies,
  GatewayPolicy,
  GatewayPolicyBody,
  GatewayPolicyView,
  GatewayQuarantineItem,
  GatewayRateHit,
  GatewaySyncAnswer,
  GatewaySyncBody,
  NewGatewayKey,
} from '../http/gateway-models.js';
import { storeEvents, type StoredEvent } from '../services/alerts.js';
import { timeOrderedId } from '../services/ids.js';
import { chunkRows } from '../services/batch.js';
import { getInventorySettings, getRetentionDays } from '../services/settings.js';
import { ingestQueueFor } from '../services/ingest/queue.js';
import { dispatcherFor } from '../services/webhooks/dispatcher.js';

/** a gateway that synced within this long is "online" */
export const ONLINE_WITHIN_MS = 5 * 60_000;
/** what the backend asks of the gateway's sync interval */
export const SYNC_SECONDS = 30;
/** the largest sync body (the schema's item bounds keep it far below in practice) */
export const MAX_SYNC_BYTES = 8 * 1024 * 1024;
/** the host name of a gateway's upstreams in the inventory */
export const gatewayHostname = (name: string): string => `gateway:${name}`;
export const GATEWAY_CLIENT = 'palisade-gateway';

interface GatewaysTable {
  id: string;
  org_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
  version: string | null;
  last_seen_at: string | null;
  status: string;
  upstreams: string;
  virtual_servers: string;
  tools_hash: string | null;
}
interface GatewayToolsTable {
  org_id: string;
  gateway_id: string;
  federated: string;
  upstream: string;
  tool: string;
  status: string;
  level: string;
  definition_hash: string;
  description: string | null;
  updated_at: string;
}
interface GatewayQuarantineTable {
  id: string;
  org_id: string;
  gateway_id: string;
  federated: string;
  upstream: string;
  tool: string;
  level: string;
  old_hash: string | null;
  new_hash: string;
  old_definition: string | null;
  new_definition: string;
  reason: string | null;
  state: string;
  created_at: string;
  first_approver: string | null;
  first_approved_at: string | null;
  decided_by: string | null;
  decided_at: string | null;
  alert_id: string | null;
}
interface GatewayCallsTable {
  id: string;
  org_id: string;
  gateway_id: string;
  at: string;
  kind: string;
  principal: string | null;
  virtual_server: string | null;
  upstream: string | null;
  tool: string | null;
  decision: string;
  reason: string | null;
  latency_ms: number | null;
  result_bytes: number | null;
}
interface GatewayRateHitsTable {
  id: string;
  org_id: string;
  gateway_id: string;
  at: string;
  principal: string | null;
  virtual_server: string | null;
  tool: string | null;
  reason: string | null;
}
interface GatewayPoliciesTable {
  org_id: string;
  /** 'org' or a gateway's id */
  target: string;
  block_level: string | null;
  pinning: number;
  strip_hidden_text: number;
  redact_secrets_in_results: number;
  calls_per_minute: number | null;
  updated_by: string | null;
  updated_at: string;
}
interface GatewayDb {
  gateways: GatewaysTable;
  gateway_policies: GatewayPoliciesTable;
  gateway_tools: GatewayToolsTable;
  gateway_quarantine: GatewayQuarantineTable;
  gateway_calls: GatewayCallsTable;
  gateway_rate_hits: GatewayRateHitsTable;
  memberships: { org_id: string; user_id: string };
  users: { id: string; email: string };
  hosts: { id: string; org_id: string; hostname: string; os_user: string };
  server_instances: { id: string; org_id: string; host_id: string; server_id: string; client: string };
  servers: { id: string; org_id: string; name: string; score: number; level: string };
  alerts: { id: string; org_id: string; status: string; resolved_at: string | null; resolved_by: string | null; resolved_reason: string | null };
}
type GTx = Transaction<GatewayDb>;
const g = (tx: Tx): GTx => tx as unknown as GTx;

type SyncBody = Static<typeof GatewaySyncBody>;

function statusOf(row: Pick<GatewaysTable, 'revoked_at' | 'last_seen_at'>, now = Date.now()): 'registered' | 'online' | 'offline' | 'revoked' {
  if (row.revoked_at) return 'revoked';
  if (!row.last_seen_at) return 'registered';
  return now - Date.parse(row.last_seen_at) <= ONLINE_WITHIN_MS ? 'online' : 'offline';
}

/** a gateway whose last sync is older than this many sync intervals is "stale" */
export const STALE_AFTER_INTERVALS = 3;

function isStale(row: Pick<GatewaysTable, 'revoked_at' | 'last_seen_at'>, now = Date.now()): boolean {
  if (row.revoked_at) return false;
  return !row.last_seen_at || now - Date.parse(row.last_seen_at) > STALE_AFTER_INTERVALS * SYNC_SECONDS * 1000;
}

type Policy = Static<typeof GatewayPolicy>;
const ORG_TARGET = 'org';
/** what a missing policy row asks of a gateway: nothing */
export const EMPTY_POLICY: Policy = { blockLevel: null, pinning: false, stripHiddenText: false, redactSecretsInResults: false, callsPerMinute: null };

function policyOf(row: GatewayPoliciesTable | undefined): Policy {
  if (!row) return { ...EMPTY_POLICY };
  return {
    blockLevel: (row.block_level as Level | null) ?? null,
    pinning: Number(row.pinning) === 1,
    stripHiddenText: Number(row.strip_hidden_text) === 1,
    redactSecretsInResults: Number(row.redact_secrets_in_results) === 1,
    callsPerMinute: row.calls_per_minute === null ? null : Number(row.calls_per_minute),
  };
}

/** The central policy one gateway pulls: its own row when it has one, else the organisation's. */
async function policyForGateway(tx: GTx, orgId: string, gatewayId: string): Promise<Policy> {
  const rows = await tx.selectFrom('gateway_policies').selectAll().where('org_id', '=', orgId).where('target', 'in', [ORG_TARGET, gatewayId]).execute();
  return policyOf(rows.find((r) => r.target === gatewayId) ?? rows.find((r) => r.target === ORG_TARGET));
}

/** A quarantined change's alert severity: the tool's risk, at least medium (a changed definition is itself a rug-pull signal). */
export function quarantineSeverity(level: Level): Severity {
  return levelRank[level] >= levelRank.medium ? (level as Severity) : 'medium';
}

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

async function emails(tx: GTx, orgId: string, ids: readonly (string | null)[]): Promise<Map<string, string>> {
  const want = [...new Set(ids.filter((x): x is string => !!x))];
  if (want.length === 0) return new Map();
  const rows = await tx
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id as id', 'users.email as email'])
    .where('memberships.org_id', '=', orgId)
    .where('users.id', 'in', want)
    .execute();
  return new Map(rows.map((r) => [r.id, r.email]));
}

async function gatewayCounts(tx: GTx, orgId: string, ids: readonly string[]): Promise<Map<string, { tools: number; quarantined: number }>> {
  const out = new Map<string, { tools: number; quarantined: number }>();
  if (ids.length === 0) return out;
  const tools = await tx
    .selectFrom('gateway_tools')
    .select(['gateway_id', (eb) => eb.fn.countAll<string | number>().as('n')])
    .where('org_id', '=', orgId)
    .where('gateway_id', 'in', ids)
    .groupBy('gateway_id')
    .execute();
  const q = await tx
    .selectFrom('gateway_quarantine')
    .select(['gateway_id', (eb) => eb.fn.countAll<string | number>().as('n')])
    .where('org_id', '=', orgId)
    .where('gateway_id', 'in', ids)
    .where('state', 'in', ['pending', 'awaiting_second'])
    .groupBy('gateway_id')
    .execute();
  for (const id of ids) out.set(id, { tools: 0, quarantined: 0 });
  for (const r of tools) out.get(r.gateway_id)!.tools = Number(r.n);
  for (const r of q) out.get(r.gateway_id)!.quarantined = Number(r.n);
  return out;
}

function gatewayView(row: GatewaysTable, counts: { tools: number; quarantined: number } | undefined) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    version: row.version,
    lastSeenAt: row.last_seen_at,
    status: statusOf(row),
    upstreams: parseJson<unknown[]>(row.upstreams, []).length,
    tools: counts?.tools ?? 0,
    quarantined: counts?.quarantined ?? 0,
    stale: isStale(row),
  };
}

/** The scan report (docs/scan-format.md) that puts a gateway's upstreams in the inventory. */
export function gatewayReport(gatewayName: string, body: SyncBody, now: string): string {
  const configPath = gatewayHostname(gatewayName);
  const servers = body.upstreams.map((u) => ({
    id: createHash('sha256').update(`${GATEWAY_CLIENT}\0${configPath}\0${u.name}`).digest('hex').slice(0, 32),
    name: u.name,
    client: GATEWAY_CLIENT,
    configPath,
    scope: 'managed' as const,
    transport: u.transport,
    command: u.command,
    args: u.args,
    cwd: null,
    url: u.url,
    envNames: [...u.envNames].sort(),
    headerNames: [...u.headerNames].sort(),
    // the tools as the gateway listed them (core's Tool shape); unreachable upstreams have none
    ...(u.up
      ? {
          tools: u.tools.map((t) => ({
            name: t.name,
            ...(t.description !== undefined ? { description: t.description } : {}),
            ...(t.inputSchemaHash !== undefined ? { inputSchemaHash: t.inputSchemaHash } : {}),
            ...(t.annotations !== undefined ? { annotations: t.annotations } : {}),
            definitionHash: t.definitionHash,
            ...(t.schemaText !== undefined ? { schemaText: t.schemaText } : {}),
          })),
        }
      : {}),
    // the backend re-scores every report: these are placeholders
    findings: [],
    score: 0,
    level: 'none' as const,
  }));
  return JSON.stringify({
    schemaVersion: SCHEMA_VERSION,
    agent: { name: 'palisade', version: body.version },
    host: { hostname: configPath, os: body.os, user: GATEWAY_CLIENT },
    scannedAt: now,
    clients: [{ id: GATEWAY_CLIENT, name: 'Palisade gateway', configPath, serverCount: servers.length }],
    servers,
    findings: [],
    summary: {
      clients: 1,
      servers: servers.length,
      findings: 0,
      errors: 0,
      byLevel: { critical: 0, high: 0, medium: 0, low: 0, none: servers.length },
      maxLevel: 'none',
    },
  });
}

const QuarantineQuery = ListQuery({
  state: Type.Optional(
    Type.Enum(['open', 'pending', 'awaiting_second', 'approved', 'rejected', 'superseded', 'released_at_gateway', 'all'], {
      description: 'open (default): pending or awaiting a second approver',
    }),
  ),
  gateway: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});
const CallsQuery = ListQuery({
  gateway: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  principal: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  tool: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  decision: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  until: Type.Optional(Type.String({ format: 'date-time' })),
});
const HitsQuery = ListQuery({
  gateway: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  until: Type.Optional(Type.String({ format: 'date-time' })),
});

function isoOrBad(v: string | undefined, name: string): string | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw badRequest(`${name} must be a date-time such as 2026-01-31T00:00:00Z.`);
  return new Date(t).toISOString();
}

/**
 * One page of a gateway history table (calls or rate-limit hits), newest first, with the
 * gateway's name: filtered by gateway, time range and exact column values. Both tables share
 * org_id, gateway_id, id and at; `T` is the table's row type.
 */
async function historyPage<T>(
  db: GTx,
  orgId: string,
  table: 'gateway_calls' | 'gateway_rate_hits',
  query: { gateway?: string; since?: string; until?: string },
  equal: Partial<Record<'principal' | 'tool' | 'decision', string>>,
  limit: number,
  offset: number,
): Promise<{ rows: (T & { gateway_name: string })[]; total: number }> {
  const since = isoOrBad(query.since, 'since');
  const until = isoOrBad(query.until, 'until');
  // the shared columns are typed through one of the two tables
  const t = table as 'gateway_calls';
  let q = db.selectFrom(t).where(`${t}.org_id`, '=', orgId);
  if (query.gateway) q = q.where(`${t}.gateway_id`, '=', query.gateway);
  for (const [column, value] of Object.entries(equal)) if (value) q = q.where(column as 'tool', '=', value);
  if (since) q = q.where('at', '>=', since);
  if (until) q = q.where('at', '<=', until);
  const rows = await q
    .innerJoin('gateways', 'gateways.id', `${t}.gateway_id`)
    .selectAll(t)
    .select('gateways.name as gateway_name')
    .orderBy('at', 'desc')
    .orderBy(`${t}.id`, 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
  const total = await q.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
  return { rows: rows as unknown as (T & { gateway_name: string })[], total: Number(total.n) };
}

async function quarantineViews(tx: GTx, scope: OrgScope, rows: GatewayQuarantineTable[], needsSecond: boolean) {
  const names = new Map<string, string>();
  const gwIds = [...new Set(rows.map((r) => r.gateway_id))];
  if (gwIds.length > 0)
    for (const r of await tx.selectFrom('gateways').select(['id', 'name']).where('org_id', '=', scope.orgId).where('id', 'in', gwIds).execute())
      names.set(r.id, r.name);
  const who = await emails(
    tx,
    scope.orgId,
    rows.flatMap((r) => [r.first_approver, r.decided_by]),
  );
  return rows.map((r) => ({
    id: r.id,
    gatewayId: r.gateway_id,
    gatewayName: names.get(r.gateway_id) ?? '',
    federated: r.federated,
    upstream: r.upstream,
    tool: r.tool,
    level: r.level as Level,
    oldHash: r.old_hash,
    newHash: r.new_hash,
    oldDefinition: r.old_definition,
    newDefinition: r.new_definition,
    reason: r.reason,
    state: r.state as Static<typeof GatewayQuarantineItem>['state'],
    createdAt: r.created_at,
    needsSecondApprover: needsSecond && r.level === 'critical',
    firstApprover: r.first_approver ? (who.get(r.first_approver) ?? 'a former member') : null,
    decidedBy: r.decided_by ? (who.get(r.decided_by) ?? 'a former member') : null,
    decidedAt: r.decided_at,
  }));
}

export async function gatewaysRoutes(plain: FastifyInstance): Promise<void> {
  const app = typed(plain);
  const store = app.platform.store;
  const dispatcher = dispatcherFor(store);

  // ---- keys (admins) -------------------------------------------------------------------

  app.post(
    '/gateways',
    {
      config: { access: access.user('agent-keys:write') },
      schema: {
        summary: 'Register a gateway: create its gateway key (returned only in this answer)',
        tags: ['gateways'],
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }) }, { additionalProperties: false }),
        response: { 201: NewGatewayKey, ...errors(409) },
      },
    },
    async (request, reply) => {
      const actor = request.user!;
      const scope = { orgId: actor.orgId };
      const name = request.body.name;
      const { key, prefix, hash } = generateGatewayKey();
      const id = newId();
      const createdAt = new Date().toISOString();
      await withOrg(store, scope, async (tx) => {
        const taken = await g(tx)
          .selectFrom('gateways')
          .select('id')
          .where('org_id', '=', scope.orgId)
          .where('name', '=', name)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        if (taken) throw new ApiError(409, 'name_taken', `A gateway named ${name} is already registered; revoke it first or choose another name.`);
        await g(tx)
          .insertInto('gateways')
          .values({
            id,
            org_id: scope.orgId,
            name,
            prefix,
            key_hash: hash,
            created_by: actor.userId,
            created_at: createdAt,
            revoked_at: null,
            version: null,
            last_seen_at: null,
            status: 'registered',
            upstreams: '[]',
            virtual_servers: '[]',
          })
          .execute();
        await writeAudit(tx, scope, {
          actorType: 'user',
          actorId: actor.userId,
          actorEmail: actor.email,
          action: 'gateway.created',
          targetType: 'gateway',
          targetId: id,
          ip: request.ip,
          details: { name, prefix },
        });
      });
      return reply.code(201).send({ id, name, prefix, createdAt, key });
    },
  );

  app.get(
    '/gateways',
    {
      config: { access: access.user('inventory:read') },
      schema: {
        summary: 'Gateways of your organisation with status, version and last sync',
        tags: ['gateways'],
        querystring: ListQuery({}),
        response: { 200: ListOf(Gateway) },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const { limit, offset } = page(request.query);
      return withOrg(store, scope, async (tx) => {
        const rows = await g(tx)
          .selectFrom('gateways')
          .selectAll()
          .where('org_id', '=', scope.orgId)
          .orderBy('created_at', 'desc')
          .orderBy('id')
          .limit(limit)
          .offset(offset)
          .execute();
        const total = await g(tx)
          .selectFrom('gateways')
          .select((eb) => eb.fn.countAll<string | number>().as('n'))
          .where('org_id', '=', scope.orgId)
          .executeTakeFirstOrThrow();
        const counts = await gatewayCounts(
          g(tx),
          scope.orgId,
          rows.map((r) => r.id),
        );
        return { items: rows.map((r) => gatewayView(r, counts.get(r.id))), total: Number(total.n) };
      });
    },
  );

  app.get(
    '/gateways/:id',
    {
      config: { access: access.user('inventory:read') },
      schema: {
        summary: 'One gateway: its upstreams (with their inventory scores), the tools each exposes, and its virtual servers',
        tags: ['gateways'],
        params: IdParams,
        response: { 200: GatewayDetail, ...errors(404) },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      return withOrg(store, scope, async (tx) => {
        const row = await g(tx).selectFrom('gateways').selectAll().where('org_id', '=', scope.orgId).where('id', '=', request.params.id).executeTakeFirst();
        if (!row) throw notFound('That gateway');
        const counts = await gatewayCounts(g(tx), scope.orgId, [row.id]);
        const tools = await g(tx)
          .selectFrom('gateway_tools')
          .selectAll()
          .where('org_id', '=', scope.orgId)
          .where('gateway_id', '=', row.id)
          .orderBy('federated')
          .execute();
        // the inventory's scores of these upstreams (host "gateway:<name>", client palisade-gateway)
        const scored = await g(tx)
          .selectFrom('hosts')
          .innerJoin('server_instances', 'server_instances.host_id', 'hosts.id')
          .innerJoin('servers', 'servers.id', 'server_instances.server_id')
          .select(['servers.id as id', 'servers.name as name', 'server_instances.id as instanceId', 'servers.score as score', 'servers.level as level'])
          .where('hosts.org_id', '=', scope.orgId)
          .where('hosts.hostname', '=', gatewayHostname(row.name))
          .where('hosts.os_user', '=', GATEWAY_CLIENT)
          .where('server_instances.client', '=', GATEWAY_CLIENT)
          .execute();
        const byName = new Map(scored.map((s) => [s.name, s]));
        const ups = parseJson<{ name: string; transport: string; up: boolean }[]>(row.upstreams, []);
        const vss = parseJson<{ name: string; upstreams: string[]; tools: string[] }[]>(row.virtual_servers, []);
        return {
          ...gatewayView(row, counts.get(row.id)),
          upstreamList: ups.map((u) => {
            const s = byName.get(u.name);
            return {
              name: u.name,
              transport: u.transport,
              up: u.up,
              serverId: s?.id ?? null,
              score: s ? Number(s.score) : null,
              level: s ? (s.level as Level) : null,
              tools: tools
                .filter((t) => t.upstream === u.name)
                .map((t) => ({
                  federated: t.federated,
                  tool: t.tool,
                  status: t.status as 'ok' | 'quarantined' | 'blocked',
                  level: t.level as Level,
                  description: t.description,
                  definitionHash: t.definition_hash,
                })),
            };
          }),
          virtualServers: vss,
        };
      });
    },
  );

  app.delete(
    '/gateways/:id',
    {
      config: { access: access.user('agent-keys:write') },
      schema: {
        summary: "Revoke a gateway's key (its next sync is refused; the gateway keeps serving from its own store)",
        tags: ['gateways'],
        params: IdParams,
        response: { 204: NoContent, ...errors(404) },
      },
    },
    async (request, reply) => {
      const actor = request.user!;
      const scope = { orgId: actor.orgId };
      const revoked = await withOrg(store, scope, async (tx) => {
        const r = await g(tx)
          .updateTable('gateways')
          .set({ revoked_at: new Date().toISOString(), status: 'revoked' })
          .where('org_id', '=', scope.orgId)
          .where('id', '=', request.params.id)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw notFound('That active gateway');
        await writeAudit(tx, scope, {
          actorType: 'user',
          actorId: actor.userId,
          actorEmail: actor.email,
          action: 'gateway.revoked',
          targetType: 'gateway',
          targetId: request.params.id,
          ip: request.ip,
        });
        return g(tx)
          .selectFrom('gateways')
          .select(['name', 'version'])
          .where('org_id', '=', scope.orgId)
          .where('id', '=', request.params.id)
          .executeTakeFirstOrThrow();
      });
      // its "gateway:<name>" inventory host no longer serves anything: a report with no servers
      // takes its servers out of the inventory through the same ingest as any scan (the host
      // stays, with its history, its OS marked as a revoked gateway)
      try {
        const now = new Date().toISOString();
        const empty = {
          version: revoked.version ?? '0',
          os: `palisade gateway, revoked ${now.slice(0, 10)}`,
          upstreams: [],
          virtualServers: [],
          quarantine: [],
          calls: [],
          rateLimitHits: [],
        };
        await ingestQueueFor(store).accept(scope, gatewayReport(revoked.name, empty, now), { agentKeyId: `gateway:${request.params.id}`, ip: request.ip });
      } catch (err) {
        request.log.warn({ err, gatewayId: request.params.id }, "the revoked gateway's inventory host could not be emptied");
      }
      return reply.code(204).send();
    },
  );

  // ---- central policy (dashboard) --------------------------------------------------------

  const policyView = (row: GatewayPoliciesTable | undefined, who: Map<string, string>, gateway?: { id: string; name: string }) => ({
    ...policyOf(row),
    scope: gateway ? ('gateway' as const) : ('organisation' as const),
    gatewayId: gateway?.id ?? null,
    gatewayName: gateway?.name ?? null,
    updatedBy: row?.updated_by ? (who.get(row.updated_by) ?? 'a former member') : null,
    updatedAt: row?.updated_at ?? null,
  });

  app.get(
    '/gateway-policy',
    {
      config: { access: access.user('inventory:read') },
      schema: {
        summary: "The central gateway policy: the organisation's, and each gateway's own where one is set",
        tags: ['gateways'],
        response: { 200: GatewayPolicies },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      return withOrg(store, scope, async (tx) => {
        const rows = await g(tx).selectFrom('gateway_policies').selectAll().where('org_id', '=', scope.orgId).execute();
        const names = new Map(
          (await g(tx).selectFrom('gateways').select(['id', 'name']).where('org_id', '=', scope.orgId).execute()).map((r) => [r.id, r.name] as const),
        );
        const who = await emails(
          g(tx),
          scope.orgId,
          rows.map((r) => r.updated_by),
        );
        return {
          organisation: policyView(
            rows.find((r) => r.target === ORG_TARGET),
            who,
          ),
          gateways: rows
            .filter((r) => r.target !== ORG_TARGET && names.has(r.target))
            .map((r) => policyView(r, who, { id: r.target, name: names.get(r.target)! }))
            .sort((a, b) => a.gatewayName!.localeCompare(b.gatewayName!)),
        };
      });
    },
  );

  /** Writes one policy row (organisation or gateway), audited with the old and the new values. */
  const putPolicy = async (
    request: { user?: { orgId: string; userId: string; email: string }; ip: string },
    gatewayId: string | null,
    body: Static<typeof GatewayPolicyBody>,
  ) => {
    const actor = request.user!;
    const scope = { orgId: actor.orgId };
    return withOrg(store, scope, async (tx) => {
      let gateway: { id: string; name: string } | undefined;
      if (gatewayId !== null) {
        gateway = await g(tx).selectFrom('gateways').select(['id', 'name']).where('org_id', '=', scope.orgId).where('id', '=', gatewayId).executeTakeFirst();
        if (!gateway) throw notFound('That gateway');
      }
      const target = gatewayId ?? ORG_TARGET;
      const before = await g(tx).selectFrom('gateway_policies').selectAll().where('org_id', '=', scope.orgId).where('target', '=', target).executeTakeFirst();
      const row: GatewayPoliciesTable = {
        org_id: scope.orgId,
        target,
        block_level: body.blockLevel,
        pinning: body.pinning ? 1 : 0,
        strip_hidden_text: body.stripHiddenText ? 1 : 0,
        redact_secrets_in_results: body.redactSecretsInResults ? 1 : 0,
        calls_per_minute: body.callsPerMinute ?? null,
        updated_by: actor.userId,
        updated_at: new Date().toISOString(),
      };
      if (before) await g(tx).updateTable('gateway_policies').set(row).where('org_id', '=', scope.orgId).where('target', '=', target).execute();
      else await g(tx).insertInto('gateway_policies').values(row).execute();
      await writeAudit(tx, scope, {
        actorType: 'user',
        actorId: actor.userId,
        actorEmail: actor.email,
        action: 'gateway_policy.updated',
        targetType: gateway ? 'gateway' : 'org',
        targetId: gateway ? gateway.id : scope.orgId,
        ip: request.ip,
        details: { old: before ? policyOf(before) : null, new: policyOf(row) },
      });
      return policyView(row, new Map([[actor.userId, actor.email]]), gateway);
    });
  };

  app.put(
    '/gateway-policy',
    {
      config: { access: access.user('settings:write') },
      schema: {
        summary:
          "Set the organisation's central gateway policy; each gateway applies, setting by setting, the stricter of it and its own config at its next sync",
        tags: ['gateways'],
        body: GatewayPolicyBody,
        response: { 200: GatewayPolicyView },
      },
    },
    async (request) => putPolicy(request, null, request.body),
  );

  app.put(
    '/gateways/:id/policy',
    {
      config: { access: access.user('settings:write') },
      schema: {
        summary: "Set one gateway's own central policy (it replaces the organisation's for that gateway)",
        tags: ['gateways'],
        params: IdParams,
        body: GatewayPolicyBody,
        response: { 200: GatewayPolicyView, ...errors(404) },
      },
    },
    async (request) => putPolicy(request, request.params.id, request.body),
  );

  app.delete(
    '/gateways/:id/policy',
    {
      config: { access: access.user('settings:write') },
      schema: {
        summary: "Remove one gateway's own policy: it follows the organisation's again",
        tags: ['gateways'],
        params: IdParams,
        response: { 204: NoContent, ...errors(404) },
      },
    },
    async (request, reply) => {
      const actor = request.user!;
      const scope = { orgId: actor.orgId };
      await withOrg(store, scope, async (tx) => {
        const before = await g(tx)
          .selectFrom('gateway_policies')
          .selectAll()
          .where('org_id', '=', scope.orgId)
          .where('target', '=', request.params.id)
          .executeTakeFirst();
        if (!before) throw notFound("That gateway's own policy");
        await g(tx).deleteFrom('gateway_policies').where('org_id', '=', scope.orgId).where('target', '=', request.params.id).execute();
        await writeAudit(tx, scope, {
          actorType: 'user',
          actorId: actor.userId,
          actorEmail: actor.email,
          action: 'gateway_policy.removed',
          targetType: 'gateway',
          targetId: request.params.id,
          ip: request.ip,
          details: { old: policyOf(before), new: null },
        });
      });
      return reply.code(204).send();
    },
  );

  // ---- quarantine (dashboard) ------------------------------------------------------------

  app.get(
    '/gateway-quarantine',
    {
      config: { access: access.user('inventory:read') },
      schema: {
        summary: 'Tool changes quarantined at gateways, with the old and the new definition',
        tags: ['gateways'],
        querystring: QuarantineQuery,
        response: { 200: ListOf(GatewayQuarantineItem) },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const { limit, offset } = page(request.query);
      const state = request.query.state ?? 'open';
      return withOrg(store, scope, async (tx) => {
        let q = g(tx).selectFrom('gateway_quarantine').where('org_id', '=', scope.orgId);
        if (state === 'open') q = q.where('state', 'in', ['pending', 'awaiting_second']);
        else if (state !== 'all') q = q.where('state', '=', state);
        if (request.query.gateway) q = q.where('gateway_id', '=', request.query.gateway);
        const rows = await q.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).offset(offset).execute();
        const total = await q.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
        const settings = await getInventorySettings(tx, scope);
        return { items: await quarantineViews(g(tx), scope, rows, settings.requireSecondApproverForCritical), total: Number(total.n) };
      });
    },
  );

  for (const action of ['approve', 'reject'] as const) {
    app.post(
      `/gateway-quarantine/:id/${action}`,
      {
        config: { access: access.user('overrides:write') },
        schema: {
          summary:
            action === 'approve'
              ? 'Approve a quarantined tool change: the gateway pins the new definition at its next sync (a critical tool needs a second, different approver when the organisation requires one)'
              : 'Reject a quarantined tool change: the gateway keeps refusing it',
          tags: ['gateways'],
          params: IdParams,
          response: { 200: GatewayQuarantineItem, ...errors(404, 409) },
        },
      },
      async (request) => {
        const actor = request.user!;
        const scope = { orgId: actor.orgId };
        return withOrg(store, scope, async (tx) => {
          const row = await g(tx)
            .selectFrom('gateway_quarantine')
            .selectAll()
            .where('org_id', '=', scope.orgId)
            .where('id', '=', request.params.id)
            .executeTakeFirst();
          if (!row) throw notFound('That quarantined change');
          if (row.state !== 'pending' && row.state !== 'awaiting_second')
            throw new ApiError(409, 'quarantine_state', `This change is ${row.state.replace(/_/g, ' ')}; only a pending change can be decided.`);
          const settings = await getInventorySettings(tx, scope);
          const needsSecond = settings.requireSecondApproverForCritical && row.level === 'critical';
          const now = new Date().toISOString();
          let next: Partial<GatewayQuarantineTable>;
          let auditAction: string;
          if (action === 'reject') {
            next = { state: 'rejected', decided_by: actor.userId, decided_at: now };
            auditAction = 'gateway_quarantine.rejected';
          } else if (needsSecond && row.state === 'pending') {
            next = { state: 'awaiting_second', first_approver: actor.userId, first_approved_at: now };
            auditAction = 'gateway_quarantine.first_approval';
          } else {
            if (row.state === 'awaiting_second' && row.first_approver === actor.userId)
              throw new ApiError(
                409,
                'same_approver',
                'A different admin or owner must give the second approval of this critical tool change: its first approver cannot.',
              );
            next = { state: 'approved', decided_by: actor.userId, decided_at: now };
            auditAction = 'gateway_quarantine.approved';
          }
          await g(tx).updateTable('gateway_quarantine').set(next).where('org_id', '=', scope.orgId).where('id', '=', row.id).execute();
          if ((next.state === 'approved' || next.state === 'rejected') && row.alert_id)
            await g(tx)
              .updateTable('alerts')
              .set({
                status: 'resolved',
                resolved_at: now,
                resolved_by: actor.userId,
                resolved_reason: next.state === 'approved' ? 'gateway tool change approved' : 'gateway tool change rejected',
              })
              .where('org_id', '=', scope.orgId)
              .where('id', '=', row.alert_id)
              .where('status', '!=', 'resolved')
              .execute();
          await writeAudit(tx, scope, {
            actorType: 'user',
            actorId: actor.userId,
            actorEmail: actor.email,
            action: auditAction,
            targetType: 'gateway_quarantine',
            targetId: row.id,
            ip: request.ip,
            details: { gatewayId: row.gateway_id, tool: row.federated, newHash: row.new_hash, level: row.level },
          });
          const [view] = await quarantineViews(g(tx), scope, [{ ...row, ...next } as GatewayQuarantineTable], settings.requireSecondApproverForCritical);
          return view!;
        });
      },
    );
  }

  // ---- history (dashboard) -------------------------------------------------------------

  app.get(
    '/gateway-calls',
    {
      config: { access: access.user('audit:read') },
      schema: {
        summary: "Gateways' call log, newest first (filters: gateway, principal hash, tool, decision, time)",
        tags: ['gateways'],
        querystring: CallsQuery,
        response: { 200: ListOf(GatewayCall) },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const { limit, offset } = page(request.query);
      const { principal, tool, decision } = request.query;
      return withOrg(store, scope, async (tx) => {
        const { rows, total } = await historyPage<GatewayCallsTable>(
          g(tx),
          scope.orgId,
          'gateway_calls',
          request.query,
          { principal, tool, decision },
          limit,
          offset,
        );
        return {
          items: rows.map((r) => ({
            id: r.id,
            gatewayId: r.gateway_id,
            gatewayName: r.gateway_name,
            at: r.at,
            kind: r.kind,
            principal: r.principal,
            virtualServer: r.virtual_server,
            upstream: r.upstream,
            tool: r.tool,
            decision: r.decision,
            reason: r.reason,
            latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
            resultBytes: r.result_bytes === null ? null : Number(r.result_bytes),
          })),
          total,
        };
      });
    },
  );

  app.get(
    '/gateway-rate-hits',
    {
      config: { access: access.user('audit:read') },
      schema: {
        summary: 'Calls refused by a gateway rate limit, newest first',
        tags: ['gateways'],
        querystring: HitsQuery,
        response: { 200: ListOf(GatewayRateHit) },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const { limit, offset } = page(request.query);
      return withOrg(store, scope, async (tx) => {
        const { rows, total } = await historyPage<GatewayRateHitsTable>(g(tx), scope.orgId, 'gateway_rate_hits', request.query, {}, limit, offset);
        return {
          items: rows.map((r) => ({
            id: r.id,
            gatewayId: r.gateway_id,
            gatewayName: r.gateway_name,
            at: r.at,
            principal: r.principal,
            virtualServer: r.virtual_server,
            tool: r.tool,
            reason: r.reason,
          })),
          total,
        };
      });
    },
  );

  // ---- the gateway's sync --------------------------------------------------------------

  app.post(
    '/gateway/sync',
    {
      bodyLimit: MAX_SYNC_BYTES,
      config: { access: access.gateway },
      schema: {
        summary:
          "A gateway's sync (X-Gateway-Key): push version, upstreams and tools, virtual servers, quarantine events, call records and rate-limit hits; pull policy and decisions",
        tags: ['gateway'],
        body: GatewaySyncBody,
        response: { 200: GatewaySyncAnswer, ...errors(409, 413) },
      },
    },
    async (request) => {
      const gw = request.gateway!;
      const scope = { orgId: gw.orgId };
      const body = request.body;
      const now = new Date().toISOString();
      const upNames = new Set(body.upstreams.map((u) => u.name));
      if (upNames.size !== body.upstreams.length) throw new ApiError(409, 'duplicate_upstream', 'Each upstream may appear once in a sync.');
      let alerts = 0;
      const answer = await withOrg(store, scope, async (tx) => {
        const db = g(tx);
        await db
          .updateTable('gateways')
          .set({
            version: body.version,
            last_seen_at: now,
            status: 'online',
            upstreams: JSON.stringify(body.upstreams.map((u) => ({ name: u.name, transport: u.transport, up: u.up }))),
            virtual_servers: JSON.stringify(body.virtualServers),
          })
          .where('org_id', '=', scope.orgId)
          .where('id', '=', gw.gatewayId)
          .execute();
        const seen = new Set<string>();
        const toolRows: GatewayToolsTable[] = [];
        for (const u of body.upstreams)
          for (const t of u.tools) {
            if (seen.has(t.federated)) continue;
            seen.add(t.federated);
            toolRows.push({
              org_id: scope.orgId,
              gateway_id: gw.gatewayId,
              federated: t.federated,
              upstream: u.name,
              tool: t.name,
              status: t.status,
              level: t.level,
              definition_hash: t.definitionHash,
              description: t.description?.slice(0, 2000) ?? null,
              updated_at: now,
            });
          }
        // the tools it serves now replace the ones it served before (rewritten only when they changed)
        const toolsHash = createHash('sha256')
          .update(JSON.stringify(toolRows.map((t) => [t.federated, t.upstream, t.tool, t.status, t.level, t.definition_hash, t.description])))
          .digest('hex');
        const before = await db.selectFrom('gateways').select('tools_hash').where('org_id', '=', scope.orgId).where('id', '=', gw.gatewayId).executeTakeFirst();
        if (before?.tools_hash !== toolsHash) {
          await db.deleteFrom('gateway_tools').where('org_id', '=', scope.orgId).where('gateway_id', '=', gw.gatewayId).execute();
          for (const rows of chunkRows(toolRows)) await db.insertInto('gateway_tools').values(rows).execute();
          await db.updateTable('gateways').set({ tools_hash: toolsHash }).where('org_id', '=', scope.orgId).where('id', '=', gw.gatewayId).execute();
        }

        // quarantine events: one row per (tool, new definition); a newer change supersedes an undecided older one
        const events: StoredEvent[] = [];
        const made: { id: string; eventId: string }[] = [];
        for (const q of body.quarantine) {
          const exists = await db
            .selectFrom('gateway_quarantine')
            .select('id')
            .where('org_id', '=', scope.orgId)
            .where('gateway_id', '=', gw.gatewayId)
            .where('federated', '=', q.federated)
            .where('new_hash', '=', q.newHash)
            .executeTakeFirst();
          if (exists) continue;
          await db
            .updateTable('gateway_quarantine')
            .set({ state: 'superseded' })
            .where('org_id', '=', scope.orgId)
            .where('gateway_id', '=', gw.gatewayId)
            .where('federated', '=', q.federated)
            .where('state', 'in', ['pending', 'awaiting_second'])
            .execute();
          const id = newId();
          await db
            .insertInto('gateway_quarantine')
            .values({
              id,
              org_id: scope.orgId,
              gateway_id: gw.gatewayId,
              federated: q.federated,
              upstream: q.upstream,
              tool: q.tool,
              level: q.level,
              old_hash: q.oldHash,
              new_hash: q.newHash,
              old_definition: q.oldDefinition,
              new_definition: q.newDefinition,
              reason: q.reason,
              state: 'pending',
              created_at: now,
              first_approver: null,
              first_approved_at: null,
              decided_by: null,
              decided_at: null,
              alert_id: null,
            })
            .execute();
          const eventId = timeOrderedId();
          made.push({ id, eventId });
          events.push({
            id: eventId,
            type: 'gateway_quarantine',
            severity: quarantineSeverity(q.level),
            instanceKey: null,
            fingerprint: null,
            summary: `Gateway ${gw.name} quarantined a changed definition of tool ${q.federated} (upstream ${q.upstream}); review it under Gateways > Quarantine`,
            details: {
              gatewayId: gw.gatewayId,
              gateway: gw.name,
              quarantineId: id,
              tool: q.federated,
              upstream: q.upstream,
              level: q.level,
              oldHash: q.oldHash,
              newHash: q.newHash,
            },
            hostId: null,
            serverId: null,
          });
          await writeAudit(tx, scope, {
            actorType: 'agent',
            actorId: `gateway:${gw.gatewayId}`,
            action: 'gateway_quarantine.created',
            targetType: 'gateway_quarantine',
            targetId: id,
            ip: request.ip,
            details: { gateway: gw.name, tool: q.federated, level: q.level, newHash: q.newHash },
          });
        }
        const stored = await storeEvents(tx, scope, events, null, now);
        alerts = stored.length;
        for (const a of stored) {
          const m = made.find((x) => x.eventId === a.event_id);
          if (m) await db.updateTable('gateway_quarantine').set({ alert_id: a.id }).where('org_id', '=', scope.orgId).where('id', '=', m.id).execute();
        }
        // a change released at the gateway itself (palisade gateway approve) is no longer waiting
        const waiting = await db
          .selectFrom('gateway_quarantine')
          .select(['federated', 'new_hash'])
          .where('org_id', '=', scope.orgId)
          .where('gateway_id', '=', gw.gatewayId)
          .where('state', 'in', ['pending', 'awaiting_second'])
          .execute();
        const okNow = new Map(toolRows.filter((t) => t.status === 'ok').map((t) => [t.federated, t.definition_hash]));
        for (const w of waiting)
          if (okNow.get(w.federated) === w.new_hash)
            await db
              .updateTable('gateway_quarantine')
              .set({ state: 'released_at_gateway', decided_at: now })
              .where('org_id', '=', scope.orgId)
              .where('gateway_id', '=', gw.gatewayId)
              .where('federated', '=', w.federated)
              .where('new_hash', '=', w.new_hash)
              .where('state', 'in', ['pending', 'awaiting_second'])
              .execute();

        // history: calls and rate-limit hits, pruned to the organisation's retention period
        const callRows = body.calls.map((c) => ({
          id: timeOrderedId(),
          org_id: scope.orgId,
          gateway_id: gw.gatewayId,
          at: new Date(Date.parse(c.at)).toISOString(),
          kind: c.kind,
          principal: c.principal,
          virtual_server: c.virtualServer,
          upstream: c.upstream,
          tool: c.tool,
          decision: c.decision,
          reason: c.reason,
          latency_ms: c.latencyMs,
          result_bytes: c.resultBytes,
        }));
        for (const rows of chunkRows(callRows)) await db.insertInto('gateway_calls').values(rows).execute();
        const hitRows = body.rateLimitHits.map((h) => ({
          id: timeOrderedId(),
          org_id: scope.orgId,
          gateway_id: gw.gatewayId,
          at: new Date(Date.parse(h.at)).toISOString(),
          principal: h.principal,
          virtual_server: h.virtualServer,
          tool: h.tool,
          reason: h.reason,
        }));
        for (const rows of chunkRows(hitRows)) await db.insertInto('gateway_rate_hits').values(rows).execute();
        const days = await getRetentionDays(tx, scope);
        const cutoff = new Date(Date.now() - days * 86_400_000).toISOString();
        await db.deleteFrom('gateway_calls').where('org_id', '=', scope.orgId).where('at', '<', cutoff).execute();
        await db.deleteFrom('gateway_rate_hits').where('org_id', '=', scope.orgId).where('at', '<', cutoff).execute();

        const settings = await getInventorySettings(tx, scope);
        const decided = await db
          .selectFrom('gateway_quarantine')
          .select(['id', 'federated', 'upstream', 'tool', 'new_hash', 'state', 'decided_at', 'decided_by'])
          .where('org_id', '=', scope.orgId)
          .where('gateway_id', '=', gw.gatewayId)
          .where('state', 'in', ['approved', 'rejected'])
          .orderBy('decided_at', 'desc')
          .limit(500)
          .execute();
        const deciders = await emails(
          db,
          scope.orgId,
          decided.map((d) => d.decided_by),
        );
        return {
          gatewayId: gw.gatewayId,
          name: gw.name,
          policy: {
            requireSecondApproverForCritical: settings.requireSecondApproverForCritical,
            gateway: await policyForGateway(db, scope.orgId, gw.gatewayId),
          },
          decisions: decided.map((d) => ({
            id: d.id,
            federated: d.federated,
            upstream: d.upstream,
            tool: d.tool,
            hash: d.new_hash,
            decision: d.state === 'approved' ? ('approve' as const) : ('reject' as const),
            decidedAt: d.decided_at ?? now,
            decidedBy: d.decided_by ? (deciders.get(d.decided_by) ?? 'a former member') : null,
          })),
          syncSeconds: SYNC_SECONDS,
        };
      });
      if (alerts > 0) void dispatcher.kick();
      // the upstreams enter the inventory through the ingest queue (scored by the same rules)
      try {
        await ingestQueueFor(store).accept(scope, gatewayReport(gw.name, body, now), { agentKeyId: `gateway:${gw.gatewayId}`, ip: request.ip });
      } catch (err) {
        request.log.warn({ err, gatewayId: gw.gatewayId }, 'the gateway inventory could not be queued for ingest');
      }
      return answer;
    },
  );
}
