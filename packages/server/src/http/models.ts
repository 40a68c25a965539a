// The API's resource shapes (TypeBox), named in the OpenAPI document and so in the dashboard's
// generated types. Response serialisation goes through these: a field that is not listed here
// never reaches the JSON, so a new field a page needs is added here first (then
// `npm run api:types`).
import { Type, type Static } from 'typebox';
import { levels, severities } from '@palisade/core';
import { roles } from '../auth/permissions.js';
import { JsonObject, named, Nullable, Person, Time } from './schemas.js';

export const Level = named('Level', Type.Enum([...levels]));
export const Severity = named('Severity', Type.Enum([...severities]));
export const Role = named('Role', Type.Enum([...roles]));
export const Decision = named('OverrideDecision', Type.Enum(['accept_risk', 'benign']));

// ---- accounts ---------------------------------------------------------------------------

export const User = named(
  'User',
  Type.Object({ id: Type.String(), email: Type.String(), role: Role, createdAt: Time, lastLoginAt: Type.Optional(Nullable(Time)) }),
);
export const Org = named('Org', Type.Object({ id: Type.String(), name: Type.String() }));
export const UserAndOrg = named('UserAndOrg', Type.Object({ user: User, org: Org }));
export const Me = named('Me', Type.Object({ user: User, org: Org, permissions: Type.Array(Type.String()) }));
export const SetupState = named('SetupState', Type.Object({ needed: Type.Boolean(), signupOpen: Type.Boolean() }));
export const Message = Type.Object({ message: Type.String() });

export const AgentKey = named(
  'AgentKey',
  Type.Object({ id: Type.String(), name: Type.String(), prefix: Type.String({ description: 'the first characters of the key, to tell keys apart' }), createdAt: Time, lastUsedAt: Nullable(Time), revokedAt: Nullable(Time) }),
);
export const NewAgentKey = named(
  'NewAgentKey',
  Type.Object({ id: Type.String(), key: Type.String({ description: 'the key itself: shown in this answer only' }), prefix: Type.String(), name: Type.String(), createdAt: Time }),
);
export const AgentIdentity = Type.Object({ orgId: Type.String(), keyId: Type.String() });

// ---- inventory --------------------------------------------------------------------------

export const OverrideBadge = named(
  'OverrideBadge',
  Type.Object(
    { id: Type.String(), decision: Type.String({ description: 'accept_risk or benign' }), status: Type.Enum(['pending', 'active']), expiresAt: Time },
    { description: 'the override in force (or waiting for approval) on the current fingerprint' },
  ),
);

export const Transport = named('Transport', Type.Enum(['stdio', 'http', 'sse', 'builtin', 'extension'], { description: 'builtin: part of the client (Goose); extension: started by a client extension (Zed)' }));

export const PackageRef = named('PackageRef', Type.Object({ ecosystem: Type.String(), name: Type.String(), version: Type.Optional(Type.String()) }));

const serverSummaryProps = {
  id: Type.String(),
  fingerprint: Type.String(),
  name: Type.String(),
  transport: Transport,
  command: Nullable(Type.String()),
  args: Type.Array(Type.String()),
  url: Nullable(Type.String()),
  package: Nullable(PackageRef),
  score: Type.Number(),
  level: Level,
  effectiveLevel: Level,
  override: Nullable(OverrideBadge),
  clients: Type.Array(Type.String()),
  hostCount: Type.Integer(),
  instanceCount: Type.Integer(),
  findingCount: Type.Integer(),
  firstSeen: Time,
  lastSeen: Time,
};
export const ServerSummary = named('ServerSummary', Type.Object(serverSummaryProps));

export const Instance = named(
  'Instance',
  Type.Object({
    id: Type.String(),
    hostId: Type.String(),
    hostname: Type.String(),
    osUser: Type.String(),
    client: Type.String(),
    configPath: Type.String(),
    projectPath: Nullable(Type.String()),
    scope: Type.String(),
    cwd: Nullable(Type.String()),
    score: Type.Number(),
    level: Level,
    firstSeen: Time,
    lastSeen: Time,
  }),
);

export const ServerTool = named(
  'ServerTool',
  Type.Object({
    name: Type.String(),
    description: Nullable(Type.String()),
    inputSchemaHash: Nullable(Type.String()),
    annotations: Nullable(JsonObject),
    definitionHash: Type.String(),
    firstSeen: Time,
    lastSeen: Time,
    changed: Type.Boolean({ description: 'its definition differs from the first one seen (a possible rug pull)' }),
  }),
);

export const ServerFinding = named(
  'ServerFinding',
  Type.Object({
    ruleId: Type.String(),
    severity: Severity,
    title: Type.String(),
    message: Type.String(),
    evidence: Type.String(),
    hostCount: Type.Integer(),
    firstSeen: Type.Optional(Time),
    rationale: Nullable(Type.String()),
    remediation: Nullable(Type.String()),
  }),
);

export const CrossFinding = named(
  'CrossFinding',
  Type.Object(
    {
      ruleId: Type.String(),
      severity: Severity,
      title: Type.String(),
      message: Type.String(),
      evidence: Type.String(),
      client: Type.String(),
      hostCount: Type.Integer(),
      servers: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
      rationale: Nullable(Type.String()),
      remediation: Nullable(Type.String()),
    },
    { description: 'a finding across several servers of one client (e.g. the lethal trifecta), once per client' },
  ),
);

export const Override = named(
  'Override',
  Type.Object({
    id: Type.String(),
    serverId: Type.String(),
    fingerprint: Type.String(),
    decision: Decision,
    reason: Type.String(),
    status: Type.Enum(['pending', 'active', 'voided', 'expired', 'revoked']),
    expiresAt: Time,
    createdAt: Time,
    createdBy: Person,
    approvedAt: Nullable(Time),
    approvedBy: Nullable(Person),
    voidedAt: Nullable(Time),
    voidReason: Nullable(Type.String()),
    revokedAt: Nullable(Time),
    revokedBy: Nullable(Person),
  }),
);

export const InventoryEvent = named(
  'InventoryEvent',
  Type.Object({
    id: Type.String(),
    type: Type.String(),
    severity: Severity,
    hostId: Nullable(Type.String()),
    serverId: Nullable(Type.String()),
    summary: Type.String(),
    details: JsonObject,
    createdAt: Time,
  }),
);

export const ServerAdvisory = named(
  'ServerAdvisory',
  Type.Object({
    id: Type.String(),
    aliases: Type.Array(Type.String()),
    summary: Nullable(Type.String()),
    severity: Type.String(),
    status: Type.String({ description: 'whether the match still applies (e.g. affected, fixed)' }),
    fixed: Nullable(Type.String()),
    url: Nullable(Type.String()),
    firstSeen: Time,
  }),
);

export const ServerDetail = named(
  'ServerDetail',
  Type.Object({
    ...serverSummaryProps,
    envNames: Type.Array(Type.String()),
    headerNames: Type.Array(Type.String()),
    tlsVerifyDisabled: Type.Boolean(),
    autoApprove: Type.Array(Type.String()),
    config: JsonObject,
    instances: Type.Array(Instance),
    tools: Type.Array(ServerTool),
    findings: Type.Array(ServerFinding),
    advisories: Type.Array(ServerAdvisory),
    crossFindings: Type.Array(CrossFinding, { description: 'cross-server findings this server takes part in, once per client' }),
    overrides: Type.Array(Override),
    history: Type.Array(InventoryEvent),
  }),
);

const hostSummaryProps = {
  id: Type.String(),
  hostname: Type.String(),
  osUser: Type.String(),
  os: Type.String(),
  agentVersion: Type.String(),
  firstSeen: Time,
  lastSeen: Time,
  silent: Type.Boolean({ description: 'no report within the silent-after period' }),
  serverCount: Type.Integer(),
  maxScore: Type.Number(),
  maxLevel: Level,
};
export const HostSummary = named('HostSummary', Type.Object(hostSummaryProps));

export const HostClient = named('HostClient', Type.Object({ id: Type.String(), name: Type.String(), configPath: Type.String(), serverCount: Type.Integer(), error: Nullable(Type.String()) }));
export const HostInstance = named(
  'HostInstance',
  Type.Object({
    id: Type.String(),
    serverId: Type.String(),
    name: Type.String(),
    client: Type.String(),
    configPath: Type.String(),
    projectPath: Nullable(Type.String()),
    scope: Type.String(),
    score: Type.Number(),
    level: Level,
    effectiveLevel: Level,
  }),
);
export const HostDetail = named('HostDetail', Type.Object({ ...hostSummaryProps, clients: Type.Array(HostClient), instances: Type.Array(HostInstance), history: Type.Array(InventoryEvent) }));

export const Finding = named(
  'Finding',
  Type.Object({
    serverId: Type.String(),
    serverName: Type.String(),
    ruleId: Type.String(),
    severity: Severity,
    title: Type.String(),
    message: Type.String(),
    evidence: Type.String(),
    hostCount: Type.Integer(),
    firstSeen: Time,
  }),
);

// ---- settings and webhooks --------------------------------------------------------------

export const OrgSettings = named(
  'OrgSettings',
  Type.Object({
    requireSecondApproverForCritical: Type.Boolean(),
    retentionDays: Type.Integer(),
    silentAfterHours: Type.Integer(),
    pendingSecondApproverOff: Nullable(
      Type.Object({ requestedBy: Type.String(), requestedByEmail: Type.String(), requestedAt: Time }, { description: "an owner's request to turn the second approver off, waiting for another admin or owner" }),
    ),
  }),
);

const webhookProps = {
  id: Type.String(),
  name: Type.String(),
  url: Type.String(),
  format: Type.Enum(['generic', 'slack']),
  minSeverity: Severity,
  enabled: Type.Boolean(),
  createdAt: Time,
  secretPrefix: Type.String(),
  deadLetters: Type.Integer({ description: 'deliveries that gave up' }),
};
export const Webhook = named('Webhook', Type.Object(webhookProps));
export const NewWebhook = named('NewWebhook', Type.Object({ ...webhookProps, secret: Type.String({ description: 'the signing secret: shown in this answer only' }) }));
export const WebhookDelivery = named(
  'WebhookDelivery',
  Type.Object({
    id: Type.String(),
    alertId: Nullable(Type.String()),
    event: Type.String(),
    status: Type.String(),
    deadLetter: Type.Boolean(),
    attempts: Type.Integer(),
    lastStatusCode: Nullable(Type.Integer()),
    lastError: Nullable(Type.String()),
    nextAttemptAt: Nullable(Time),
    createdAt: Time,
    deliveredAt: Nullable(Time),
  }),
);

// ---- agent reports ----------------------------------------------------------------------

const ingestResultProps = {
  reportId: Nullable(Type.String()),
  hostId: Type.String(),
  unchanged: Type.Boolean(),
  servers: Type.Integer(),
  events: Type.Integer(),
  alerts: Type.Integer(),
};
export const IngestResult = named('IngestResult', Type.Object(ingestResultProps));
export const ReportProcessed = named('ReportProcessed', Type.Object({ ...ingestResultProps, id: Nullable(Type.String()), status: Type.Literal('done') }));
export const ReportAccepted = named('ReportAccepted', Type.Object({ id: Type.String(), status: Type.Enum(['pending', 'done', 'failed']) }));
export const ReportStatus = named(
  'ReportStatus',
  Type.Object({
    id: Type.String(),
    status: Type.Enum(['pending', 'done', 'failed']),
    receivedAt: Time,
    processedAt: Nullable(Time),
    result: Nullable(IngestResult),
    error: Nullable(Type.String()),
  }),
);

export type ServerSummaryT = Static<typeof ServerSummary>;
