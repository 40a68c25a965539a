// Managed gateways (issue 16 §4): the gateways of the organisation (status, version, last
// sync), one gateway's upstreams with their inventory scores and the tools each exposes, its
// virtual servers, the call log with filters and the rate-limit hits. The quarantine of
// changed tool definitions is on its own page (Quarantine.tsx).
import { useState, type FormEvent } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DELETE, GET, POST } from '../api/client';
import type { components } from '../api/schema.gen';
import { LevelBadge, StatusBadge } from '../components/badges';
import { CopyButton } from '../components/CopyButton';
import { EmptyState, ErrorBox, Pager, SkeletonRows } from '../components/feedback';
import { formatDate, timeAgo } from '../format';
import { Link, matchPath, useSearchState } from '../router';
import { useCan } from '../session';
import { GatewayPolicyPage } from './GatewayPolicy';
import { QuarantinePage } from './Quarantine';

type NewGatewayKey = components['schemas']['NewGatewayKey'];
const LIMIT = 50;

const SECTIONS = [
  { path: '/gateways', label: 'Gateways', permission: null },
  { path: '/gateways/quarantine', label: 'Quarantine', permission: null },
  { path: '/gateways/policy', label: 'Policy', permission: null },
  { path: '/gateways/calls', label: 'Call log', permission: 'audit:read' },
  { path: '/gateways/rate-limits', label: 'Rate-limit hits', permission: 'audit:read' },
] as const;

function GatewayTabs({ path }: { path: string }) {
  const can = useCan();
  return (
    <nav className="tabs" aria-label="Gateways">
      {SECTIONS.filter((s) => s.permission === null || can(s.permission)).map((s) => (
        <Link key={s.path} to={s.path} aria-current={s.path === path ? 'page' : undefined}>
          {s.label}
        </Link>
      ))}
    </nav>
  );
}

/** /gateways, /gateways/quarantine, /gateways/policy, /gateways/calls, /gateways/rate-limits, /gateways/:id */
export function GatewaysRoutes({ path }: { path: string }) {
  const section = SECTIONS.find((s) => s.path === path);
  const m = section ? null : matchPath('/gateways/:id', path);
  return (
    <section>
      <h1>{m ? 'Gateway' : section?.label === 'Gateways' ? 'Gateways' : `Gateways: ${section?.label ?? ''}`}</h1>
      <GatewayTabs path={section?.path ?? ''} />
      {path === '/gateways' && <GatewayList />}
      {path === '/gateways/quarantine' && <QuarantinePage />}
      {path === '/gateways/policy' && <GatewayPolicyPage />}
      {path === '/gateways/calls' && <GatewayCalls />}
      {path === '/gateways/rate-limits' && <RateLimitHits />}
      {m && <GatewayDetail id={m.id!} />}
    </section>
  );
}

function configSnippet(origin: string): string {
  return `backend: { url: "${origin}", key: "\${PALISADE_GATEWAY_KEY}" }`;
}

function NewGatewayPanel({ created, onClose }: { created: NewGatewayKey; onClose: () => void }) {
  const snippet = configSnippet(window.location.origin);
  return (
    <div className="panel new-key" role="status" aria-label="New gateway key">
      <h2>Gateway “{created.name}” registered</h2>
      <p>
        <strong>Copy the key now: it is shown only this once.</strong> Palisade keeps only a hash of it.
      </p>
      <div className="copy-row">
        <code className="block" data-testid="new-gateway-key">
          {created.key}
        </code>
        <CopyButton text={created.key} label="Copy key" />
      </div>
      <p>
        Give it to the gateway as the environment variable <code>PALISADE_GATEWAY_KEY</code> and add to its config:
      </p>
      <div className="copy-row">
        <code className="block">{snippet}</code>
        <CopyButton text={snippet} label="Copy config line" />
      </div>
      <button type="button" className="secondary" onClick={onClose}>
        I have copied it
      </button>
    </div>
  );
}

function GatewayList() {
  const can = useCan();
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [created, setCreated] = useState<NewGatewayKey | null>(null);
  const list = useQuery({ queryKey: ['gateways'], queryFn: () => GET('/api/v1/gateways', { query: { limit: 200 } }), refetchInterval: 30_000 });
  const create = useMutation({
    mutationFn: () => POST('/api/v1/gateways', { body: { name: name.trim() } }),
    onSuccess: (k) => {
      setCreated(k);
      setName('');
      return qc.invalidateQueries({ queryKey: ['gateways'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => DELETE('/api/v1/gateways/{id}', { path: { id } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['gateways'] }),
  });
  const canWrite = can('agent-keys:write');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setCreated(null);
    create.mutate();
  };
  return (
    <div>
      <p>
        A <code>palisade gateway</code> with a gateway key syncs with this server: it sends its upstreams, tools, quarantined changes and call log, and takes
        the decisions made here. Without the server it keeps working from its own store.
      </p>
      {canWrite && (
        <form className="inline-form" onSubmit={submit}>
          <label>
            Gateway name
            <input
              required
              maxLength={100}
              pattern="[A-Za-z0-9][A-Za-z0-9._\-]*"
              title="letters, digits, dot, dash and underscore"
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="e.g. edge-1"
            />
          </label>
          <button type="submit" disabled={create.isPending}>
            Register gateway
          </button>
        </form>
      )}
      <ErrorBox error={create.error} title="The gateway was not registered" />
      {created && <NewGatewayPanel created={created} onClose={() => setCreated(null)} />}
      <ErrorBox error={list.error ?? revoke.error} />
      {list.data?.items.length === 0 ? (
        <EmptyState title="No gateway yet">{canWrite ? 'Register one above and give its key to the gateway.' : 'An admin can register one.'}</EmptyState>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Version</th>
              <th scope="col">Last seen</th>
              <th scope="col">Upstreams</th>
              <th scope="col">Tools</th>
              <th scope="col">Quarantined</th>
              {canWrite && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {list.isPending && <SkeletonRows cols={canWrite ? 8 : 7} rows={3} />}
            {list.data?.items.map((g) => (
              <tr key={g.id}>
                <td>
                  <Link to={`/gateways/${g.id}`}>{g.name}</Link> <span className="muted mono">{g.prefix}…</span>
                </td>
                <td>
                  <StatusBadge status={g.status} />{' '}
                  {g.stale && (
                    <span
                      className="badge status-stale"
                      title="Its last sync is older than 3 sync intervals (90 s): it may be down or unable to reach this server."
                    >
                      stale
                    </span>
                  )}
                </td>
                <td>{g.version ?? '—'}</td>
                <td title={formatDate(g.lastSeenAt)}>{g.lastSeenAt ? timeAgo(g.lastSeenAt) : 'never'}</td>
                <td>{g.upstreams}</td>
                <td>{g.tools}</td>
                <td>{g.quarantined > 0 ? <Link to="/gateways/quarantine">{g.quarantined}</Link> : 0}</td>
                {canWrite && (
                  <td>
                    {!g.revokedAt && (
                      <button
                        type="button"
                        className="danger"
                        disabled={revoke.isPending}
                        aria-label={`Revoke gateway ${g.name}`}
                        onClick={() => {
                          if (window.confirm(`Revoke the key of gateway “${g.name}”? It stops syncing at once and keeps serving from its own store.`))
                            revoke.mutate(g.id);
                        }}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function GatewayDetail({ id }: { id: string }) {
  const gw = useQuery({ queryKey: ['gateway', id], queryFn: () => GET('/api/v1/gateways/{id}', { path: { id } }), refetchInterval: 30_000 });
  if (gw.error) return <ErrorBox error={gw.error} />;
  if (!gw.data) return <SkeletonRows cols={1} rows={3} />;
  const g = gw.data;
  return (
    <div>
      <h2>{g.name}</h2>
      <dl className="facts">
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={g.status} />
          </dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{g.version ?? '—'}</dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd>{g.lastSeenAt ? `${timeAgo(g.lastSeenAt)} (${formatDate(g.lastSeenAt)})` : 'never'}</dd>
        </div>
      </dl>
      <h2>Virtual servers</h2>
      {g.virtualServers.length === 0 ? (
        <p className="muted">This gateway has no virtual servers: its clients see every upstream at /mcp.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Virtual server</th>
              <th scope="col">Upstreams</th>
              <th scope="col">Tools it exposes</th>
            </tr>
          </thead>
          <tbody>
            {g.virtualServers.map((v) => (
              <tr key={v.name}>
                <td className="mono">{v.name}</td>
                <td>{v.upstreams.join(', ')}</td>
                <td>
                  <span className="mono">{v.tools.join(', ') || '—'}</span> <span className="muted">({v.tools.length})</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Upstreams</h2>
      {g.upstreamList.map((u) => (
        <div key={u.name} className="panel">
          <h3>
            {u.serverId ? <Link to={`/servers/${u.serverId}`}>{u.name}</Link> : u.name} {u.level && <LevelBadge level={u.level} />}{' '}
            <span className="muted">
              {u.transport}, {u.up ? 'connected' : 'not connected'}
              {u.score !== null ? `, score ${u.score}` : ''}
            </span>
          </h3>
          <table>
            <caption className="visually-hidden">Tools of {u.name}</caption>
            <thead>
              <tr>
                <th scope="col">Tool</th>
                <th scope="col">State</th>
                <th scope="col">Risk</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {u.tools.map((t) => (
                <tr key={t.federated}>
                  <td className="mono">{t.federated}</td>
                  <td>
                    <StatusBadge status={t.status} />
                  </td>
                  <td>
                    <LevelBadge level={t.level} />
                  </td>
                  <td>{t.description ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </div>
  );
}

function useGatewayNames() {
  return useQuery({ queryKey: ['gateway-names'], queryFn: () => GET('/api/v1/gateways', { query: { limit: 200 } }), staleTime: 60_000 });
}

/** The "Gateway" filter of the call log and the rate-limit hits: any gateway, or one. */
function GatewaySelect({ value, onChange }: { value: string | undefined; onChange: (id: string | null) => void }) {
  const names = useGatewayNames();
  return (
    <label>
      Gateway
      <select value={value ?? ''} onChange={(e) => onChange(e.target.value || null)}>
        <option value="">Any gateway</option>
        {(names.data?.items ?? []).map((g) => (
          <option key={g.id} value={g.id}>
            {g.name}
          </option>
        ))}
      </select>
    </label>
  );
}

const day = (v: string, end: boolean) => (v ? new Date(v + (end ? 'T23:59:59.999Z' : 'T00:00:00.000Z')).toISOString() : null);
const DECISIONS = [
  'allowed',
  'rate-limited',
  'quarantined',
  'blocked',
  'unknown',
  'invalid-input',
  'upstream-error',
  'released',
  'rejected',
  'pinned',
  'connected',
  'disconnected',
];

function GatewayCalls() {
  const can = useCan();
  const [params, set] = useSearchState();
  const filter = {
    gateway: params.get('gateway') ?? undefined,
    principal: params.get('principal') ?? undefined,
    tool: params.get('tool') ?? undefined,
    decision: params.get('decision') ?? undefined,
    since: params.get('since') ?? undefined,
    until: params.get('until') ?? undefined,
  };
  const offset = Number(params.get('offset') ?? 0) || 0;
  const list = useQuery({
    queryKey: ['gateway-calls', filter, offset],
    queryFn: () => GET('/api/v1/gateway-calls', { query: { ...filter, limit: LIMIT, offset } }),
    placeholderData: keepPreviousData,
    enabled: can('audit:read'),
  });
  if (!can('audit:read')) return <p>Only admins and owners can read the gateways’ call log.</p>;
  return (
    <div>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the call log">
        <GatewaySelect value={filter.gateway} onChange={(gateway) => set({ gateway, offset: null })} />
        <label>
          Principal (hash)
          <input value={filter.principal ?? ''} onChange={(e) => set({ principal: e.target.value.trim() || null, offset: null })} placeholder="p_…" />
        </label>
        <label>
          Tool
          <input value={filter.tool ?? ''} onChange={(e) => set({ tool: e.target.value.trim() || null, offset: null })} placeholder="e.g. files__read_file" />
        </label>
        <label>
          Decision
          <select value={filter.decision ?? ''} onChange={(e) => set({ decision: e.target.value || null, offset: null })}>
            <option value="">Any decision</option>
            {DECISIONS.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
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
      </form>
      <ErrorBox error={list.error} />
      {list.data?.total === 0 ? (
        <EmptyState title="No calls match">Gateways send their records at each sync.</EmptyState>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Gateway</th>
              <th scope="col">Principal</th>
              <th scope="col">Tool</th>
              <th scope="col">Decision</th>
              <th scope="col">Latency</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {list.isPending && <SkeletonRows cols={7} />}
            {list.data?.items.map((c) => (
              <tr key={c.id}>
                <td>{formatDate(c.at)}</td>
                <td>{c.gatewayName}</td>
                <td className="mono">{c.principal ?? '—'}</td>
                <td className="mono">{c.tool ?? c.upstream ?? '—'}</td>
                <td>
                  <StatusBadge status={c.decision} />
                </td>
                <td>{c.latencyMs === null ? '—' : `${c.latencyMs.toFixed(1)} ms`}</td>
                <td>{c.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data && <Pager total={list.data.total} limit={LIMIT} offset={offset} onChange={(o) => set({ offset: o ? String(o) : null })} />}
    </div>
  );
}

function RateLimitHits() {
  const can = useCan();
  const [params, set] = useSearchState();
  const gateway = params.get('gateway') ?? undefined;
  const offset = Number(params.get('offset') ?? 0) || 0;
  const list = useQuery({
    queryKey: ['gateway-rate-hits', gateway, offset],
    queryFn: () => GET('/api/v1/gateway-rate-hits', { query: { gateway, limit: LIMIT, offset } }),
    placeholderData: keepPreviousData,
    enabled: can('audit:read'),
  });
  if (!can('audit:read')) return <p>Only admins and owners can read the rate-limit hits.</p>;
  return (
    <div>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the rate-limit hits">
        <GatewaySelect value={gateway} onChange={(g) => set({ gateway: g, offset: null })} />
      </form>
      <ErrorBox error={list.error} />
      {list.data?.total === 0 ? (
        <EmptyState title="No rate-limit hits">No call was refused by a gateway rate limit.</EmptyState>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Gateway</th>
              <th scope="col">Principal</th>
              <th scope="col">Virtual server</th>
              <th scope="col">Tool</th>
              <th scope="col">Limit</th>
            </tr>
          </thead>
          <tbody>
            {list.isPending && <SkeletonRows cols={6} />}
            {list.data?.items.map((h) => (
              <tr key={h.id}>
                <td>{formatDate(h.at)}</td>
                <td>{h.gatewayName}</td>
                <td className="mono">{h.principal ?? '—'}</td>
                <td>{h.virtualServer ?? '—'}</td>
                <td className="mono">{h.tool ?? '—'}</td>
                <td>{h.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data && <Pager total={list.data.total} limit={LIMIT} offset={offset} onChange={(o) => set({ offset: o ? String(o) : null })} />}
    </div>
  );
}
