// Organisation settings the inventory uses (the second approver for critical overrides).
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { writeAudit } from '../audit.js';
import { withOrg } from '../db/scope.js';
import { getInventorySettings, setSecondApprover } from '../services/settings.js';

export async function settingsRoutes(app: FastifyInstance): Promise<void> {
  const store = app.platform.store;
  app.get('/settings', { config: { access: access.user('settings:read') }, schema: { summary: 'Organisation settings', tags: ['settings'] } }, async (request) => {
    const scope = { orgId: request.user!.orgId };
    return withOrg(store, scope, (tx) => getInventorySettings(tx, scope));
  });
  app.patch<{ Body: { requireSecondApproverForCritical?: boolean } }>(
    '/settings',
    { config: { access: access.user('settings:write') }, schema: { summary: 'Change organisation settings', tags: ['settings'], body: { type: 'object', additionalProperties: false, properties: { requireSecondApproverForCritical: { type: 'boolean' } } } } },
    async (request) => {
      const user = request.user!;
      const scope = { orgId: user.orgId };
      return withOrg(store, scope, async (tx) => {
        if (request.body.requireSecondApproverForCritical !== undefined) {
          await setSecondApprover(tx, scope, request.body.requireSecondApproverForCritical, new Date().toISOString());
          await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: 'settings.updated', targetType: 'org', targetId: scope.orgId, ip: request.ip, details: { requireSecondApproverForCritical: request.body.requireSecondApproverForCritical } });
        }
        return getInventorySettings(tx, scope);
      });
    },
  );
}
