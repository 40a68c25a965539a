// Alerts as a triage queue (issue 14): worst first, then newest; filters in the URL; select
// several and acknowledge, resolve, assign or accept the risk at once; keys j/k move, x
// selects, a acknowledges, r resolves (the selection, or the current alert when none is
// selected). Alerts Palisade resolved by itself say why.
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { GET, POST } from '../api/client';
import type { Alert, AlertAction, AlertBulkResult, RequestOf } from '../api/types';
import { SeverityBadge, StatusBadge } from '../components/badges';
import { InlineMarkdown } from '../components/Markdown';
import { EmptyState, ErrorBox, Pager, SkeletonRows } from '../components/feedback';
import { clientName, formatDate, timeAgo } from '../format';
import { Link, useSearchState } from '../router';
import { useCan } from '../session';
import { oneOf } from '../urls';

const LIMIT = 50;

export const ALERT_KINDS: Array<[string, string]> = [
  ['server_added', 'New server'],
  ['server_removed', 'Server removed'],
  ['config_changed', 'Configuration changed'],
  ['tool_changed', 'Tool changed (rug pull)'],
  ['level_raised', 'Risk level raised'],
  ['finding_added', 'New finding'],
  ['override_voided', 'Accepted risk voided'],
  ['advisory_matched', 'Known vulnerability'],
];

type BulkInput = RequestOf<'/api/v1/alerts/bulk', 'post'>;

function describeResult(action: AlertAction, r: AlertBulkResult): string {
  const verb = { acknowledge: 'acknowledged', resolve: 'resolved', assign: 'assigned', accept_risk: 'resolved by accepting the risk' }[action];
  const parts = [`${r.updated} alert${r.updated === 1 ? '' : 's'} ${verb}`];
  if (action === 'accept_risk') parts.push(`${r.overrides} override${r.overrides === 1 ? '' : 's'} created${r.pendingApproval ? `, ${r.pendingApproval} waiting for a second approver` : ''}`);
  if (r.skipped.length) parts.push(`${r.skipped.length} skipped (${[...new Set(r.skipped.map((s) => s.reason))].join('; ')})`);
  return parts.join('; ') + '.';
}

/** Is the key press meant for a form field rather than the queue? */
function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  if (el.isContentEditable) return true;
  // the row checkboxes take the queue's keys; other fields keep theirs
  return ['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName) && !el.dataset.queueKeys;
}

function AcceptRiskForm({ count, onSubmit, onCancel, pending }: { count: number; onSubmit: (reason: string, expiresAt: string) => void; onCancel: () => void; pending: boolean }) {
  const inNinety = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
  const [reason, setReason] = useState('');
  const [until, setUntil] = useState(inNinety);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit(reason, new Date(until + 'T23:59:59.000Z').toISOString());
  };
  return (
    <form className="panel accept-risk" onSubmit={submit} aria-label="Accept the risk of the selected alerts' servers">
      <p>
        Accepting the risk creates an override on each server of the {count} selected alert{count === 1 ? '' : 's'} and resolves their alerts. It is kept in the audit log.
      </p>
      <label>
        Reason (at least 10 characters)
        <textarea value={reason} onChange={(e) => setReason(e.target.value)} required minLength={10} maxLength={2000} rows={3} />
      </label>
      <label>
        Until
        <input type="date" value={until} onChange={(e) => setUntil(e.target.value)} required />
      </label>
      <div className="row">
        <button type="submit" disabled={pending || reason.trim().length < 10}>
          Accept risk
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Who({ a }: { a: Alert }) {
  return (
    <>
      {a.assignedTo && <div className="muted">assigned to {a.assignedTo.email}</div>}
      {a.acknowledgedBy && a.status !== 'resolved' && (
        <div className="muted">
          acknowledged by {a.acknowledgedBy.email}, {timeAgo(a.acknowledgedAt)}
        </div>
      )}
      {a.status === 'resolved' && a.resolvedReason && (
        <div className="resolved-reason">
          <strong>Resolved automatically:</strong> {a.resolvedReason}
        </div>
      )}
      {a.status === 'resolved' && !a.resolvedReason && a.resolvedBy && (
        <div className="muted">
          resolved by {a.resolvedBy.email}, {timeAgo(a.resolvedAt)}
        </div>
      )}
    </>
  );
}

export function AlertsPage() {
  const can = useCan();
  const qc = useQueryClient();
  const [params, set] = useSearchState();
  const filter = {
    status: params.get('status') ?? 'open,acknowledged',
    severity: params.get('severity') ?? undefined,
    type: params.get('type') ?? undefined,
    host: params.get('host') ?? undefined,
    server: params.get('server') ?? undefined,
    assignee: params.get('assignee') ?? undefined,
    sort: oneOf(params.get('sort'), ['severity', 'time'] as const),
  };
  const offset = Number(params.get('offset') ?? 0) || 0;
  const list = useQuery({
    queryKey: ['alerts', filter, offset],
    queryFn: () => GET('/api/v1/alerts', { query: { ...filter, limit: LIMIT, offset } }),
    placeholderData: keepPreviousData,
    refetchInterval: 60_000,
  });
  const hosts = useQuery({ queryKey: ['alert-hosts'], queryFn: () => GET('/api/v1/hosts', { query: { limit: 200, sort: 'hostname' } }), staleTime: 60_000 });
  const servers = useQuery({ queryKey: ['alert-servers'], queryFn: () => GET('/api/v1/servers', { query: { limit: 200, sort: 'name' } }), staleTime: 60_000 });
  const people = useQuery({ queryKey: ['alert-assignees'], queryFn: () => GET('/api/v1/alerts/assignees'), staleTime: 60_000 });
  const canWrite = can('alerts:write');
  const canAccept = can('overrides:write');

  const items = list.data?.items ?? [];
  const [current, setCurrent] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [accepting, setAccepting] = useState(false);
  const [assignTo, setAssignTo] = useState('');
  const [result, setResult] = useState('');
  const rows = useRef<Array<HTMLTableRowElement | null>>([]);

  // a new page or filter: start at the top with nothing selected
  const pageKey = JSON.stringify([filter, offset]);
  useEffect(() => {
    setCurrent(0);
    setSelected(new Set());
  }, [pageKey]);

  const bulk = useMutation({
    mutationFn: (input: BulkInput) => POST('/api/v1/alerts/bulk', { body: input }),
    onSuccess: (r, input) => {
      setResult(describeResult(input.action, r));
      setSelected(new Set());
      setAccepting(false);
      return Promise.all([qc.invalidateQueries({ queryKey: ['alerts'] }), qc.invalidateQueries({ queryKey: ['overview'] })]);
    },
  });

  const targets = (): string[] => (selected.size ? [...selected] : items[current] ? [items[current]!.id] : []);
  const run = (action: 'acknowledge' | 'resolve') => {
    const ids = targets();
    if (ids.length && canWrite && !bulk.isPending) bulk.mutate({ ids, action });
  };
  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const move = (to: number) => {
    const i = Math.max(0, Math.min(items.length - 1, to));
    setCurrent(i);
    rows.current[i]?.focus();
  };

  const onKey = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) return;
    const k = e.key;
    if (k === 'j' || k === 'ArrowDown') move(current + 1);
    else if (k === 'k' || k === 'ArrowUp') move(current - 1);
    else if (k === 'x' && items[current]) toggle(items[current]!.id);
    else if (k === 'a') run('acknowledge');
    else if (k === 'r') run('resolve');
    else return;
    e.preventDefault();
  };

  const allOnPage = items.length > 0 && items.every((a) => selected.has(a.id));
  const hostOptions = hosts.data?.items ?? [];
  const serverOptions = servers.data?.items ?? [];

  return (
    <section className="alerts-page">
      <h1>Alerts</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter alerts">
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
        <label>
          Kind
          <select value={filter.type ?? ''} onChange={(e) => set({ type: e.target.value, offset: null })}>
            <option value="">All</option>
            {ALERT_KINDS.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          Host
          <select value={filter.host ?? ''} onChange={(e) => set({ host: e.target.value, offset: null })}>
            <option value="">All</option>
            {filter.host && !hostOptions.some((h) => h.id === filter.host) && <option value={filter.host}>this host</option>}
            {hostOptions.map((h) => (
              <option key={h.id} value={h.id}>
                {h.hostname} ({h.osUser})
              </option>
            ))}
          </select>
        </label>
        <label>
          Server
          <select value={filter.server ?? ''} onChange={(e) => set({ server: e.target.value, offset: null })}>
            <option value="">All</option>
            {filter.server && !serverOptions.some((s) => s.id === filter.server) && <option value={filter.server}>this server</option>}
            {serverOptions.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Assignee
          <select value={filter.assignee ?? ''} onChange={(e) => set({ assignee: e.target.value, offset: null })}>
            <option value="">Anyone</option>
            <option value="me">Me</option>
            <option value="none">Unassigned</option>
            {(people.data?.items ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.email}
              </option>
            ))}
          </select>
        </label>
        <label>
          Order
          <select value={filter.sort ?? 'severity'} onChange={(e) => set({ sort: e.target.value === 'severity' ? null : e.target.value, offset: null })}>
            <option value="severity">Worst first</option>
            <option value="time">Newest first</option>
          </select>
        </label>
      </form>

      {canWrite && (
        <div className="bulk-bar" role="region" aria-label="Actions on selected alerts">
          <span className="bulk-count" data-testid="selected-count">
            {selected.size ? `${selected.size} selected` : 'None selected: actions apply to the current alert'}
          </span>
          <button type="button" className="secondary" disabled={bulk.isPending || targets().length === 0} onClick={() => run('acknowledge')}>
            Acknowledge
          </button>
          <button type="button" className="secondary" disabled={bulk.isPending || targets().length === 0} onClick={() => run('resolve')}>
            Resolve
          </button>
          <select value={assignTo} onChange={(e) => setAssignTo(e.target.value)} aria-label="Assign to">
              <option value="">Assign to…</option>
              <option value="none">Nobody (unassign)</option>
              {(people.data?.items ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.email}
                </option>
              ))}
            </select>
          <button type="button" className="secondary" disabled={bulk.isPending || !assignTo || targets().length === 0} onClick={() => bulk.mutate({ ids: targets(), action: 'assign', assigneeId: assignTo === 'none' ? null : assignTo })}>
            Assign
          </button>
          {canAccept && (
            <button type="button" className="secondary" disabled={bulk.isPending || targets().length === 0} onClick={() => setAccepting(true)}>
              Accept risk…
            </button>
          )}
          {selected.size > 0 && (
            <button type="button" className="link" onClick={() => setSelected(new Set())}>
              Clear selection
            </button>
          )}
        </div>
      )}
      {accepting && <AcceptRiskForm count={targets().length} pending={bulk.isPending} onCancel={() => setAccepting(false)} onSubmit={(reason, expiresAt) => bulk.mutate({ ids: targets(), action: 'accept_risk', reason, expiresAt })} />}
      <p className="hint" id="alert-keys">
        Keys in the list: <kbd>j</kbd>/<kbd>k</kbd> next/previous, <kbd>x</kbd> select, <kbd>a</kbd> acknowledge, <kbd>r</kbd> resolve.
      </p>
      <div role="status" aria-live="polite" className="bulk-result" data-testid="bulk-result">
        {result}
      </div>
      <ErrorBox error={bulk.error} title="That did not work" />
      <ErrorBox error={list.error} />
      <div className="table-scroll">
        <table className="alerts-table" onKeyDown={onKey} aria-describedby="alert-keys">
          <thead>
            <tr>
              {canWrite && (
                <th scope="col" className="select-col">
                  <input
                    type="checkbox"
                    aria-label="Select every alert on this page"
                    checked={allOnPage}
                    onChange={() => setSelected(allOnPage ? new Set() : new Set(items.map((a) => a.id)))}
                  />
                </th>
              )}
              <th scope="col">Severity</th>
              <th scope="col">Alert</th>
              <th scope="col">Raised</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {list.isPending && <SkeletonRows cols={canWrite ? 5 : 4} />}
            {items.map((a, i) => (
              <tr
                key={a.id}
                ref={(el) => {
                  rows.current[i] = el;
                }}
                tabIndex={i === current ? 0 : -1}
                className={[i === current ? 'current' : '', selected.has(a.id) ? 'selected' : ''].join(' ').trim() || undefined}
                aria-selected={selected.has(a.id)}
                data-alert-id={a.id}
                onFocus={() => setCurrent(i)}
              >
                {canWrite && (
                  <td className="select-col">
                    <input type="checkbox" checked={selected.has(a.id)} onChange={() => toggle(a.id)} aria-label={`Select: ${a.title.replace(/`/g, '')}`} data-queue-keys="1" />
                  </td>
                )}
                <td>
                  <SeverityBadge severity={a.severity} />
                </td>
                <td className="alert-main">
                  <strong className="alert-title">
                    {a.serverId ? (
                      <Link to={`/servers/${a.serverId}`}>
                        <InlineMarkdown text={a.title} />
                      </Link>
                    ) : (
                      <InlineMarkdown text={a.title} />
                    )}
                  </strong>
                  <div className="muted">{a.message}</div>
                  <div className="alert-links">
                    {a.hostId && <Link to={`/hosts/${a.hostId}`}>Host {a.hostname ?? ''}</Link>}
                    {a.client && <span className="muted"> · {clientName(a.client)}</span>}
                  </div>
                </td>
                <td className="nowrap" title={formatDate(a.createdAt)}>
                  {timeAgo(a.createdAt)}
                </td>
                <td>
                  <StatusBadge status={a.status} />
                  <Who a={a} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data?.total === 0 && (
        <EmptyState title="No alerts here">
          <p>Palisade raises an alert when a report shows a new risky server, a changed config or tool, or a raised risk level.</p>
        </EmptyState>
      )}
      {list.data && list.data.total > 0 && <Pager total={list.data.total} limit={LIMIT} offset={offset} onChange={(o) => set({ offset: o ? String(o) : null })} />}
    </section>
  );
}
