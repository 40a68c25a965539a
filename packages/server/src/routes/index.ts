// Every /api/v1 route module, registered by app.ts under the /api/v1 prefix. Add a
// resource's module here; each route declares its access rule (see auth/access.ts).
import type { FastifyInstance } from 'fastify';
import { setupRoutes } from './setup.js';
import { authRoutes } from './auth.js';
import { usersRoutes } from './users.js';
import { invitationsRoutes } from './invitations.js';
import { agentKeysRoutes } from './agent-keys.js';
import { auditRoutes } from './audit.js';
import { openapiRoutes } from './openapi.js';
import { ingestRoutes } from './ingest.js';
import { serversRoutes } from './servers.js';
import { overridesRoutes } from './overrides.js';
import { hostsRoutes } from './hosts.js';
import { findingsRoutes } from './findings.js';
import { alertsRoutes } from './alerts.js';
import { overviewRoutes } from './overview.js';
import { webhooksRoutes } from './webhooks.js';
import { settingsRoutes } from './settings.js';
import { advisoriesRoutes } from './advisories.js';
import { gatewaysRoutes } from './gateways.js';

export async function apiRoutes(app: FastifyInstance): Promise<void> {
  await app.register(setupRoutes);
  await app.register(authRoutes);
  await app.register(usersRoutes);
  await app.register(invitationsRoutes);
  await app.register(agentKeysRoutes);
  await app.register(auditRoutes);
  // inventory routes (ingest, servers, hosts, findings, alerts, overview, overrides, webhooks) register here
  await app.register(ingestRoutes);
  await app.register(serversRoutes);
  await app.register(overridesRoutes);
  await app.register(hostsRoutes);
  await app.register(findingsRoutes);
  await app.register(alertsRoutes);
  await app.register(overviewRoutes);
  await app.register(webhooksRoutes);
  await app.register(settingsRoutes);
  await app.register(advisoriesRoutes);
  await app.register(gatewaysRoutes);
  await app.register(openapiRoutes);
}
