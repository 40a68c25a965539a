// The API shapes of managed gateways (issue 16 §4, routes/gateways.ts): named, so they appear
// in the OpenAPI document and in the dashboard's generated types.
import { Type, type TSchema } from 'typebox';
import { levels } from '@palisade/core';
import { named, Nullable, Time } from './schemas.js';

const name = Type.String({ minLength: 1, maxLength: 200 });
const short = Type.String({ maxLength: 512 });
const hex = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9:_-]+$' });
const time = Type.String({ minLength: 10, maxLength: 40, pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$' });
const GatewayLevel = Type.Enum([...levels]);
const ToolState = Type.Enum(['ok', 'quarantined', 'blocked']);

export const GatewayStatus = named(
  'GatewayStatus',
  Type.Enum(['registered', 'online', 'offline', 'revoked'], {
    description: 'registered: never synced; online: synced in the last 5 minutes; offline: not since; revoked: its key is revoked',
  }),
);

const gatewayProps = {
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'the first characters of the key, for recognising it' }),
  createdAt: Time,
  revokedAt: Nullable(Time),
  version: Nullable(Type.String()),
  lastSeenAt: Nullable(Time),
  status: GatewayStatus,
  upstreams: Type.Integer(),
  tools: Type.Integer(),
  quarantined: Type.Integer({ description: 'changes waiting for a decision' }),
  stale: Type.Boolean({ description: 'not revoked and its last sync is older than 3 sync intervals (or it never synced)' }),
};
export const Gateway = named('Gateway', Type.Object(gatewayProps));
export const NewGatewayKey = named(
  'NewGatewayKey',
  Type.Object({
    id: Type.String(),
    name: Type.String(),
    prefix: Type.String(),
    createdAt: Time,
    key: Type.String({ description: 'the gateway key: shown in this answer only' }),
  }),
);

export const GatewayTool = named(
  'GatewayTool',
  Type.Object({
    federated: Type.String(),
    tool: Type.String(),
    status: ToolState,
    level: GatewayLevel,
    description: Nullable(Type.String()),
    definitionHash: Type.String(),
  }),
);
export const GatewayUpstream = named(
  'GatewayUpstream',
  Type.Object({
    name: Type.String(),
    transport: Type.String(),
    up: Type.Boolean(),
    serverId: Nullable(Type.String({ description: 'the inventory server it is, once the backend has scored it' })),
    score: Nullable(Type.Integer()),
    level: Nullable(GatewayLevel),
    tools: Type.Array(GatewayTool),
  }),
);
export const GatewayVirtualServer = named(
  'GatewayVirtualServer',
  Type.Object({ name: Type.String(), upstreams: Type.Array(Type.String()), tools: Type.Array(Type.String()) }),
);
export const GatewayDetail = named(
  'GatewayDetail',
  Type.Object({ ...gatewayProps, upstreamList: Type.Array(GatewayUpstream), virtualServers: Type.Array(GatewayVirtualServer) }),
);

export const GatewayQuarantineState = named(
  'GatewayQuarantineState',
  Type.Enum(['pending', 'awaiting_second', 'approved', 'rejected', 'superseded', 'released_at_gateway']),
);
export const GatewayQuarantineItem = named(
  'GatewayQuarantineItem',
  Type.Object({
    id: Type.String(),
    gatewayId: Type.String(),
    gatewayName: Type.String(),
    federated: Type.String(),
    upstream: Type.String(),
    tool: Type.String(),
    level: GatewayLevel,
    oldHash: Nullable(Type.String()),
    newHash: Type.String(),
    oldDefinition: Nullable(Type.String({ description: 'the pinned definition (canonical JSON)' })),
    newDefinition: Type.String({ description: 'the changed definition (canonical JSON)' }),
    reason: Nullable(Type.String()),
    state: GatewayQuarantineState,
    createdAt: Time,
    needsSecondApprover: Type.Boolean({ description: 'critical tool and the organisation requires a second approver' }),
    firstApprover: Nullable(Type.String({ description: 'email of the first approver while a second is awaited' })),
    decidedBy: Nullable(Type.String()),
    decidedAt: Nullable(Time),
  }),
);

export const GatewayCall = named(
  'GatewayCall',
  Type.Object({
    id: Type.String(),
    gatewayId: Type.String(),
    gatewayName: Type.String(),
    at: Time,
    kind: Type.String(),
    principal: Nullable(Type.String({ description: 'a hash of the principal id, never a token' })),
    virtualServer: Nullable(Type.String()),
    upstream: Nullable(Type.String()),
    tool: Nullable(Type.String()),
    decision: Type.String(),
    reason: Nullable(Type.String()),
    latencyMs: Nullable(Type.Number()),
    resultBytes: Nullable(Type.Integer()),
  }),
);
export const GatewayRateHit = named(
  'GatewayRateHit',
  Type.Object({
    id: Type.String(),
    gatewayId: Type.String(),
    gatewayName: Type.String(),
    at: Time,
    principal: Nullable(Type.String()),
    virtualServer: Nullable(Type.String()),
    tool: Nullable(Type.String()),
    reason: Nullable(Type.String()),
  }),
);

// ---- the sync exchange: what a gateway pushes and what it pulls

// null first: the body validator coerces types, and [string, null] would turn a null into ""
const opt = <T extends TSchema>(s: T) => Type.Union([Type.Null(), s]);

const nameList = (max: number) => Type.Array(name, { maxItems: max });
export const SyncTool = Type.Object(
  {
    name,
    federated: name,
    status: ToolState,
    level: GatewayLevel,
    description: Type.Optional(Type.String({ maxLength: 16_384 })),
    inputSchemaHash: Type.Optional(hex),
    annotations: Type.Optional(
      Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.String({ maxLength: 512 }), Type.Boolean(), Type.Number(), Type.Null()]), {
        maxProperties: 32,
      }),
    ),
    definitionHash: hex,
    schemaText: Type.Optional(Type.String({ maxLength: 16_384 })),
  },
  { additionalProperties: false },
);
export const SyncUpstream = Type.Object(
  {
    name,
    transport: Type.Enum(['stdio', 'http', 'sse']),
    up: Type.Boolean(),
    command: opt(Type.String({ maxLength: 8192 })),
    args: Type.Array(Type.String({ maxLength: 8192 }), { maxItems: 256 }),
    url: opt(Type.String({ maxLength: 8192 })),
    envNames: Type.Array(short, { maxItems: 512 }),
    headerNames: Type.Array(short, { maxItems: 512 }),
    tools: Type.Array(SyncTool, { maxItems: 1000 }),
  },
  { additionalProperties: false },
);
export const SyncQuarantine = Type.Object(
  {
    federated: name,
    upstream: name,
    tool: name,
    level: GatewayLevel,
    oldHash: opt(hex),
    newHash: hex,
    oldDefinition: opt(Type.String({ maxLength: 65_536 })),
    newDefinition: Type.String({ maxLength: 65_536 }),
    reason: opt(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export const SyncCall = Type.Object(
  {
    at: time,
    kind: Type.String({ minLength: 1, maxLength: 64 }),
    principal: opt(Type.String({ maxLength: 128 })),
    virtualServer: opt(Type.String({ maxLength: 200 })),
    upstream: opt(Type.String({ maxLength: 200 })),
    tool: opt(Type.String({ maxLength: 200 })),
    decision: Type.String({ minLength: 1, maxLength: 64 }),
    reason: opt(Type.String({ maxLength: 2000 })),
    latencyMs: opt(Type.Number({ minimum: 0, maximum: 86_400_000 })),
    resultBytes: opt(Type.Integer({ minimum: 0, maximum: 1e12 })),
  },
  { additionalProperties: false },
);
export const SyncRateHit = Type.Object(
  {
    at: time,
    principal: opt(Type.String({ maxLength: 128 })),
    virtualServer: opt(Type.String({ maxLength: 200 })),
    tool: opt(Type.String({ maxLength: 200 })),
    reason: opt(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export const GatewaySyncBody = named(
  'GatewaySyncBody',
  Type.Object(
    {
      version: Type.String({ minLength: 1, maxLength: 64 }),
      os: Type.String({ minLength: 1, maxLength: 200 }),
      upstreams: Type.Array(SyncUpstream, { maxItems: 200 }),
      virtualServers: Type.Array(Type.Object({ name, upstreams: nameList(200), tools: nameList(5000) }, { additionalProperties: false }), { maxItems: 200 }),
      quarantine: Type.Array(SyncQuarantine, { maxItems: 500 }),
      calls: Type.Array(SyncCall, { maxItems: 5000 }),
      rateLimitHits: Type.Array(SyncRateHit, { maxItems: 1000 }),
    },
    { additionalProperties: false },
  ),
);
export const GatewayDecision = named(
  'GatewayDecision',
  Type.Object({
    id: Type.String(),
    federated: Type.String(),
    upstream: Type.String(),
    tool: Type.String(),
    hash: Type.String(),
    decision: Type.Enum(['approve', 'reject']),
    decidedAt: Time,
    decidedBy: Nullable(Type.String({ description: 'email of the admin who decided (the final approver)' })),
  }),
);

const policyProps = {
  blockLevel: Nullable(
    Type.Enum([...levels], {
      description: 'block tools (and upstreams) rated at or above this level; null: the gateway keeps its own blockLevel. "none" asks nothing.',
    }),
  ),
  pinning: Type.Boolean({ description: 'true: pinning is on at the gateway whatever its config says; false: its own setting' }),
  stripHiddenText: Type.Boolean({ description: 'true: hidden characters and ANSI escapes are stripped from tool definitions' }),
  redactSecretsInResults: Type.Boolean({ description: 'true: secrets are redacted from tool results' }),
  callsPerMinute: Nullable(
    Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'calls per minute per principal at most; null: the gateway keeps its own' }),
  ),
};
/** The central policy a gateway pulls; it applies, setting by setting, the STRICTER of this and its own config. */
export const GatewayPolicy = named('GatewayPolicy', Type.Object(policyProps));
// the body leaves callsPerMinute out for "no central limit" (a nullable integer would let the
// validator's type coercion turn a bad 0 into null instead of refusing it)
export const GatewayPolicyBody = Type.Object(
  {
    ...policyProps,
    callsPerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'calls per minute per principal at most; leave out for none' })),
  },
  { additionalProperties: false },
);
const viewProps = {
  ...policyProps,
  scope: Type.Enum(['organisation', 'gateway']),
  gatewayId: Nullable(Type.String()),
  gatewayName: Nullable(Type.String()),
  updatedBy: Nullable(Type.String({ description: 'email of the admin who last changed it' })),
  updatedAt: Nullable(Time),
};
export const GatewayPolicyView = named('GatewayPolicyView', Type.Object(viewProps));
export const GatewayPolicies = named(
  'GatewayPolicies',
  Type.Object({
    organisation: GatewayPolicyView,
    gateways: Type.Array(GatewayPolicyView, {
      description: "gateways with their own policy (it replaces the organisation's for that gateway)",
    }),
  }),
);
export const GatewaySyncAnswer = named(
  'GatewaySyncAnswer',
  Type.Object({
    gatewayId: Type.String(),
    name: Type.String(),
    policy: Type.Object({
      requireSecondApproverForCritical: Type.Boolean(),
      gateway: Type.Optional(GatewayPolicy),
    }),
    decisions: Type.Array(GatewayDecision),
    syncSeconds: Type.Integer({ description: 'how often the backend asks the gateway to sync' }),
  }),
);
