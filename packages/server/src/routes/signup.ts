// Self sign-up into an organisation that allows it, and the password strength check the
// sign-up, setup and invitation pages show live.
//
// An admin turns sign-up on in the organisation's settings (off by default; audited both
// ways); the organisation's sign-up link (/signup?org=<id>) then lets anyone create an account
// with the lowest role (viewer). The public routes are rate limited and never tell whether an
// email already has an account: a taken address gets the same 202 answer, after the same
// bcrypt work, and nothing changes. A closed organisation and an unknown id both answer 404.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { access } from '../auth/access.js';
import { emailTaken, normaliseEmail, requireStrongPassword } from '../auth/accounts.js';
import { newId } from '../auth/crypto.js';
import { hashPassword, passwordVerdict } from '../auth/passwords.js';
import { writeAudit } from '../audit.js';
import type { Role } from '../db/schema.js';
import { withOrg, type OrgScope, type Tx } from '../db/scope.js';
import { ApiError } from '../errors.js';

/** the org_settings key; absent or anything but 'true' means closed */
export const SETTING_SELF_SIGNUP = 'selfSignup';
/** the role a self-registered account gets: the lowest there is */
export const SIGNUP_ROLE: Role = 'viewer';

const ErrorBody = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) });
const OrgId = Type.String({ minLength: 36, maxLength: 36, pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', description: 'the organisation id from the sign-up link' });
const SignupSettings = Type.Object({
  enabled: Type.Boolean({ description: 'whether the sign-up link creates accounts' }),
  role: Type.String({ description: 'the role a self-registered account gets' }),
  path: Type.String({ description: "the organisation's sign-up link (path on this server)" }),
});
const SignupInfo = Type.Object({ orgName: Type.String(), role: Type.String() });
const SignupBody = Type.Object(
  { email: Type.String({ minLength: 3, maxLength: 320 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
const Accepted = Type.Object({ message: Type.String() });
const StrengthBody = Type.Object(
  { password: Type.String({ maxLength: 1024 }), email: Type.Optional(Type.String({ maxLength: 320 })) },
  { additionalProperties: false },
);
const Strength = Type.Object({
  score: Type.Integer({ minimum: 0, maximum: 4, description: 'zxcvbn score, 0 (guessed at once) to 4; the server accepts 3 and up' }),
  acceptable: Type.Boolean(),
  message: Type.Union([Type.String(), Type.Null()], { description: "why it would be refused, in words; null when it is accepted" }),
});

const closed = () => new ApiError(404, 'signup_closed', 'This organisation does not take sign-ups; ask one of its admins for an invitation.');
const ACCEPTED_MESSAGE = 'If this email had no account yet, it has one now in this organisation: sign in with this email and password.';

async function signupOpen(tx: Tx, scope: OrgScope): Promise<boolean> {
  const row = await tx.selectFrom('org_settings').select('value').where('org_id', '=', scope.orgId).where('key', '=', SETTING_SELF_SIGNUP).executeTakeFirst();
  return row?.value === 'true';
}

/** The organisation's name when it takes sign-ups, else null (unknown and closed look the same). */
async function openOrgName(tx: Tx, scope: OrgScope): Promise<string | null> {
  if (!(await signupOpen(tx, scope))) return null;
  const org = await tx.selectFrom('orgs').select('name').where('id', '=', scope.orgId).executeTakeFirst();
  return org?.name ?? null;
}

export async function signupRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const store = app.platform.store;
  const view = (orgId: string, enabled: boolean) => ({ enabled, role: SIGNUP_ROLE, path: `/signup?org=${orgId}` });

  app.get(
    '/signup/settings',
    {
      config: { access: access.user('settings:read') },
      schema: { summary: "Whether your organisation's sign-up link creates accounts, and the link", tags: ['settings'], response: { 200: SignupSettings, 403: ErrorBody } },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      return view(scope.orgId, await withOrg(store, scope, (tx) => signupOpen(tx, scope)));
    },
  );

  app.put(
    '/signup/settings',
    {
      config: { access: access.user('settings:write') },
      schema: {
        summary: 'Turn self sign-up on or off for your organisation (audited)',
        tags: ['settings'],
        body: Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: SignupSettings, 403: ErrorBody },
      },
    },
    async (request) => {
      const user = request.user!;
      const scope = { orgId: user.orgId };
      const enabled = request.body.enabled;
      await withOrg(store, scope, async (tx) => {
        if ((await signupOpen(tx, scope)) === enabled) return;
        const now = new Date().toISOString();
        await tx
          .insertInto('org_settings')
          .values({ org_id: scope.orgId, key: SETTING_SELF_SIGNUP, value: String(enabled), updated_at: now })
          .onConflict((oc) => oc.columns(['org_id', 'key']).doUpdateSet({ value: String(enabled), updated_at: now }))
          .execute();
        await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: 'settings.updated', targetType: 'org', targetId: scope.orgId, ip: request.ip, details: { selfSignup: enabled } });
      });
      return view(scope.orgId, enabled);
    },
  );

  app.get(
    '/signup/:org',
    {
      config: { access: access.public, rateLimit: { max: 30, timeWindow: '1 minute' } },
      schema: {
        summary: 'The organisation behind a sign-up link, when it takes sign-ups (404 otherwise, the same for an unknown id)',
        tags: ['auth'],
        params: Type.Object({ org: OrgId }),
        response: { 200: SignupInfo, 404: ErrorBody },
      },
    },
    async (request) => {
      const scope = { orgId: request.params.org };
      const name = await withOrg(store, scope, (tx) => openOrgName(tx, scope));
      if (name === null) throw closed();
      return { orgName: name, role: SIGNUP_ROLE };
    },
  );

  app.post(
    '/signup/:org',
    {
      config: { access: access.public, rateLimit: { max: 10, timeWindow: '1 minute' } },
      schema: {
        summary: 'Create an account (the lowest role) in an organisation that takes sign-ups; the answer is the same whether or not the email already has an account',
        tags: ['auth'],
        params: Type.Object({ org: OrgId }),
        body: SignupBody,
        response: { 202: Accepted, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const scope = { orgId: request.params.org };
      const email = normaliseEmail(request.body.email);
      if ((await withOrg(store, scope, (tx) => openOrgName(tx, scope))) === null) throw closed();
      requireStrongPassword(request.body.password, email);
      // the bcrypt work happens for a taken address too: the answer takes as long either way
      const passwordHash = await hashPassword(request.body.password);
      const userId = newId();
      const now = new Date().toISOString();
      const created = await withOrg(store, scope, async (tx) => {
        // checked again inside the transaction: an admin may have closed it meanwhile
        if (!(await signupOpen(tx, scope))) throw closed();
        if (await emailTaken({ db: tx }, email)) return false;
        await tx.insertInto('users').values({ id: userId, email, password_hash: passwordHash, created_at: now, last_login_at: null }).execute();
        await tx.insertInto('memberships').values({ org_id: scope.orgId, user_id: userId, role: SIGNUP_ROLE, created_at: now }).execute();
        await writeAudit(tx, scope, { actorType: 'user', actorId: userId, actorEmail: email, action: 'auth.self_signup', targetType: 'user', targetId: userId, ip: request.ip, details: { role: SIGNUP_ROLE } });
        return true;
      });
      if (!created) request.log.info({ reason: 'email already registered' }, 'sign-up did nothing');
      return reply.code(202).send({ message: ACCEPTED_MESSAGE });
    },
  );

  app.post(
    '/password-strength',
    {
      config: { access: access.public, rateLimit: { max: 120, timeWindow: '1 minute' } },
      schema: {
        summary: "How the server judges a password (the same check sign-up, setup and invitations apply); for the pages' strength meter. Nothing is stored or logged.",
        tags: ['auth'],
        body: StrengthBody,
        response: { 200: Strength },
      },
    },
    async (request) => {
      const email = request.body.email?.trim().toLowerCase() || undefined;
      return passwordVerdict(request.body.password, email);
    },
  );
}
