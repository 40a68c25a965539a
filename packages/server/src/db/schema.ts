// Table types for kysely. Conventions shared by every migration (both dialects):
// - ids are TEXT (UUID strings made by the app), so SQLite and PostgreSQL compare the same
//   way and RLS policies compare text with text;
// - times are TEXT ISO 8601 UTC with milliseconds (`new Date().toISOString()`), which sort
//   correctly as strings;
// - no booleans (use a nullable time such as revoked_at) and JSON is TEXT.
// Every tenant table has `org_id TEXT NOT NULL` and row-level security on PostgreSQL.
import type { InventoryTables } from './inventory-schema.js';

export type Role = 'owner' | 'admin' | 'analyst' | 'viewer';

export interface OrgsTable {
  id: string;
  name: string;
  created_at: string;
}

/** Global identity (not a tenant table): looked up by email before the org is known. */
export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  created_at: string;
  last_login_at: string | null;
}

export interface MembershipsTable {
  org_id: string;
  user_id: string;
  role: Role;
  created_at: string;
}

export interface InvitationsTable {
  id: string;
  org_id: string;
  email: string;
  role: Role;
  token_hash: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  revoked_at: string | null;
}

/** A session family: one sign-in and every refresh token rotated from it. Not a tenant table. */
export interface SessionsTable {
  id: string;
  user_id: string;
  org_id: string;
  created_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  created_at: string;
  expires_at: string;
  /** set when this token was exchanged for a new one; presenting it again is a replay */
  rotated_at: string | null;
}

export interface AgentKeysTable {
  id: string;
  org_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface AuditLogTable {
  id: string;
  org_id: string;
  at: string;
  actor_type: 'user' | 'agent' | 'system';
  actor_id: string | null;
  actor_email: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: string;
}

export interface OrgSettingsTable {
  org_id: string;
  key: string;
  value: string;
  updated_at: string;
}

export interface MigrationsTable {
  name: string;
  applied_at: string;
}

export interface PlatformTables {
  orgs: OrgsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  invitations: InvitationsTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  agent_keys: AgentKeysTable;
  audit_log: AuditLogTable;
  org_settings: OrgSettingsTable;
  palisade_migrations: MigrationsTable;
  /** organisation ids only (migration 020), for sweeps across organisations */
  org_registry: { org_id: string };
}

export type Database = PlatformTables & InventoryTables;
