// First start: create the first organisation and its owner with the one-time setup token.
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { countUsers, createOrgWithOwner } from '../auth/accounts.js';
import { constantTimeEqual } from '../auth/crypto.js';
import { writeAudit } from '../audit.js';
import { withOrg } from '../db/scope.js';
import { ApiError } from '../errors.js';
import { signIn } from '../http/session.js';
import { errorSchema } from '../http/pagination.js';

export const userSchema = { type: 'object', properties: { id: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' }, createdAt: { type: 'string' } } } as const;
export const orgSchema = { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } } as const;
export const userAndOrg = { type: 'object', properties: { user: userSchema, org: orgSchema } } as const;
export const credentialFields = {
  email: { type: 'string', minLength: 3, maxLength: 320 },
  password: { type: 'string', minLength: 1, maxLength: 1024 },
} as const;
export const orgNameField = { type: 'string', minLength: 1, maxLength: 200 } as const;

const alreadySetUp = () => new ApiError(409, 'already_set_up', 'Palisade is already set up; sign in, or ask an admin of your organisation for an invitation.');

export async function setupRoutes(app: FastifyInstance): Promise<void> {
  const p = app.platform;
  app.get(
    '/setup',
    { config: { access: access.public }, schema: { summary: 'Whether first-start setup is still needed', tags: ['setup'], response: { 200: { type: 'object', properties: { needed: { type: 'boolean' }, signupOpen: { type: 'boolean' } } } } } },
    async () => ({ needed: p.setup.token !== null && (await countUsers(p.store)) === 0, signupOpen: p.config.signupOpen }),
  );

  app.post<{ Body: { setupToken: string; orgName: string; email: string; password: string } }>(
    '/setup',
    {
      config: { access: access.public, rateLimit: { max: 10, timeWindow: '1 minute' } },
      schema: {
        summary: 'Create the first organisation and its owner (only while no user exists)',
        tags: ['setup'],
        body: { type: 'object', required: ['setupToken', 'orgName', 'email', 'password'], additionalProperties: false, properties: { setupToken: { type: 'string', maxLength: 256 }, orgName: orgNameField, ...credentialFields } },
        response: { 201: userAndOrg, 403: errorSchema, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const expected = p.setup.token;
      if (expected === null) throw alreadySetUp();
      if (!constantTimeEqual(request.body.setupToken, expected)) throw new ApiError(403, 'bad_setup_token', 'The setup token is wrong; use the link printed when the server started (or the PALISADE_SETUP_TOKEN value).');
      if (Date.now() > p.setup.expiresAt) throw new ApiError(403, 'setup_token_expired', 'The setup link has expired (it works for 1 hour after the server starts); restart palisade serve and use the new link it prints.');
      // single use: the token is taken now; a failed attempt (e.g. a weak password) gives it back
      p.setup.token = null;
      let created: Awaited<ReturnType<typeof createOrgWithOwner>>;
      try {
        created = await createOrgWithOwner(p.store, request.body, async (tx) => {
          if (p.store.dialect === 'postgres') await sql`select pg_advisory_xact_lock(727166)`.execute(tx);
          if ((await tx.selectFrom('users').select('id').limit(1).execute()).length > 0) throw alreadySetUp();
        });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'already_set_up')) p.setup.token = expected;
        throw err;
      }
      const scope = { orgId: created.org.id };
      await withOrg(p.store, scope, (tx) => writeAudit(tx, scope, { actorType: 'user', actorId: created.user.id, actorEmail: created.user.email, action: 'setup.completed', targetType: 'org', targetId: created.org.id, ip: request.ip }));
      await signIn(app, reply, created.user, created.org.id);
      return reply.code(201).send(created);
    },
  );
}
