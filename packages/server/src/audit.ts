// The audit log: who did what to what, when, from where. Append-only (no route changes it;
// PostgreSQL refuses UPDATE/DELETE, SQLite triggers abort them).
import { withOrg, type Db, type OrgScope, type Tx } from './db/scope.js';
import { newId } from './auth/crypto.js';
import { maskSecrets } from './audit-view.js';
import { chunkRows } from './services/batch.js';

export interface AuditEntry {
  actorType: 'user' | 'agent' | 'system';
  actorId?: string | null;
  actorEmail?: string | null;
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  ip?: string | null;
  details?: Record<string, unknown>;
}

/** Writes an entry inside the caller's transaction (opened with withOrg for the same scope). */
export async function writeAudit(tx: Tx, scope: OrgScope, entry: AuditEntry): Promise<void> {
  await writeAudits(tx, scope, [entry]);
}

/** Writes many entries inside the caller's transaction, in multi-row statements of bounded size. */
export async function writeAudits(tx: Tx, scope: OrgScope, entries: readonly AuditEntry[]): Promise<void> {
  const at = new Date().toISOString();
  const rows = entries.map((entry) => ({
    id: newId(),
    org_id: scope.orgId,
    at,
    actor_type: entry.actorType,
    actor_id: entry.actorId ?? null,
    actor_email: entry.actorEmail ?? null,
    action: entry.action,
    target_type: entry.targetType ?? null,
    target_id: entry.targetId ?? null,
    ip: entry.ip ?? null,
    // no secret is ever written into the log: URLs masked, credential-named fields replaced
    details: JSON.stringify(maskSecrets(entry.details ?? {})),
  }));
  for (const part of chunkRows(rows)) await tx.insertInto('audit_log').values(part).execute();
}

/** Writes an entry in its own transaction. */
export async function audit(store: Db, scope: OrgScope, entry: AuditEntry): Promise<void> {
  await withOrg(store, scope, (tx) => writeAudit(tx, scope, entry));
}
