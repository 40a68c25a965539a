// Table types of the inventory migrations (002+). Owned by the inventory work: add the
// tables here; `Database` in schema.ts merges them with the platform's.
// Conventions as in schema.ts: text ids and ISO times, JSON as text, 0/1 instead of booleans.

export interface HostsTable {
  id: string;
  org_id: string;
  hostname: string;
  os_user: string;
  os: string;
  agent_version: string;
  first_seen: string;
  last_seen: string;
  last_report_hash: string | null;
  /** hash of the last accepted body with its scan time blanked (migration 003) */
  last_raw_hash: string | null;
  last_scanned_at: string | null;
  /** JSON: the report's clients[] (id, name, configPath, serverCount, error?) */
  clients: string;
  server_count: number;
  max_score: number;
  max_level: string;
  /** lower-cased hostname and user, for the q filter */
  search: string;
}

export interface ServersTable {
  id: string;
  org_id: string;
  fingerprint: string;
  name: string;
  transport: string;
  command: string | null;
  url: string | null;
  package_ecosystem: string | null;
  package_name: string | null;
  package_version: string | null;
  /** JSON: the normalised, redacted definition (see services/fingerprint.ts) */
  definition: string;
  /** max over current instances: the real score, whatever overrides say */
  score: number;
  level: string;
  level_rank: number;
  finding_count: number;
  host_count: number;
  instance_count: number;
  /** comma-separated client ids of current instances */
  clients: string;
  /** lower-cased name, command, url and package name, for the q filter */
  search: string;
  first_seen: string;
  last_seen: string;
}

export interface ServerInstancesTable {
  id: string;
  org_id: string;
  server_id: string;
  host_id: string;
  instance_key: string;
  client: string;
  config_path: string;
  project_path: string | null;
  scope: string;
  cwd: string | null;
  score: number;
  level: string;
  first_seen: string;
  last_seen: string;
}

export interface FindingsTable {
  id: string;
  org_id: string;
  instance_id: string;
  server_id: string;
  host_id: string;
  rule_id: string;
  severity: string;
  severity_rank: number;
  title: string;
  message: string;
  evidence: string;
  first_seen: string;
}

export interface ToolsTable {
  id: string;
  org_id: string;
  server_id: string;
  name: string;
  definition_hash: string;
  description: string | null;
  input_schema_hash: string | null;
  annotations: string | null;
  first_seen: string;
  last_seen: string;
}

export interface ReportsTable {
  id: string;
  org_id: string;
  host_id: string;
  report_hash: string;
  agent_key_id: string | null;
  agent_version: string;
  scanned_at: string;
  received_at: string;
  server_count: number;
  event_count: number;
}

export interface EventsTable {
  id: string;
  org_id: string;
  type: string;
  severity: string;
  host_id: string | null;
  server_id: string | null;
  report_id: string | null;
  summary: string;
  details: string;
  created_at: string;
}

export interface AlertsTable {
  id: string;
  org_id: string;
  event_id: string;
  type: string;
  severity: string;
  severity_rank: number;
  status: 'open' | 'acknowledged' | 'resolved';
  title: string;
  message: string;
  server_id: string | null;
  host_id: string | null;
  created_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  note: string | null;
  /** migration 025: the user the alert is assigned to (a member of the organisation) */
  assigned_to?: string | null;
  /** migration 025: why Palisade resolved it by itself (risk accepted, fixed, server removed) */
  resolved_reason?: string | null;
}

export interface OverridesTable {
  id: string;
  org_id: string;
  server_id: string;
  fingerprint: string;
  decision: 'accept_risk' | 'benign';
  reason: string;
  status: 'pending' | 'active' | 'voided' | 'revoked';
  expires_at: string;
  created_by: string;
  created_at: string;
  approved_by: string | null;
  approved_at: string | null;
  voided_at: string | null;
  void_reason: string | null;
  revoked_by: string | null;
  revoked_at: string | null;
}

export interface WebhooksTable {
  id: string;
  org_id: string;
  name: string;
  url: string;
  format: 'generic' | 'slack';
  secret: string;
  secret_prefix: string;
  min_severity: string;
  disabled_at: string | null;
  created_by: string | null;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  org_id: string;
  webhook_id: string;
  alert_id: string | null;
  event: string;
  body: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface WebhookQueueTable {
  delivery_id: string;
  org_id: string;
  due_at: string;
}

export interface DailySnapshotsTable {
  org_id: string;
  day: string;
  critical: number;
  high: number;
  medium: number;
  low: number;
  none: number;
  hosts: number;
}

export interface InventoryTables {
  hosts: HostsTable;
  servers: ServersTable;
  server_instances: ServerInstancesTable;
  findings: FindingsTable;
  tools: ToolsTable;
  reports: ReportsTable;
  events: EventsTable;
  alerts: AlertsTable;
  overrides: OverridesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_queue: WebhookQueueTable;
  daily_snapshots: DailySnapshotsTable;
}
