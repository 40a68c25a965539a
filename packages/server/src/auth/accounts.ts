// Organisations, users and memberships: creating the first owner, signing in, resolving the
// signed-in user of a request.
import type { Role } from '../db/schema.js';
import { withLookup, withOrg, type Db, type Tx } from '../db/scope.js';
import { ApiError } from '../errors.js';
import { newId } from './crypto.js';
import { hashPassword, passwordProblem } from './passwords.js';

export interface AuthUser {
  userId: string;
  orgId: string;
  role: Role;
  email: string;
  sessionId: string;
}

export interface PublicUser {
  id: string;
  email: string;
  role: Role;
  createdAt: string;
}

export interface PublicOrg {
  id: string;
  name: string;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export function normaliseEmail(email: string): string {
  const e = email.trim().toLowerCase();
  if (!EMAIL.test(e)) throw new ApiError(400, 'bad_request', 'That is not a valid email address; check it and try again.');
  return e;
}

export function requireStrongPassword(password: string, email?: string): void {
  const problem = passwordProblem(password, email);
  if (problem) throw new ApiError(400, 'weak_password', problem);
}

export async function countUsers(store: Db): Promise<number> {
  const r = await store.db.selectFrom('users').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function emailTaken(store: Db | { db: Tx }, email: string): Promise<boolean> {
  return Boolean(await store.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst());
}

/** Creates an organisation and its owner. `guard` runs inside the transaction first (e.g. "no user exists yet"). */
export async function createOrgWithOwner(
  store: Db,
  input: { orgName: string; email: string; password: string },
  guard?: (tx: Tx) => Promise<void>,
  opts?: { quietIfTaken?: false },
): Promise<{ user: PublicUser; org: PublicOrg }>;
export async function createOrgWithOwner(
  store: Db,
  input: { orgName: string; email: string; password: string },
  guard: ((tx: Tx) => Promise<void>) | undefined,
  opts: { quietIfTaken: true },
): Promise<{ user: PublicUser; org: PublicOrg } | null>;
export async function createOrgWithOwner(
  store: Db,
  input: { orgName: string; email: string; password: string },
  guard?: (tx: Tx) => Promise<void>,
  opts: { quietIfTaken?: boolean } = {},
): Promise<{ user: PublicUser; org: PublicOrg } | null> {
  const email = normaliseEmail(input.email);
  requireStrongPassword(input.password, email);
  const orgName = input.orgName.trim();
  if (!orgName) throw new ApiError(400, 'bad_request', 'Give the organisation a name.');
  const passwordHash = await hashPassword(input.password);
  const orgId = newId();
  const userId = newId();
  const now = new Date().toISOString();
  const made = await withOrg(store, { orgId }, async (tx) => {
    if (guard) await guard(tx);
    if (await emailTaken({ db: tx }, email)) {
      // sign-up answers the same either way (no enumeration); setup is a one-off and says so
      if (opts.quietIfTaken) return false;
      throw new ApiError(409, 'email_taken', 'An account with this email already exists; sign in instead.');
    }
    await tx.insertInto('orgs').values({ id: orgId, name: orgName, created_at: now }).execute();
    await tx.insertInto('users').values({ id: userId, email, password_hash: passwordHash, created_at: now, last_login_at: null }).execute();
    await tx.insertInto('memberships').values({ org_id: orgId, user_id: userId, role: 'owner', created_at: now }).execute();
    return true;
  });
  if (!made) return null;
  return { user: { id: userId, email, role: 'owner', createdAt: now }, org: { id: orgId, name: orgName } };
}

export interface LoginCandidate {
  userId: string;
  email: string;
  passwordHash: string;
  createdAt: string;
  orgId: string;
  orgName: string;
  role: Role;
}

/** The account behind an email with its (first) organisation, or null. */
export async function findLoginCandidate(store: Db, email: string): Promise<LoginCandidate | null> {
  const user = await store.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  if (!user) return null;
  // memberships and orgs are tenant tables: the self_lookup policies show a user only their own
  return withLookup(store, { 'app.user_id': user.id }, async (tx) => {
    const m = await tx
      .selectFrom('memberships')
      .innerJoin('orgs', 'orgs.id', 'memberships.org_id')
      .select(['memberships.org_id', 'memberships.role', 'orgs.name'])
      .where('memberships.user_id', '=', user.id)
      .orderBy('memberships.created_at')
      .executeTakeFirst();
    if (!m) return null;
    return { userId: user.id, email: user.email, passwordHash: user.password_hash, createdAt: user.created_at, orgId: m.org_id, orgName: m.name, role: m.role };
  });
}

/** The user behind a verified access token, checked against the database on every request so
 * that logout, removal and role changes apply at once. One transaction, one query. */
export async function resolveSessionUser(store: Db, claims: { sub: string; org: string; sid: string }): Promise<AuthUser | null> {
  return withOrg(store, { orgId: claims.org }, async (tx) => {
    const row = await tx
      .selectFrom('sessions')
      .innerJoin('memberships', (j) => j.onRef('memberships.user_id', '=', 'sessions.user_id').onRef('memberships.org_id', '=', 'sessions.org_id'))
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select(['memberships.role', 'users.email'])
      .where('sessions.id', '=', claims.sid)
      .where('sessions.revoked_at', 'is', null)
      .where('sessions.user_id', '=', claims.sub)
      .where('sessions.org_id', '=', claims.org)
      .where('memberships.org_id', '=', claims.org)
      .executeTakeFirst();
    if (!row) return null;
    return { userId: claims.sub, orgId: claims.org, role: row.role, email: row.email, sessionId: claims.sid };
  });
}

export async function getOrg(store: Db, orgId: string): Promise<PublicOrg> {
  const org = await withOrg(store, { orgId }, (tx) => tx.selectFrom('orgs').select(['id', 'name']).where('id', '=', orgId).executeTakeFirstOrThrow());
  return org;
}
