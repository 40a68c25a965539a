import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get, post, query } from '../api/client';
import type { Alert, List } from '../api/types';
import { SeverityBadge, StatusBadge } from '../components/badges';
import { EmptyState, ErrorBox, Pager, SkeletonRows } from '../components/feedback';
import { formatDate, timeAgo } from '../format';
import { Link, useSearchState } from '../router';
import { useCan } from '../session';

const LIMIT = 50;

function AlertActions({ a }: { a: Alert }) {
  const qc = useQueryClient();
  const m = useMutation({
    mutationFn: (verb: 'acknowledge' | 'resolve') => post<Alert>(`/alerts/${encodeURIComponent(a.id)}/${verb}`, {}),
    onSuccess: () => Promise.all([qc.invalidateQueries({ queryKey: ['alerts'] }), qc.invalidateQueries({ queryKey: ['overview'] })]),
  });
  return (
    <div className="row">
      {a.status === 'open' && (
        <button type="button" className="secondary" disabled={m.isPending} onClick={() => m.mutate('acknowledge')} aria-label={`Acknowledge: ${a.title}`}>
          Acknowledge
        </button>
      )}
      {a.status !== 'resolved' && (
        <button type="button" className="secondary" disabled={m.isPending} onClick={() => m.mutate('resolve')} aria-label={`Resolve: ${a.title}`}>
          Resolve
        </button>
      )}
      <ErrorBox error={m.error} title="That did not work" />
    </div>
  );
}

export function AlertsPage() {
  const can = useCan();
  const [params, set] = useSearchState();
  const filter = { status: params.get('status') ?? 'open,acknowledged', severity: params.get('severity') ?? undefined };
  const offset = Number(params.get('offset') ?? 0) || 0;
  const list = useQuery({
    queryKey: ['alerts', filter, offset],
    queryFn: () => get<List<Alert>>('/alerts' + query({ ...filter, limit: LIMIT, offset })),
    placeholderData: keepPreviousData,
    refetchInterval: 60_000,
  });
  const canWrite = can('alerts:write');
  return (
    <section>
      <h1>Alerts</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={filter.status} onChange={(e) => set({ status: e.target.value, offset: null })}>
            <option value="open,acknowledged">Not resolved</option>
            <option value="open">Open</option>
            <option value="acknowledged">Acknowledged</option>
            <option value="resolved">Resolved</option>
            <option value="open,acknowledged,resolved">All</option>
          </select>
        </label>
        <label>
          Severity
          <select value={filter.severity ?? ''} onChange={(e) => set({ severity: e.target.value, offset: null })}>
            <option value="">All</option>
            <option value="critical,high">Critical and high</option>
            <option value="critical">Critical</option>
            <option value="high">High</option>
            <option value="medium">Medium</option>
            <option value="low">Low</option>
            <option value="info">Info</option>
          </select>
        </label>
      </form>
      <ErrorBox error={list.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Severity</th>
            <th scope="col">Alert</th>
            <th scope="col">Raised</th>
            <th scope="col">Status</th>
            {canWrite && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {list.isPending && <SkeletonRows cols={canWrite ? 5 : 4} />}
          {list.data?.items.map((a) => (
            <tr key={a.id}>
              <td>
                <SeverityBadge severity={a.severity} />
              </td>
              <td>
                <strong>{a.serverId ? <Link to={`/servers/${a.serverId}`}>{a.title}</Link> : a.title}</strong>
                <div className="muted">{a.message}</div>
                {a.hostId && <Link to={`/hosts/${a.hostId}`}>View the host</Link>}
              </td>
              <td className="nowrap" title={formatDate(a.createdAt)}>
                {timeAgo(a.createdAt)}
              </td>
              <td>
                <StatusBadge status={a.status} />
                {a.acknowledgedBy && (
                  <div className="muted">
                    acknowledged by {a.acknowledgedBy.email}, {timeAgo(a.acknowledgedAt)}
                  </div>
                )}
                {a.resolvedBy && (
                  <div className="muted">
                    resolved by {a.resolvedBy.email}, {timeAgo(a.resolvedAt)}
                  </div>
                )}
              </td>
              {canWrite && (
                <td className="actions">
                  <AlertActions a={a} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {list.data?.total === 0 && (
        <EmptyState title="No alerts here">
          <p>Palisade raises an alert when a report shows a new risky server, a changed config or tool, or a raised risk level.</p>
        </EmptyState>
      )}
      {list.data && list.data.total > 0 && (
        <Pager total={list.data.total} limit={LIMIT} offset={offset} onChange={(o) => set({ offset: o ? String(o) : null })} />
      )}
    </section>
  );
}
