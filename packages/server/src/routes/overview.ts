// The overview: counts by level (real and effective), the 30-day risk trend, top risky servers,
// servers new or changed this week, hosts not reporting, alerts not yet resolved.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { named, Nullable, typed } from '../http/schemas.js';
import { access } from '../auth/access.js';
import { withOrg } from '../db/scope.js';
import { overview } from '../services/queries.js';

const LevelT = Type.Union([Type.Literal('critical'), Type.Literal('high'), Type.Literal('medium'), Type.Literal('low'), Type.Literal('none')]);
const LevelCounts = Type.Object({ critical: Type.Integer(), high: Type.Integer(), medium: Type.Integer(), low: Type.Integer(), none: Type.Integer() });
const SeverityCounts = Type.Object({ critical: Type.Integer(), high: Type.Integer(), medium: Type.Integer(), low: Type.Integer(), info: Type.Integer() });

/** A server as lists show it (services/queries.ts serverSummary). */
const ServerSummaryT = Type.Object({
  id: Type.String(),
  fingerprint: Type.String(),
  name: Type.String(),
  transport: Type.String(),
  command: Nullable(Type.String()),
  args: Type.Array(Type.String()),
  url: Nullable(Type.String()),
  package: Nullable(Type.Object({ ecosystem: Type.String(), name: Type.String(), version: Type.Optional(Type.String()) })),
  score: Type.Integer(),
  level: LevelT,
  effectiveLevel: LevelT,
  override: Nullable(Type.Object({ id: Type.String(), decision: Type.Union([Type.Literal('accept_risk'), Type.Literal('benign')]), status: Type.Union([Type.Literal('active'), Type.Literal('pending')]), expiresAt: Type.String() })),
  clients: Type.Array(Type.String()),
  hostCount: Type.Integer(),
  instanceCount: Type.Integer(),
  findingCount: Type.Integer(),
  firstSeen: Type.String(),
  lastSeen: Type.String(),
});

const OverviewT = named('Overview', Type.Object({
  servers: Type.Object({ total: Type.Integer(), byLevel: LevelCounts, byEffectiveLevel: LevelCounts }),
  trend: Type.Array(Type.Object({ day: Type.String(), byLevel: LevelCounts }), { description: 'one point per day with a snapshot, last 30 days' }),
  topRisky: Type.Array(ServerSummaryT),
  newThisWeek: Type.Integer(),
  newServers: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), level: LevelT, score: Type.Integer(), firstSeen: Type.String() }), { description: 'first seen in the last 7 days, riskiest first (10)' }),
  changedServers: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), level: LevelT, score: Type.Integer(), changes: Type.Array(Type.String()), at: Type.String() }), { description: 'config, tools or level changed in the last 7 days, latest first (10)' }),
  silentHosts: Type.Array(Type.Object({ id: Type.String(), hostname: Type.String(), osUser: Type.String(), lastSeen: Type.String(), maxLevel: LevelT }), { description: 'hosts not reporting, longest silent first (10)' }),
  hosts: Type.Object({ total: Type.Integer(), reporting: Type.Integer(), silent: Type.Integer() }),
  alerts: Type.Object({ open: Type.Integer(), acknowledged: Type.Integer(), bySeverity: SeverityCounts }),
}));

export async function overviewRoutes(fastify: FastifyInstance): Promise<void> {
  const app = typed(fastify);
  const store = app.platform.store;
  app.get(
    '/overview',
    { config: { access: access.user('inventory:read') }, schema: { summary: 'Counts, trend, top risky servers, new and changed servers, silent hosts and open alerts', tags: ['inventory'], response: { 200: OverviewT } } },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      return withOrg(store, scope, (tx) => overview(tx, scope));
    },
  );
}
