import { useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { errorMessage, GET } from '../api/client';
import { actorLabel, auditToCsv, fetchAudit, MAX_AUDIT_ROWS, type AuditFilter } from '../audit-csv';
import { download } from '../export';
import { EmptyState, ErrorBox, Pager, SkeletonRows } from '../components/feedback';
import { formatDate } from '../format';
import { useSearchState } from '../router';
import { useCan } from '../session';
import { oneOf } from '../urls';

const LIMIT = 50;
const ACTOR_TYPES = ['user', 'agent', 'system'] as const;
// the actions the backend writes (docs/api.md); the filter matches one exactly
const ACTIONS = [
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.refresh_reuse',
  'setup.completed',
  'agent_key.created',
  'agent_key.revoked',
  'user.role_changed',
  'user.removed',
  'invitation.created',
  'invitation.accepted',
  'override.created',
  'override.approved',
  'override.revoked',
  'alert.acknowledged',
  'alert.resolved',
  'alert.assigned',
  'alert.unassigned',
  'advisory.imported',
  'override.voided',
  'invitation.revoked',
  'report.ingested',
  'webhook.created',
  'webhook.updated',
  'webhook.deleted',
  'webhook.tested',
  'settings.updated',
];

function Details({ d }: { d: Record<string, unknown> }) {
  const entries = Object.entries(d ?? {});
  if (entries.length === 0) return null;
  return (
    <dl className="audit-details">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

export function AuditPage() {
  const can = useCan();
  const [params, set] = useSearchState();
  const filter: AuditFilter = {
    action: params.get('action') ?? undefined,
    actorType: oneOf(params.get('actorType'), ACTOR_TYPES),
    actorId: params.get('actorId') ?? undefined,
    targetType: params.get('targetType') ?? undefined,
    since: params.get('since') ?? undefined,
    until: params.get('until') ?? undefined,
  };
  const offset = Number(params.get('offset') ?? 0) || 0;
  const list = useQuery({
    queryKey: ['audit', filter, offset],
    queryFn: () => GET('/api/v1/audit', { query: { ...filter, limit: LIMIT, offset } }),
    placeholderData: keepPreviousData,
    enabled: can('audit:read'),
  });
  const users = useQuery({
    queryKey: ['audit-users'],
    queryFn: () => GET('/api/v1/users', { query: { limit: 200 } }),
    enabled: can('audit:read'),
    staleTime: 60_000,
  });
  const [exporting, setExporting] = useState(false);
  const [exportNote, setExportNote] = useState('');
  const exportCsv = async () => {
    setExporting(true);
    setExportNote('');
    try {
      const { rows, total } = await fetchAudit(filter);
      download(`palisade-audit-${new Date().toISOString().slice(0, 10)}.csv`, 'text/csv;charset=utf-8', auditToCsv(rows));
      setExportNote(rows.length < total ? `Exported the newest ${rows.length} of ${total} entries (the limit is ${MAX_AUDIT_ROWS}); narrow the dates for the rest.` : `Exported ${rows.length} entries.`);
    } catch (err) {
      setExportNote(`The export failed: ${errorMessage(err)}`);
    } finally {
      setExporting(false);
    }
  };
  const who = filter.actorId ? `user:${filter.actorId}` : (filter.actorType ?? '');
  const setWho = (v: string) => set({ actorType: v.startsWith('user:') ? 'user' : v || null, actorId: v.startsWith('user:') ? v.slice(5) : null, offset: null });
  if (!can('audit:read')) {
    return (
      <section>
        <h1>Audit log</h1>
        <p>Only admins and owners can read the audit log.</p>
      </section>
    );
  }
  const day = (v: string, end: boolean) => (v ? new Date(v + (end ? 'T23:59:59.999Z' : 'T00:00:00.000Z')).toISOString() : null);
  return (
    <section>
      <h1>Audit log</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the audit log">
        <label>
          Who
          <select value={who} onChange={(e) => setWho(e.target.value)}>
            <option value="">Anyone</option>
            <option value="user">People</option>
            <option value="agent">Agents</option>
            <option value="system">Palisade itself</option>
            {(users.data?.items ?? []).map((u) => (
              <option key={u.id} value={`user:${u.id}`}>
                {u.email}
              </option>
            ))}
          </select>
        </label>
        <label>
          Action
          <select value={filter.action ?? ''} onChange={(e) => set({ action: e.target.value, offset: null })}>
            <option value="">Any action</option>
            {(filter.action && !ACTIONS.includes(filter.action) ? [filter.action, ...ACTIONS] : ACTIONS).map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label>
          Target type
          <select value={filter.targetType ?? ''} onChange={(e) => set({ targetType: e.target.value, offset: null })}>
            <option value="">Any</option>
            <option value="server">Server</option>
            <option value="override">Override</option>
            <option value="user">User</option>
            <option value="agent_key">Agent key</option>
            <option value="alert">Alert</option>
            <option value="webhook">Webhook</option>
            <option value="invitation">Invitation</option>
            <option value="host">Host</option>
          </select>
        </label>
        <label>
          From
          <input type="date" value={filter.since?.slice(0, 10) ?? ''} onChange={(e) => set({ since: day(e.target.value, false), offset: null })} />
        </label>
        <label>
          To
          <input type="date" value={filter.until?.slice(0, 10) ?? ''} onChange={(e) => set({ until: day(e.target.value, true), offset: null })} />
        </label>
        <button type="button" className="secondary" onClick={() => void exportCsv()} disabled={exporting}>
          {exporting ? 'Exporting…' : 'Export CSV'}
        </button>
      </form>
      <p role="status" className="muted" data-testid="audit-export">
        {exportNote}
      </p>
      <ErrorBox error={list.error} />
      <table className="audit-table">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Details</th>
            <th scope="col">From</th>
          </tr>
        </thead>
        <tbody>
          {list.isPending && <SkeletonRows cols={6} />}
          {list.data?.items.map((e) => (
            <tr key={e.id}>
              <td>
                <time dateTime={e.at}>{formatDate(e.at)}</time>
              </td>
              <td>{actorLabel(e) || '—'}</td>
              <td className="mono">{e.action}</td>
              <td>
                {e.targetType ? (
                  <>
                    {e.targetType} {e.targetName ? <strong>{e.targetName}</strong> : null}{' '}
                    <span className="mono muted" title={e.targetId ?? undefined}>
                      {e.targetId ? `${e.targetId.slice(0, 8)}…` : ''}
                    </span>
                  </>
                ) : (
                  '—'
                )}
              </td>
              <td>
                <Details d={e.details} />
              </td>
              <td className="mono">{e.ip ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data?.total === 0 && <EmptyState title="No audit entries match" />}
      {list.data && list.data.total > 0 && (
        <Pager total={list.data.total} limit={LIMIT} offset={offset} onChange={(o) => set({ offset: o ? String(o) : null })} />
      )}
    </section>
  );
}
