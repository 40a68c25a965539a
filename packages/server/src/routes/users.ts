// Users of the organisation: list, change role, remove. The last owner stays; only owners
// grant or take away ownership.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { can } from '../auth/permissions.js';
import { revokeUserSessions } from '../auth/sessions.js';
import { writeAudit } from '../audit.js';
import type { Role } from '../db/schema.js';
import { withOrg, type Tx } from '../db/scope.js';
import { storageFor, type Storage } from '../db/storage.js';
import { ApiError, forbidden, notFound } from '../errors.js';
import { page } from '../http/pagination.js';
import { Role as RoleSchema, User } from '../http/models.js';
import { errors, IdParams, ListOf, ListQuery, NoContent, typed } from '../http/schemas.js';
import { Type } from 'typebox';
const lastOwner = () => new ApiError(409, 'last_owner', 'This is the last owner of the organisation; make someone else an owner first.');

/**
 * Locks the organisation's owner rows for the rest of the transaction (PostgreSQL: SELECT ...
 * FOR UPDATE, through the storage adapter, in id order so two callers never deadlock) and returns how many there are. A
 * concurrent demotion or removal waits here, and once the first commits it re-reads the rows
 * (READ COMMITTED re-checks `role = 'owner'` on the locked rows), so two of them can never
 * both see "two owners" and leave none. SQLite runs one write transaction at a time already.
 * Call it BEFORE reading the target's role, so that read is after the lock too.
 */
async function lockOwners(tx: Tx, orgId: string, storage: Storage): Promise<number> {
  const q = tx.selectFrom('memberships').select('user_id').where('org_id', '=', orgId).where('role', '=', 'owner').orderBy('user_id');
  return (await storage.forUpdate(q).execute()).length;
}

async function membership(tx: Tx, orgId: string, userId: string) {
  const m = await tx
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id', 'users.email', 'memberships.role', 'users.created_at as createdAt', 'users.last_login_at as lastLoginAt'])
    .where('memberships.org_id', '=', orgId)
    .where('memberships.user_id', '=', userId)
    .executeTakeFirst();
  if (!m) throw notFound('That user');
  return m;
}

export async function usersRoutes(plain: FastifyInstance): Promise<void> {
  const app = typed(plain);
  const store = app.platform.store;
  const storage = storageFor(store);

  app.get(
    '/users',
    { config: { access: access.user('users:read') }, schema: { summary: 'Users of your organisation', tags: ['users'], querystring: ListQuery({}), response: { 200: ListOf(User) } } },
    async (request) => {
      const { orgId } = request.user!;
      const { limit, offset } = page(request.query);
      return withOrg(store, { orgId }, async (tx) => {
        const base = tx.selectFrom('memberships').innerJoin('users', 'users.id', 'memberships.user_id').where('memberships.org_id', '=', orgId);
        const items = await base
          .select(['users.id', 'users.email', 'memberships.role', 'users.created_at as createdAt', 'users.last_login_at as lastLoginAt'])
          .orderBy('users.created_at')
          .orderBy('users.id')
          .limit(limit)
          .offset(offset)
          .execute();
        const total = await base.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
        return { items, total: Number(total.n) };
      });
    },
  );

  app.patch(
    '/users/:id',
    {
      config: { access: access.user('users:manage') },
      schema: {
        summary: "Change a user's role",
        tags: ['users'],
        params: IdParams,
        body: Type.Object({ role: RoleSchema }, { additionalProperties: false }),
        response: { 200: User, ...errors(404, 409) },
      },
    },
    async (request) => {
      const actor = request.user!;
      const scope = { orgId: actor.orgId };
      return withOrg(store, scope, async (tx) => {
        const owners = await lockOwners(tx, actor.orgId, storage);
        // the actor's role as it is now (a concurrent change may have just committed)
        const actorRole = (await membership(tx, actor.orgId, actor.userId).catch(() => ({ role: 'viewer' as Role }))).role;
        const target = await membership(tx, actor.orgId, request.params.id);
        const to = request.body.role;
        if ((target.role === 'owner' || to === 'owner') && !can(actorRole, 'users:grant-owner')) throw forbidden('Only an owner can grant ownership or change an owner; ask an owner of your organisation.');
        if (target.role === 'owner' && to !== 'owner' && owners <= 1) throw lastOwner();
        if (target.role !== to) {
          await tx.updateTable('memberships').set({ role: to }).where('org_id', '=', actor.orgId).where('user_id', '=', target.id).execute();
          await writeAudit(tx, scope, { actorType: 'user', actorId: actor.userId, actorEmail: actor.email, action: 'user.role_changed', targetType: 'user', targetId: target.id, ip: request.ip, details: { from: target.role, to } });
        }
        return { ...target, role: to };
      });
    },
  );

  app.delete(
    '/users/:id',
    { config: { access: access.user('users:manage') }, schema: { summary: 'Remove a user from your organisation (ends their sessions)', tags: ['users'], params: IdParams, response: { 204: NoContent, ...errors(404, 409) } } },
    async (request, reply) => {
      const actor = request.user!;
      const scope = { orgId: actor.orgId };
      await withOrg(store, scope, async (tx) => {
        const owners = await lockOwners(tx, actor.orgId, storage);
        // the actor's role as it is now (a concurrent change may have just committed)
        const actorRole = (await membership(tx, actor.orgId, actor.userId).catch(() => ({ role: 'viewer' as Role }))).role;
        const target = await membership(tx, actor.orgId, request.params.id);
        if (target.role === 'owner' && !can(actorRole, 'users:grant-owner')) throw forbidden('Only an owner can remove an owner; ask an owner of your organisation.');
        if (target.role === 'owner' && owners <= 1) throw lastOwner();
        await tx.deleteFrom('memberships').where('org_id', '=', actor.orgId).where('user_id', '=', target.id).execute();
        await tx.updateTable('sessions').set({ revoked_at: new Date().toISOString(), revoked_reason: 'removed' }).where('user_id', '=', target.id).where('org_id', '=', actor.orgId).where('revoked_at', 'is', null).execute();
        // accounts belong to one organisation; the account goes with its membership
        await tx.deleteFrom('users').where('id', '=', target.id).execute();
        await writeAudit(tx, scope, { actorType: 'user', actorId: actor.userId, actorEmail: actor.email, action: 'user.removed', targetType: 'user', targetId: target.id, ip: request.ip, details: { email: target.email, role: target.role } });
      });
      await revokeUserSessions(store, request.params.id, actor.orgId, 'removed');
      return reply.code(204).send();
    },
  );
}
