// Organisation settings: the second approver for critical overrides, and history retention.
// Turning the second approver off needs an owner to ask and a different admin or owner to
// approve (four eyes on the four-eyes rule); turning it on applies at once.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { writeAudit } from '../audit.js';
import { withOrg, type OrgScope, type Tx } from '../db/scope.js';
import { ApiError } from '../errors.js';
import { Type } from 'typebox';
import { OrgSettings } from '../http/models.js';
import { asWire, errors, typed } from '../http/schemas.js';
import {
  getInventorySettings,
  getSecondApproverOffRequest,
  RETENTION_DAYS,
  setRetentionDays,
  setSecondApprover,
  setSecondApproverOffRequest,
} from '../services/settings.js';

async function view(tx: Tx, scope: OrgScope) {
  return asWire(OrgSettings, { ...(await getInventorySettings(tx, scope)), pendingSecondApproverOff: await getSecondApproverOffRequest(tx, scope) });
}

export async function settingsRoutes(plain: FastifyInstance): Promise<void> {
  const app = typed(plain);
  const store = app.platform.store;
  app.get('/settings', { config: { access: access.user('settings:read') }, schema: { summary: 'Organisation settings', tags: ['settings'], response: { 200: OrgSettings } } }, async (request) => {
    const scope = { orgId: request.user!.orgId };
    return withOrg(store, scope, (tx) => view(tx, scope));
  });
  app.patch(
    '/settings',
    {
      config: { access: access.user('settings:write') },
      schema: {
        summary: 'Change organisation settings (turning the second approver off is a request that another admin or owner approves: 202)',
        tags: ['settings'],
        body: Type.Object({ requireSecondApproverForCritical: Type.Optional(Type.Boolean()), retentionDays: Type.Optional(Type.Integer({ minimum: RETENTION_DAYS.min, maximum: RETENTION_DAYS.max })) }, { additionalProperties: false }),
        response: { 200: OrgSettings, 202: OrgSettings },
      },
    },
    async (request, reply) => {
      const user = request.user!;
      const scope = { orgId: user.orgId };
      // The reply is sent after the transaction commits: a reply sent from inside it would let
      // the client's next request read the state before this change.
      const { requested, result } = await withOrg(store, scope, async (tx) => {
        const now = new Date().toISOString();
        const { requireSecondApproverForCritical, retentionDays } = request.body;
        const current = await getInventorySettings(tx, scope);
        let requested = false;
        if (requireSecondApproverForCritical === true) {
          await setSecondApprover(tx, scope, true, now);
          await setSecondApproverOffRequest(tx, scope, null, now);
        } else if (requireSecondApproverForCritical === false && current.requireSecondApproverForCritical) {
          if (user.role !== 'owner') throw new ApiError(403, 'forbidden', 'Only an owner can ask to turn off the second approver for critical overrides; another admin or owner then approves it.');
          await setSecondApproverOffRequest(tx, scope, { requestedBy: user.userId, requestedByEmail: user.email, requestedAt: now }, now);
          await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: 'settings.second_approver_off_requested', targetType: 'org', targetId: scope.orgId, ip: request.ip, details: { requireSecondApproverForCritical: false } });
          requested = true;
        }
        if (retentionDays !== undefined) await setRetentionDays(tx, scope, retentionDays, now);
        if (requireSecondApproverForCritical === true || retentionDays !== undefined) {
          const details: Record<string, unknown> = {};
          if (requireSecondApproverForCritical === true) details.requireSecondApproverForCritical = true;
          if (retentionDays !== undefined) details.retentionDays = retentionDays;
          await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: 'settings.updated', targetType: 'org', targetId: scope.orgId, ip: request.ip, details });
        }
        return { requested, result: await view(tx, scope) };
      });
      return reply.code(requested ? 202 : 200).send(result);
    },
  );
  app.post(
    '/settings/second-approver-off/approve',
    {
      config: { access: access.user('settings:write') },
      schema: { summary: "Approve an owner's request to turn off the second approver for critical overrides (a different admin or owner)", tags: ['settings'], response: { 200: OrgSettings, ...errors(409) } },
    },
    async (request) => {
      const user = request.user!;
      const scope = { orgId: user.orgId };
      return withOrg(store, scope, async (tx) => {
        const now = new Date().toISOString();
        const pending = await getSecondApproverOffRequest(tx, scope);
        if (!pending) throw new ApiError(409, 'no_pending_change', 'There is no pending request to turn off the second approver (requests end after 24 hours); an owner must ask first.');
        if (pending.requestedBy === user.userId) throw new ApiError(409, 'same_approver', 'A different admin or owner must approve turning off the second approver: the owner who asked cannot.');
        await setSecondApprover(tx, scope, false, now);
        await setSecondApproverOffRequest(tx, scope, null, now);
        await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: 'settings.updated', targetType: 'org', targetId: scope.orgId, ip: request.ip, details: { requireSecondApproverForCritical: false, requestedBy: pending.requestedByEmail, approvedBy: user.email } });
        return view(tx, scope);
      });
    },
  );
}
