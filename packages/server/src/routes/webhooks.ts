// Webhooks: admins and owners add endpoints (http/https only), see deliveries, send a test.
// The signing secret is returned once, at creation. This module also runs the delivery
// dispatcher's retry sweep for the app's lifetime.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { access } from '../auth/access.js';
import { writeAudit } from '../audit.js';
import { withOrg } from '../db/scope.js';
import type { WebhooksTable } from '../db/inventory-schema.js';
import { badRequest, notFound } from '../errors.js';
import { page } from '../http/pagination.js';
import { NewWebhook, Severity, Webhook, WebhookDelivery } from '../http/models.js';
import { asWire, errors, IdParams, ListOf, ListQuery, NoContent, typed } from '../http/schemas.js';
import { DEAD_LETTER, dispatcherFor } from '../services/webhooks/dispatcher.js';
import { webhookBody } from '../services/webhooks/payload.js';
import { newWebhookSecret } from '../services/webhooks/sign.js';
import { privateTargetsAllowed } from '../services/webhooks/address.js';
import { checkWebhookUrl } from '../services/webhooks/url.js';

function view(w: WebhooksTable, deadLetters = 0) {
  return { id: w.id, name: w.name, url: w.url, format: w.format, minSeverity: w.min_severity, enabled: w.disabled_at === null, createdAt: w.created_at, secretPrefix: w.secret_prefix, deadLetters };
}

/** How long "send test" may take before it answers (the attempt's own deadline, plus a margin for the database). */
export const TEST_TIMEOUT_MS = 5_000;

function deliveryView(d: { id: string; alert_id: string | null; event: string; status: string; attempts: number; last_status_code: number | null; last_error: string | null; next_attempt_at: string | null; created_at: string; delivered_at: string | null }) {
  return { id: d.id, alertId: d.alert_id, event: d.event, status: d.status, deadLetter: d.status === DEAD_LETTER, attempts: d.attempts, lastStatusCode: d.last_status_code, lastError: d.last_error, nextAttemptAt: d.next_attempt_at, createdAt: d.created_at, deliveredAt: d.delivered_at };
}

const hookFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  url: Type.String({ minLength: 1, maxLength: 2048, description: 'http or https; private addresses only with PALISADE_WEBHOOK_ALLOW_PRIVATE' }),
  format: Type.Optional(Type.Enum(['generic', 'slack'])),
  minSeverity: Type.Optional(Severity),
  enabled: Type.Optional(Type.Boolean()),
};
const NewHookBody = Type.Object(hookFields, { additionalProperties: false });
const HookChange = Type.Object({ ...hookFields, name: Type.Optional(hookFields.name), url: Type.Optional(hookFields.url) }, { additionalProperties: false });
const WebhookList = ListOf(Webhook);
const DeliveryList = ListOf(WebhookDelivery);

export async function webhooksRoutes(plain: FastifyInstance): Promise<void> {
  const app = typed(plain);
  const store = app.platform.store;
  const dispatcher = dispatcherFor(store);
  dispatcher.start(); // stopped (drained, 10 s at most) by the app's onClose, before the database closes

  app.get(
    '/webhooks',
    { config: { access: access.user('webhooks:read') }, schema: { summary: 'Webhook endpoints (never their secrets)', tags: ['webhooks'], querystring: ListQuery({}), response: { 200: WebhookList } } },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const { limit, offset } = page(request.query);
      return withOrg(store, scope, async (tx) => {
        const rows = await tx.selectFrom('webhooks').selectAll().where('org_id', '=', scope.orgId).orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute();
        const total = await tx.selectFrom('webhooks').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', scope.orgId).executeTakeFirstOrThrow();
        // dead letters per webhook: deliveries that gave up, shown on the dashboard
        const dead = rows.length
          ? await tx
              .selectFrom('webhook_deliveries')
              .select(['webhook_id', (eb) => eb.fn.countAll<number>().as('n')])
              .where('org_id', '=', scope.orgId)
              .where('status', '=', DEAD_LETTER)
              .where('webhook_id', 'in', rows.map((r) => r.id))
              .groupBy('webhook_id')
              .execute()
          : [];
        const deadBy = new Map(dead.map((d) => [d.webhook_id, Number(d.n)]));
        return asWire(WebhookList, { items: rows.map((r) => view(r, deadBy.get(r.id) ?? 0)), total: Number(total.n) });
      });
    },
  );

  app.post(
    '/webhooks',
    { config: { access: access.user('webhooks:write') }, schema: { summary: 'Add a webhook endpoint; the signing secret is in this answer only', tags: ['webhooks'], body: NewHookBody, response: { 201: NewWebhook } } },
    async (request, reply) => {
      const user = request.user!;
      const scope = { orgId: user.orgId };
      const url = checkWebhookUrl(request.body.url, { allowPrivate: privateTargetsAllowed() });
      if (!url.ok) throw badRequest(url.message);
      const secret = newWebhookSecret();
      const row: WebhooksTable = {
        id: randomUUID(),
        org_id: scope.orgId,
        name: request.body.name.trim(),
        url: url.url,
        format: request.body.format ?? 'generic',
        secret,
        secret_prefix: secret.slice(0, 12),
        min_severity: request.body.minSeverity ?? 'high',
        disabled_at: request.body.enabled === false ? new Date().toISOString() : null,
        created_by: user.userId,
        created_at: new Date().toISOString(),
      };
      await withOrg(store, scope, async (tx) => {
        await tx.insertInto('webhooks').values(row).execute();
        await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: 'webhook.created', targetType: 'webhook', targetId: row.id, ip: request.ip, details: { name: row.name, url: row.url, format: row.format, minSeverity: row.min_severity } });
      });
      return reply.code(201).send(asWire(NewWebhook, { ...view(row), secret }));
    },
  );

  app.patch(
    '/webhooks/:id',
    { config: { access: access.user('webhooks:write') }, schema: { summary: 'Change a webhook endpoint', tags: ['webhooks'], params: IdParams, body: HookChange, response: { 200: Webhook, ...errors(404) } } },
    async (request) => {
      const user = request.user!;
      const scope = { orgId: user.orgId };
      const set: Partial<WebhooksTable> = {};
      if (request.body.url !== undefined) {
        const url = checkWebhookUrl(request.body.url, { allowPrivate: privateTargetsAllowed() });
        if (!url.ok) throw badRequest(url.message);
        set.url = url.url;
      }
      if (request.body.name !== undefined) set.name = request.body.name.trim();
      if (request.body.format !== undefined) set.format = request.body.format;
      if (request.body.minSeverity !== undefined) set.min_severity = request.body.minSeverity;
      if (request.body.enabled !== undefined) set.disabled_at = request.body.enabled ? null : new Date().toISOString();
      return withOrg(store, scope, async (tx) => {
        const row = await tx.selectFrom('webhooks').selectAll().where('org_id', '=', scope.orgId).where('id', '=', request.params.id).executeTakeFirst();
        if (!row) throw notFound('That webhook');
        if (Object.keys(set).length) await tx.updateTable('webhooks').set(set).where('org_id', '=', scope.orgId).where('id', '=', row.id).execute();
        await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: 'webhook.updated', targetType: 'webhook', targetId: row.id, ip: request.ip, details: { ...request.body } });
        return asWire(Webhook, view({ ...row, ...set }));
      });
    },
  );

  app.delete(
    '/webhooks/:id',
    { config: { access: access.user('webhooks:write') }, schema: { summary: 'Remove a webhook endpoint and its deliveries', tags: ['webhooks'], params: IdParams, response: { 204: NoContent, ...errors(404) } } },
    async (request, reply) => {
      const user = request.user!;
      const scope = { orgId: user.orgId };
      await withOrg(store, scope, async (tx) => {
        const ids = await tx.selectFrom('webhook_deliveries').select('id').where('org_id', '=', scope.orgId).where('webhook_id', '=', request.params.id).where('status', '=', 'pending').execute();
        if (ids.length) await tx.deleteFrom('webhook_queue').where('delivery_id', 'in', ids.map((d) => d.id)).execute();
        const r = await tx.deleteFrom('webhooks').where('org_id', '=', scope.orgId).where('id', '=', request.params.id).executeTakeFirst();
        if (Number(r.numDeletedRows) !== 1) throw notFound('That webhook');
        await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: 'webhook.deleted', targetType: 'webhook', targetId: request.params.id, ip: request.ip });
      });
      return reply.code(204).send();
    },
  );

  app.post(
    '/webhooks/:id/test',
    { config: { access: access.user('webhooks:write') }, schema: { summary: 'Send a test delivery now; answers with its first attempt within 5 seconds (a failure is retried like any delivery)', tags: ['webhooks'], params: IdParams, response: { 200: WebhookDelivery, ...errors(404) } } },
    async (request) => {
      const user = request.user!;
      const scope = { orgId: user.orgId };
      const now = new Date();
      const id = randomUUID();
      await withOrg(store, scope, async (tx) => {
        const hook = await tx.selectFrom('webhooks').select(['id', 'format']).where('org_id', '=', scope.orgId).where('id', '=', request.params.id).executeTakeFirst();
        if (!hook) throw notFound('That webhook');
        const body = webhookBody(hook.format, 'webhook.test', { id: 'test', type: 'test', severity: 'info', status: 'open', title: 'Palisade test delivery', message: `A test delivery requested by ${user.email}.`, serverId: null, hostId: null, createdAt: now.toISOString() }, now);
        await tx.insertInto('webhook_deliveries').values({ id, org_id: scope.orgId, webhook_id: hook.id, alert_id: null, event: 'webhook.test', body, status: 'pending', attempts: 0, last_status_code: null, last_error: null, next_attempt_at: now.toISOString(), created_at: now.toISOString(), delivered_at: null }).execute();
        // a safety net: should this process die mid-attempt, the sweep picks the test up later
        await tx.insertInto('webhook_queue').values({ delivery_id: id, org_id: scope.orgId, due_at: new Date(now.getTime() + 60_000).toISOString() }).execute();
        await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: 'webhook.tested', targetType: 'webhook', targetId: hook.id, ip: request.ip });
      });
      // sent at once, outside the queues (another organisation's backlog cannot hold it up),
      // with a deadline; a failure is queued for retry like any delivery
      await dispatcher.deliverNow(scope.orgId, id, TEST_TIMEOUT_MS);
      return withOrg(store, scope, async (tx) => deliveryView(await tx.selectFrom('webhook_deliveries').selectAll().where('org_id', '=', scope.orgId).where('id', '=', id).executeTakeFirstOrThrow()));
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    { config: { access: access.user('webhooks:read') }, schema: { summary: 'Deliveries of a webhook, newest first', tags: ['webhooks'], params: IdParams, querystring: ListQuery({}), response: { 200: DeliveryList, ...errors(404) } } },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const { limit, offset } = page(request.query);
      return withOrg(store, scope, async (tx) => {
        const hook = await tx.selectFrom('webhooks').select('id').where('org_id', '=', scope.orgId).where('id', '=', request.params.id).executeTakeFirst();
        if (!hook) throw notFound('That webhook');
        const base = tx.selectFrom('webhook_deliveries').where('org_id', '=', scope.orgId).where('webhook_id', '=', hook.id);
        const rows = await base.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).offset(offset).execute();
        const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        return asWire(DeliveryList, { items: rows.map(deliveryView), total: Number(total.n) });
      });
    },
  );
}
