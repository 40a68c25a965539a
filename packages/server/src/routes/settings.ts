// Organisation settings: the second approver for critical overrides, and history retention.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { writeAudit } from '../audit.js';
import { withOrg } from '../db/scope.js';
import { getInventorySettings, RETENTION_DAYS, setRetentionDays, setSecondApprover } from '../services/settings.js';

export async function settingsRoutes(app: FastifyInstance): Promise<void> {
  const store = app.platform.store;
  app.get('/settings', { config: { access: access.user('settings:read') }, schema: { summary: 'Organisation settings', tags: ['settings'] } }, async (request) => {
    const scope = { orgId: request.user!.orgId };
    return withOrg(store, scope, (tx) => getInventorySettings(tx, scope));
  });
  app.patch<{ Body: { requireSecondApproverForCritical?: boolean; retentionDays?: number } }>(
    '/settings',
    { config: { access: access.user('settings:write') }, schema: { summary: 'Change organisation settings', tags: ['settings'], body: { type: 'object', additionalProperties: false, properties: { requireSecondApproverForCritical: { type: 'boolean' }, retentionDays: { type: 'integer', minimum: RETENTION_DAYS.min, maximum: RETENTION_DAYS.max } } } } },
    async (request) => {
      const user = request.user!;
      const scope = { orgId: user.orgId };
      return withOrg(store, scope, async (tx) => {
        const now = new Date().toISOString();
        const { requireSecondApproverForCritical, retentionDays } = request.body;
        if (requireSecondApproverForCritical !== undefined) await setSecondApprover(tx, scope, requireSecondApproverForCritical, now);
        if (retentionDays !== undefined) await setRetentionDays(tx, scope, retentionDays, now);
        if (requireSecondApproverForCritical !== undefined || retentionDays !== undefined) {
          await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: 'settings.updated', targetType: 'org', targetId: scope.orgId, ip: request.ip, details: { ...request.body } });
        }
        return getInventorySettings(tx, scope);
      });
    },
  );
}
