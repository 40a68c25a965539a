// What the audit log shows (issue 13): names beside ids (a user's email, a server's name, an
// agent key's name and prefix, a webhook's name, a host's name) and no secrets in targets or
// details: URLs keep their scheme, host and first path segment only (a Slack webhook URL's
// path IS its credential), credential-named fields are masked.
import type { Tx } from './db/scope.js';

const SECRET_FIELD = /(secret|token|password|passwd|pwd|apikey|api_key|^key$|authorization|cookie)/i;

/** A URL with only what identifies the destination: scheme, host and the first path segment. */
export function maskUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return value;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `${u.protocol}…`;
  const segments = u.pathname.split('/').filter(Boolean);
  const shown = segments.length ? `/${segments[0]}${segments.length > 1 ? '/…' : ''}` : '';
  return `${u.protocol}//${u.host}${shown}${u.search ? '?…' : ''}`;
}

/** Details with URLs masked and credential-named fields replaced; other values as they are. */
export function maskSecrets(value: unknown, key = '', depth = 0): unknown {
  if (depth > 8) return '…';
  if (typeof value === 'string') {
    if (key && SECRET_FIELD.test(key)) return '[redacted]';
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? maskUrl(value) : value;
  }
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, key, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_FIELD.test(k) && typeof v !== 'boolean' && typeof v !== 'number' ? '[redacted]' : maskSecrets(v, k, depth + 1)]));
  }
  return value;
}

interface Row {
  actor_type: string;
  actor_id: string | null;
  target_type: string | null;
  target_id: string | null;
  details: string;
}

/** Names for the targets and agent actors of these entries, looked up in the organisation (ids it no longer has stay unnamed, or take the name the entry recorded). */
export async function auditNames(tx: Tx, orgId: string, rows: Row[]): Promise<{ target: Map<string, string>; actor: Map<string, string> }> {
  const want = new Map<string, Set<string>>();
  const add = (type: string, id: string | null) => {
    if (!id) return;
    (want.get(type) ?? want.set(type, new Set()).get(type)!).add(id);
  };
  for (const r of rows) {
    add(r.target_type ?? '', r.target_id);
    if (r.actor_type === 'agent') add('agent_key', r.actor_id);
  }
  const names = new Map<string, string>();
  const ids = (t: string) => [...(want.get(t) ?? [])];
  const key = (t: string, id: string) => `${t}:${id}`;
  if (ids('user').length) {
    const rs = await tx.selectFrom('memberships').innerJoin('users', 'users.id', 'memberships.user_id').select(['users.id', 'users.email']).where('memberships.org_id', '=', orgId).where('users.id', 'in', ids('user')).execute();
    for (const r of rs) names.set(key('user', r.id), r.email);
  }
  if (ids('agent_key').length) {
    const rs = await tx.selectFrom('agent_keys').select(['id', 'name', 'prefix']).where('org_id', '=', orgId).where('id', 'in', ids('agent_key')).execute();
    for (const r of rs) names.set(key('agent_key', r.id), `${r.name} (${r.prefix}…)`);
  }
  if (ids('server').length) {
    const rs = await tx.selectFrom('servers').select(['id', 'name']).where('org_id', '=', orgId).where('id', 'in', ids('server')).execute();
    for (const r of rs) names.set(key('server', r.id), r.name);
  }
  if (ids('host').length) {
    const rs = await tx.selectFrom('hosts').select(['id', 'hostname', 'os_user']).where('org_id', '=', orgId).where('id', 'in', ids('host')).execute();
    for (const r of rs) names.set(key('host', r.id), `${r.hostname} (${r.os_user})`);
  }
  if (ids('webhook').length) {
    const rs = await tx.selectFrom('webhooks').select(['id', 'name']).where('org_id', '=', orgId).where('id', 'in', ids('webhook')).execute();
    for (const r of rs) names.set(key('webhook', r.id), r.name);
  }
  if (ids('invitation').length) {
    const rs = await tx.selectFrom('invitations').select(['id', 'email']).where('org_id', '=', orgId).where('id', 'in', ids('invitation')).execute();
    for (const r of rs) names.set(key('invitation', r.id), r.email);
  }
  if (ids('alert').length) {
    // an alert by its server and host (issue 14): "filesystem on ws-114"
    const rs = await tx.selectFrom('alerts as a').leftJoin('servers as s', (j) => j.onRef('s.id', '=', 'a.server_id').on('s.org_id', '=', orgId)).leftJoin('hosts as h', (j) => j.onRef('h.id', '=', 'a.host_id').on('h.org_id', '=', orgId)).select(['a.id', 'a.type', 's.name', 'h.hostname']).where('a.org_id', '=', orgId).where('a.id', 'in', ids('alert')).execute();
    for (const r of rs) names.set(key('alert', r.id), `${r.type.replace(/_/g, ' ')}: ${r.name ?? 'unknown server'}${r.hostname ? ` on ${r.hostname}` : ''}`);
  }
  if (ids('org').length) {
    const rs = await tx.selectFrom('orgs').select(['id', 'name']).where('id', '=', orgId).execute();
    for (const r of rs) names.set(key('org', r.id), r.name);
  }
  const target = new Map<string, string>();
  const actor = new Map<string, string>();
  for (const r of rows) {
    if (r.target_type && r.target_id) {
      let n = names.get(key(r.target_type, r.target_id));
      if (!n) {
        // a removed user or deleted object: the name the entry itself recorded, if any
        try {
          const d = JSON.parse(r.details) as Record<string, unknown>;
          const recorded = d.email ?? d.name;
          if (typeof recorded === 'string') n = recorded;
        } catch {
          /* details are always JSON; nothing recorded */
        }
      }
      if (n) target.set(key(r.target_type, r.target_id), n);
    }
    if (r.actor_type === 'agent' && r.actor_id) {
      const n = names.get(key('agent_key', r.actor_id));
      if (n) actor.set(r.actor_id, n);
    }
  }
  return { target, actor };
}
