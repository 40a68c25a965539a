// The advisories page (issue 14): search the stored advisories by id, alias or package, see
// which of your servers (and hosts) each affects and whether it is known exploited, when they
// were last updated; admins import an OSV file (one record or an array of records), which
// re-matches every organisation that runs a named package (advisories are public data shared
// by all organisations; matches and alerts stay per organisation). A server open to self
// sign-up of new organisations refuses dashboard imports: one tenant's admin would change what
// every other tenant sees.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { access } from '../auth/access.js';
import { writeAudit } from '../audit.js';
import { withOrg } from '../db/scope.js';
import { ApiError } from '../errors.js';
import { page } from '../http/pagination.js';
import { errors, named, Nullable, pageQuery, Time, typed } from '../http/schemas.js';
import { advisorySync, listAdvisories } from '../services/advisory-list.js';
import { rematchAfterImport, storeAdvisories } from '../services/advisories.js';

/** an OSV export file can be large; the dashboard sends it as parsed JSON */
export const MAX_IMPORT_BYTES = 32 * 1024 * 1024;

const SyncSchema = named('AdvisorySync', Type.Object({
  lastUpdatedAt: Nullable(Type.String({ description: 'when any advisory was last stored or updated' })),
  lastUpdateSource: Nullable(Type.String({ description: 'bundled (shipped with Palisade), import or sync' })),
  lastImportAt: Nullable(Type.String({ description: 'when advisories other than the bundled ones were last stored' })),
  advisories: Type.Integer(),
  knownExploited: Type.Integer({ description: 'CVE ids in the stored CISA KEV list' }),
  knownExploitedUpdatedAt: Nullable(Time),
}));

const AdvisoryItem = named('AdvisoryListItem', Type.Object({
  id: Type.String(),
  aliases: Type.Array(Type.String()),
  summary: Nullable(Type.String()),
  severity: Type.String(),
  severityBasis: Type.String(),
  knownExploited: Type.Boolean(),
  packages: Type.Array(Type.String({ description: 'ecosystem:name' })),
  modified: Type.String(),
  source: Type.String(),
  url: Nullable(Type.String({ description: 'an http(s) link from the record, if any' })),
  affected: Type.Array(
    Type.Object({
      serverId: Type.String(),
      name: Type.String(),
      version: Nullable(Type.String()),
      status: Type.String({ description: 'affected or possibly (version unknown)' }),
      fixed: Nullable(Type.String()),
      hosts: Type.Array(Type.Object({ id: Type.String(), hostname: Type.String() }), { description: 'up to 20 hosts that run it' }),
      hostCount: Type.Integer(),
    }),
  ),
  hostCount: Type.Integer({ description: 'distinct hosts running an affected server' }),
}));

export async function advisoriesRoutes(fastify: FastifyInstance): Promise<void> {
  const app = typed(fastify);
  const store = app.platform.store;

  app.get(
    '/advisories',
    {
      config: { access: access.user('inventory:read') },
      schema: {
        summary: 'Advisories: those affecting your servers (worst first), or all stored ones (affected=false, newest first)',
        tags: ['advisories'],
        querystring: Type.Object({
          q: Type.Optional(Type.String({ maxLength: 200, description: 'part of an id or package name, or an exact alias' })),
          affected: Type.Optional(Type.Boolean({ default: true })),
          ...pageQuery,
        }),
        response: { 200: Type.Object({ items: Type.Array(AdvisoryItem), total: Type.Integer(), sync: SyncSchema }) },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const { limit, offset } = page(request.query);
      return withOrg(store, scope, async (tx) => ({ ...(await listAdvisories(tx, scope, { q: request.query.q, affected: request.query.affected ?? true, limit, offset })), sync: await advisorySync(tx) }));
    },
  );

  app.post(
    '/advisories/import',
    {
      config: { access: access.user('advisories:import') },
      bodyLimit: MAX_IMPORT_BYTES,
      schema: {
        summary: 'Import OSV advisories (admins): stored, newest kept, then every organisation running a named package is re-matched',
        tags: ['advisories'],
        body: Type.Object({ records: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 200_000 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ added: Type.Integer(), updated: Type.Integer(), unchanged: Type.Integer(), skipped: Type.Integer(), reasons: Type.Array(Type.String(), { description: 'why records were skipped (first 20)' }), alerts: Type.Integer({ description: 'alerts raised by the re-match, all organisations' }) }),
          ...errors(400, 403, 413),
        },
      },
    },
    async (request) => {
      // advisories are shared by every organisation on this server: where anyone may create an
      // organisation (and so be its admin), one of them must not change what all the others see
      if (app.platform.config.signupOpen) throw new ApiError(403, 'import_not_allowed', 'This server lets anyone create an organisation, and advisories are shared by all of them, so they cannot be imported from the dashboard here; ask the operator of this server to import them.');
      const user = request.user!;
      const scope = { orgId: user.orgId };
      const stored = await storeAdvisories(store, request.body.records, { source: 'import' });
      const re = stored.changedPackages.length ? await rematchAfterImport(store, stored.changedPackages) : { alerts: 0 };
      const result = { added: stored.added, updated: stored.updated, unchanged: stored.unchanged, skipped: stored.skipped, reasons: stored.reasons.slice(0, 20), alerts: re.alerts };
      await withOrg(store, scope, (tx) => writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: 'advisory.imported', targetType: null, targetId: null, ip: request.ip, details: { records: request.body.records.length, added: result.added, updated: result.updated, unchanged: result.unchanged, skipped: result.skipped } }));
      return result;
    },
  );
}
