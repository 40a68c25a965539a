// Shapes of the backend's answers, as docs/api.md describes them.
export type Level = 'critical' | 'high' | 'medium' | 'low' | 'none';
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type Role = 'owner' | 'admin' | 'analyst' | 'viewer';

export const LEVELS: Level[] = ['critical', 'high', 'medium', 'low', 'none'];
export const SEVERITIES: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
export const ROLES: Role[] = ['owner', 'admin', 'analyst', 'viewer'];

export interface List<T> {
  items: T[];
  total: number;
}

export interface User {
  id: string;
  email: string;
  role: Role;
  createdAt: string;
  lastLoginAt?: string | null;
}
export interface Org {
  id: string;
  name: string;
}
export interface Me {
  user: User;
  org: Org;
  permissions: string[];
}
export interface SetupState {
  needed: boolean;
  signupOpen: boolean;
}

export interface Person {
  id: string;
  email: string;
}

export interface OverrideBadge {
  id: string;
  decision: 'accept_risk' | 'benign';
  status: 'pending' | 'active';
  expiresAt: string;
}

export interface ServerSummary {
  id: string;
  fingerprint: string;
  name: string;
  // builtin: part of the client (Goose); extension: started by a client extension (Zed)
  transport: 'stdio' | 'http' | 'sse' | 'builtin' | 'extension';
  command: string | null;
  args: string[];
  url: string | null;
  package: { ecosystem: string; name: string; version?: string } | null;
  score: number;
  level: Level;
  effectiveLevel: Level;
  override: OverrideBadge | null;
  clients: string[];
  hostCount: number;
  instanceCount: number;
  findingCount: number;
  firstSeen: string;
  lastSeen: string;
}

export interface Instance {
  id: string;
  hostId: string;
  hostname: string;
  osUser: string;
  client: string;
  configPath: string;
  projectPath: string | null;
  scope: string;
  cwd: string | null;
  score: number;
  level: Level;
  firstSeen: string;
  lastSeen: string;
}

export interface ServerTool {
  name: string;
  description: string | null;
  inputSchemaHash: string | null;
  annotations: Record<string, unknown> | null;
  definitionHash: string;
  firstSeen: string;
  lastSeen: string;
  changed: boolean;
}

export interface ServerFinding {
  ruleId: string;
  severity: Severity;
  title: string;
  message: string;
  evidence: string;
  hostCount: number;
  rationale: string | null;
  remediation: string | null;
}

export interface Override {
  id: string;
  serverId: string;
  fingerprint: string;
  decision: 'accept_risk' | 'benign';
  reason: string;
  status: 'pending' | 'active' | 'voided' | 'expired' | 'revoked';
  expiresAt: string;
  createdAt: string;
  createdBy: Person;
  approvedAt: string | null;
  approvedBy: Person | null;
  voidedAt: string | null;
  voidReason: string | null;
}

export interface InventoryEvent {
  id: string;
  type: string;
  severity: Severity;
  hostId: string | null;
  serverId: string | null;
  summary: string;
  details: Record<string, unknown>;
  createdAt: string;
}

export interface Advisory {
  id: string;
  aliases: string[];
  summary: string | null;
  severity: string;
  /** whether the match still applies (e.g. affected, fixed) */
  status: string;
  fixed: string | null;
  url: string | null;
  firstSeen: string;
}

export interface ServerDetail extends ServerSummary {
  envNames: string[];
  headerNames: string[];
  tlsVerifyDisabled: boolean;
  autoApprove: string[];
  config: Record<string, unknown>;
  instances: Instance[];
  tools: ServerTool[];
  findings: ServerFinding[];
  advisories?: Advisory[];
  overrides: Override[];
  history: InventoryEvent[];
}

export interface HostSummary {
  id: string;
  hostname: string;
  osUser: string;
  os: string;
  agentVersion: string;
  firstSeen: string;
  lastSeen: string;
  silent: boolean;
  serverCount: number;
  maxScore: number;
  maxLevel: Level;
}

export interface HostDetail extends HostSummary {
  clients: Array<{ id: string; name: string; configPath: string; serverCount: number; error: string | null }>;
  instances: Array<{
    id: string;
    serverId: string;
    name: string;
    client: string;
    configPath: string;
    projectPath: string | null;
    scope: string;
    score: number;
    level: Level;
    effectiveLevel: Level;
  }>;
  history: InventoryEvent[];
}

export interface Alert {
  id: string;
  type: string;
  severity: Severity;
  status: 'open' | 'acknowledged' | 'resolved';
  title: string;
  message: string;
  serverId: string | null;
  hostId: string | null;
  eventId: string;
  createdAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: Person | null;
  resolvedAt: string | null;
  resolvedBy: Person | null;
  note: string | null;
}

export type LevelCounts = Record<Level, number>;

export interface Overview {
  servers: { total: number; byLevel: LevelCounts; byEffectiveLevel: LevelCounts };
  trend: Array<{ day: string; byLevel: LevelCounts }>;
  topRisky: ServerSummary[];
  newThisWeek: number;
  hosts: { total: number; reporting: number; silent: number };
  alerts: { open: number; acknowledged: number; bySeverity: Record<Severity, number> };
}

export interface AgentKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
export interface NewAgentKey {
  id: string;
  key: string;
  prefix: string;
  name: string;
  createdAt: string;
}

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  createdAt?: string;
  expiresAt: string;
  acceptedAt?: string | null;
  revokedAt?: string | null;
  token?: string;
  link?: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  actorType: 'user' | 'agent' | 'system';
  actorId: string | null;
  actorEmail: string | null;
  /** the user's email, or an agent key's name and prefix */
  actorName?: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  /** the target's name: a user's email, a server's or webhook's name, a key's name and prefix */
  targetName?: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

export interface Webhook {
  id: string;
  name: string;
  url: string;
  format: 'generic' | 'slack';
  minSeverity: Severity;
  enabled: boolean;
  createdAt: string;
  secretPrefix: string;
  secret?: string;
  /** deliveries that gave up (dead letters) */
  deadLetters?: number;
}

export interface OrgSettings {
  requireSecondApproverForCritical: boolean;
  /** an owner's pending request to turn the second approver off (another admin or owner approves it) */
  pendingSecondApproverOff?: { requestedBy: string; requestedByEmail: string; requestedAt: string } | null;
  retentionDays?: number;
  silentAfterHours?: number;
  [key: string]: unknown;
}
