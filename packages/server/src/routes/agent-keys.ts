// Agent keys: created (shown once), listed by prefix, revoked.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { generateAgentKey } from '../auth/agent-keys.js';
import { newId } from '../auth/crypto.js';
import { writeAudit } from '../audit.js';
import { withOrg } from '../db/scope.js';
import { notFound } from '../errors.js';
import { Type } from 'typebox';
import { page } from '../http/pagination.js';
import { AgentIdentity, AgentKey, NewAgentKey } from '../http/models.js';
import { errors, IdParams, ListOf, ListQuery, NoContent, typed } from '../http/schemas.js';

export async function agentKeysRoutes(plain: FastifyInstance): Promise<void> {
  const app = typed(plain);
  const store = app.platform.store;

  app.post(
    '/agent-keys',
    {
      config: { access: access.user('agent-keys:write') },
      schema: {
        summary: 'Create an agent key; the key is returned only in this answer',
        tags: ['agent-keys'],
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
        response: { 201: NewAgentKey },
      },
    },
    async (request, reply) => {
      const actor = request.user!;
      const { key, prefix, hash } = generateAgentKey();
      const id = newId();
      const createdAt = new Date().toISOString();
      const name = request.body.name.trim() || 'agent';
      const scope = { orgId: actor.orgId };
      await withOrg(store, scope, async (tx) => {
        await tx.insertInto('agent_keys').values({ id, org_id: actor.orgId, name, prefix, key_hash: hash, created_by: actor.userId, created_at: createdAt, last_used_at: null, revoked_at: null }).execute();
        await writeAudit(tx, scope, { actorType: 'user', actorId: actor.userId, actorEmail: actor.email, action: 'agent_key.created', targetType: 'agent_key', targetId: id, ip: request.ip, details: { name, prefix } });
      });
      return reply.code(201).send({ id, key, prefix, name, createdAt });
    },
  );

  app.get(
    '/agent-keys',
    { config: { access: access.user('agent-keys:read') }, schema: { summary: 'Agent keys of your organisation (never the keys themselves)', tags: ['agent-keys'], querystring: ListQuery({}), response: { 200: ListOf(AgentKey) } } },
    async (request) => {
      const { orgId } = request.user!;
      const { limit, offset } = page(request.query);
      return withOrg(store, { orgId }, async (tx) => {
        const items = await tx
          .selectFrom('agent_keys')
          .select(['id', 'name', 'prefix', 'created_at as createdAt', 'last_used_at as lastUsedAt', 'revoked_at as revokedAt'])
          .where('org_id', '=', orgId)
          .orderBy('created_at', 'desc')
          .orderBy('id')
          .limit(limit)
          .offset(offset)
          .execute();
        const total = await tx.selectFrom('agent_keys').select((eb) => eb.fn.countAll<string | number>().as('n')).where('org_id', '=', orgId).executeTakeFirstOrThrow();
        return { items, total: Number(total.n) };
      });
    },
  );

  app.delete(
    '/agent-keys/:id',
    { config: { access: access.user('agent-keys:write') }, schema: { summary: 'Revoke an agent key (effective at once)', tags: ['agent-keys'], params: IdParams, response: { 204: NoContent, ...errors(404) } } },
    async (request, reply) => {
      const actor = request.user!;
      const scope = { orgId: actor.orgId };
      await withOrg(store, scope, async (tx) => {
        const r = await tx.updateTable('agent_keys').set({ revoked_at: new Date().toISOString() }).where('org_id', '=', actor.orgId).where('id', '=', request.params.id).where('revoked_at', 'is', null).executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw notFound('That active agent key');
        await writeAudit(tx, scope, { actorType: 'user', actorId: actor.userId, actorEmail: actor.email, action: 'agent_key.revoked', targetType: 'agent_key', targetId: request.params.id, ip: request.ip });
      });
      return reply.code(204).send();
    },
  );

  // Lets an agent check its key and server URL (`palisade configure`) without sending a report.
  app.get(
    '/agent/whoami',
    { config: { access: access.agent }, schema: { summary: 'The organisation and key id behind the presented agent key', tags: ['agent'], response: { 200: AgentIdentity } } },
    async (request) => ({ orgId: request.agent!.orgId, keyId: request.agent!.keyId }),
  );
}
