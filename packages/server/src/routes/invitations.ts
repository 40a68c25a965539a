// Invitations: an admin invites an email with a role; the one-time token (7 days) creates the
// account. The token is stored only as SHA-256. The invitation page first looks the link up
// (POST, so the token never lands in a request log's URL) to say who invites whom, as what.
// Self sign-up (routes/signup.ts) is registered from here: the other way into an organisation.
import type { FastifyInstance } from 'fastify';
import { Type, type TSchema, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { access } from '../auth/access.js';
import { emailTaken, normaliseEmail, requireStrongPassword } from '../auth/accounts.js';
import { newId, randomToken, sha256Hex } from '../auth/crypto.js';
import { hashPassword } from '../auth/passwords.js';
import { can, roles } from '../auth/permissions.js';
import { writeAudit } from '../audit.js';
import type { InvitationsTable } from '../db/schema.js';
import { scopeTransaction, withLookup, withOrg } from '../db/scope.js';
import { ApiError, forbidden, notFound } from '../errors.js';
import { page } from '../http/pagination.js';
import { signIn } from '../http/session.js';
import { signupRoutes } from './signup.js';

const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const ErrorBody = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) });
const RoleName = Type.Union(roles.map((r) => Type.Literal(r)));
const Invitation = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.String(),
  acceptedAt: Nullable(Type.String()),
  revokedAt: Nullable(Type.String()),
});
const NewInvitation = Type.Object({
  ...Invitation.properties,
  token: Type.String({ description: 'the one-time token; shown once' }),
  link: Type.String({ description: 'the page that accepts it (a path on this server)' }),
});
const Token = Type.String({ minLength: 1, maxLength: 256 });
const UserAndOrg = Type.Object({
  user: Type.Object({ id: Type.String(), email: Type.String(), role: Type.String(), createdAt: Type.String() }),
  org: Type.Object({ id: Type.String(), name: Type.String() }),
});
const InvitationLookup = Type.Object({ email: Type.String(), role: Type.String(), orgName: Type.String(), expiresAt: Type.String() });
const invalidInvitation = () => new ApiError(400, 'invalid_invitation', 'This invitation link is not valid any more (expired, used or revoked); ask an admin for a new one.');

/** The invitation behind a token while it can still be accepted, else null. */
async function usableInvitation(store: FastifyInstance['platform']['store'], token: string): Promise<InvitationsTable | null> {
  const tokenHash = sha256Hex(token);
  const invitation = await withLookup(store, { 'app.token_hash': tokenHash }, (tx) => tx.selectFrom('invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst());
  if (!invitation || invitation.accepted_at || invitation.revoked_at || invitation.expires_at <= new Date().toISOString()) return null;
  return invitation;
}

export async function invitationsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const store = app.platform.store;
  await app.register(signupRoutes);

  app.post(
    '/invitations',
    {
      config: { access: access.user('users:invite') },
      schema: {
        summary: 'Invite someone by email with a role; returns a one-time link',
        tags: ['users'],
        body: Type.Object({ email: Type.String({ maxLength: 320 }), role: RoleName }, { additionalProperties: false }),
        response: { 201: NewInvitation, 400: ErrorBody, 403: ErrorBody },
      },
    },
    async (request, reply) => {
      const actor = request.user!;
      const email = normaliseEmail(request.body.email);
      if (request.body.role === 'owner' && !can(actor.role, 'users:grant-owner')) throw forbidden('Only an owner can invite another owner.');
      // no "already has an account" answer here: inviting tells nothing about other organisations' users
      const token = randomToken(32);
      const now = new Date();
      const row = { id: newId(), org_id: actor.orgId, email, role: request.body.role, token_hash: sha256Hex(token), created_by: actor.userId, created_at: now.toISOString(), expires_at: new Date(now.getTime() + INVITE_TTL_MS).toISOString(), accepted_at: null, revoked_at: null };
      const scope = { orgId: actor.orgId };
      await withOrg(store, scope, async (tx) => {
        await tx.insertInto('invitations').values(row).execute();
        await writeAudit(tx, scope, { actorType: 'user', actorId: actor.userId, actorEmail: actor.email, action: 'invitation.created', targetType: 'invitation', targetId: row.id, ip: request.ip, details: { email, role: row.role } });
      });
      return reply.code(201).send({ id: row.id, email, role: row.role, createdAt: row.created_at, expiresAt: row.expires_at, acceptedAt: null, revokedAt: null, token, link: `/invite?token=${token}` });
    },
  );

  app.get(
    '/invitations',
    {
      config: { access: access.user('users:invite') },
      schema: {
        summary: 'Invitations of your organisation',
        tags: ['users'],
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 50 })),
          offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 })),
        }),
        response: { 200: Type.Object({ items: Type.Array(Invitation), total: Type.Integer() }), 403: ErrorBody },
      },
    },
    async (request) => {
      const { orgId } = request.user!;
      const { limit, offset } = page(request.query);
      return withOrg(store, { orgId }, async (tx) => {
        const items = await tx
          .selectFrom('invitations')
          .select(['id', 'email', 'role', 'created_at as createdAt', 'expires_at as expiresAt', 'accepted_at as acceptedAt', 'revoked_at as revokedAt'])
          .where('org_id', '=', orgId)
          .orderBy('created_at', 'desc')
          .limit(limit)
          .offset(offset)
          .execute();
        const total = await tx.selectFrom('invitations').select((eb) => eb.fn.countAll<string | number>().as('n')).where('org_id', '=', orgId).executeTakeFirstOrThrow();
        return { items, total: Number(total.n) };
      });
    },
  );

  app.delete(
    '/invitations/:id',
    {
      config: { access: access.user('users:invite') },
      schema: {
        summary: 'Revoke a pending invitation',
        tags: ['users'],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 204: Type.Unsafe<undefined>({ type: 'null', description: 'revoked (no body)' }), 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const actor = request.user!;
      const scope = { orgId: actor.orgId };
      await withOrg(store, scope, async (tx) => {
        const r = await tx.updateTable('invitations').set({ revoked_at: new Date().toISOString() }).where('org_id', '=', actor.orgId).where('id', '=', request.params.id).where('accepted_at', 'is', null).where('revoked_at', 'is', null).executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw notFound('That pending invitation');
        await writeAudit(tx, scope, { actorType: 'user', actorId: actor.userId, actorEmail: actor.email, action: 'invitation.revoked', targetType: 'invitation', targetId: request.params.id, ip: request.ip });
      });
      return reply.code(204).send();
    },
  );

  app.post(
    '/invitations/lookup',
    {
      config: { access: access.public, rateLimit: { max: 30, timeWindow: '1 minute' } },
      schema: {
        summary: 'Who an invitation link is for (email, role, organisation) while it can be accepted; 400 otherwise',
        tags: ['users'],
        body: Type.Object({ token: Token }, { additionalProperties: false }),
        response: { 200: InvitationLookup, 400: ErrorBody },
      },
    },
    async (request) => {
      const invitation = await usableInvitation(store, request.body.token);
      if (!invitation) throw invalidInvitation();
      const scope = { orgId: invitation.org_id };
      const org = await withOrg(store, scope, (tx) => tx.selectFrom('orgs').select('name').where('id', '=', invitation.org_id).executeTakeFirstOrThrow());
      return { email: invitation.email, role: invitation.role, orgName: org.name, expiresAt: invitation.expires_at };
    },
  );

  app.post(
    '/invitations/accept',
    {
      config: { access: access.public, rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        summary: 'Accept an invitation: creates the account and signs in',
        tags: ['users'],
        body: Type.Object({ token: Token, password: Type.String({ maxLength: 1024 }) }, { additionalProperties: false }),
        response: { 201: UserAndOrg, 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const tokenHash = sha256Hex(request.body.token);
      const invitation = await usableInvitation(store, request.body.token);
      if (!invitation) throw invalidInvitation();
      requireStrongPassword(request.body.password, invitation.email);
      const passwordHash = await hashPassword(request.body.password);
      const userId = newId();
      const now = new Date().toISOString();
      const scope = { orgId: invitation.org_id };
      const org = await withLookup(store, { 'app.token_hash': tokenHash }, async (tx) => {
        await scopeTransaction(tx, store.dialect, invitation.org_id);
        // single use: only the first acceptance flips accepted_at
        const used = await tx.updateTable('invitations').set({ accepted_at: now }).where('id', '=', invitation.id).where('org_id', '=', invitation.org_id).where('accepted_at', 'is', null).where('revoked_at', 'is', null).executeTakeFirst();
        if (Number(used.numUpdatedRows) !== 1) throw invalidInvitation();
        // an address that already has an account (here or elsewhere) gets the same answer as a
        // used link, after the same bcrypt work: accepting tells nothing more than a bad link
        if (await emailTaken({ db: tx }, invitation.email)) throw invalidInvitation();
        await tx.insertInto('users').values({ id: userId, email: invitation.email, password_hash: passwordHash, created_at: now, last_login_at: null }).execute();
        await tx.insertInto('memberships').values({ org_id: invitation.org_id, user_id: userId, role: invitation.role, created_at: now }).execute();
        await writeAudit(tx, scope, { actorType: 'user', actorId: userId, actorEmail: invitation.email, action: 'invitation.accepted', targetType: 'invitation', targetId: invitation.id, ip: request.ip, details: { role: invitation.role } });
        return tx.selectFrom('orgs').select(['id', 'name']).where('id', '=', invitation.org_id).executeTakeFirstOrThrow();
      });
      await signIn(app, reply, { id: userId, role: invitation.role }, invitation.org_id);
      return reply.code(201).send({ user: { id: userId, email: invitation.email, role: invitation.role, createdAt: now }, org });
    },
  );
}
