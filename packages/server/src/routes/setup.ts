// First start: create the first organisation and its owner with the one-time setup token.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { countUsers, createOrgWithOwner } from '../auth/accounts.js';
import { constantTimeEqual } from '../auth/crypto.js';
import { writeAudit } from '../audit.js';
import { withOrg } from '../db/scope.js';
import { storageFor } from '../db/storage.js';
import { ApiError } from '../errors.js';
import { signIn } from '../http/session.js';
import { Type } from 'typebox';
import { SetupState, UserAndOrg } from '../http/models.js';
import { asWire, errors, typed } from '../http/schemas.js';

export const credentialFields = {
  email: Type.String({ minLength: 3, maxLength: 320 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
};
export const orgNameField = Type.String({ minLength: 1, maxLength: 200 });

const alreadySetUp = () => new ApiError(409, 'already_set_up', 'Palisade is already set up; sign in, or ask an admin of your organisation for an invitation.');

export async function setupRoutes(plain: FastifyInstance): Promise<void> {
  const app = typed(plain);
  const p = app.platform;
  app.get(
    '/setup',
    { config: { access: access.public }, schema: { summary: 'Whether first-start setup is still needed', tags: ['setup'], response: { 200: SetupState } } },
    async () => ({ needed: p.setup.token !== null && (await countUsers(p.store)) === 0, signupOpen: p.config.signupOpen }),
  );

  app.post(
    '/setup',
    {
      config: { access: access.public, rateLimit: { max: 10, timeWindow: '1 minute' } },
      schema: {
        summary: 'Create the first organisation and its owner (only while no user exists)',
        tags: ['setup'],
        body: Type.Object({ setupToken: Type.String({ maxLength: 256 }), orgName: orgNameField, ...credentialFields }, { additionalProperties: false }),
        response: { 201: UserAndOrg, ...errors(409) },
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
          await storageFor(p.store).exclusiveTurn(tx, 'setup');
          if ((await tx.selectFrom('users').select('id').limit(1).execute()).length > 0) throw alreadySetUp();
        });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'already_set_up')) p.setup.token = expected;
        throw err;
      }
      const scope = { orgId: created.org.id };
      await withOrg(p.store, scope, (tx) => writeAudit(tx, scope, { actorType: 'user', actorId: created.user.id, actorEmail: created.user.email, action: 'setup.completed', targetType: 'org', targetId: created.org.id, ip: request.ip }));
      await signIn(app, reply, created.user, created.org.id);
      return reply.code(201).send(asWire(UserAndOrg, created));
    },
  );
}
