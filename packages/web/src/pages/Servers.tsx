import { useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { errorMessage, GET } from '../api/client';
import { LEVELS } from '../api/types';
import { LevelBadge, OverrideBadge } from '../components/badges';
import { EmptyState, ErrorBox, Pager, SkeletonRows } from '../components/feedback';
import { clientLabel, clientName, commandLine, levelLabel, timeAgo } from '../format';
import { download, fetchAllServers, serversToCsv, type ServerFilter } from '../export';
import { Link, useSearchState } from '../router';
import { oneOf } from '../urls';
import { useSearchText } from '../useSearchText';

const LIMIT = 50;
const SORTS = { score: 'Score', name: 'Name', lastSeen: 'Last seen', hosts: 'Hosts' } as const;
const SORT_KEYS = ['score', 'name', 'lastSeen', 'hosts'] as const satisfies ReadonlyArray<keyof typeof SORTS>;
const ORDERS = ['asc', 'desc'] as const;

export function ServersPage() {
  const [params, set] = useSearchState();
  const filter: ServerFilter = {
    level: params.get('level') ?? undefined,
    client: params.get('client') ?? undefined,
    host: params.get('host') ?? undefined,
    q: params.get('q') ?? undefined,
    sort: oneOf(params.get('sort'), SORT_KEYS),
    order: oneOf(params.get('order'), ORDERS),
  };
  const offset = Number(params.get('offset') ?? 0) || 0;
  const [text, setText] = useSearchText(filter.q, (q) => set({ q, offset: null }));
  const [exporting, setExporting] = useState<string | null>(null);

  const list = useQuery({
    queryKey: ['servers', filter, offset],
    queryFn: () => GET('/api/v1/servers', { query: { ...filter, limit: LIMIT, offset } }),
    placeholderData: keepPreviousData,
  });
  const hosts = useQuery({ queryKey: ['hosts', 'all'], queryFn: () => GET('/api/v1/hosts', { query: { limit: 200, sort: 'hostname' } }) });

  const exportAs = async (kind: 'csv' | 'json') => {
    setExporting('Preparing export…');
    try {
      const rows = await fetchAllServers(filter);
      const stamp = new Date().toISOString().slice(0, 10);
      if (kind === 'csv') download(`palisade-servers-${stamp}.csv`, 'text/csv', serversToCsv(rows));
      else download(`palisade-servers-${stamp}.json`, 'application/json', JSON.stringify(rows, null, 2));
      setExporting(null);
    } catch (err) {
      setExporting(`Export failed: ${errorMessage(err)}`);
    }
  };

  const filtered = Object.entries(filter).some(([k, v]) => v && k !== 'sort' && k !== 'order');

  return (
    <section>
      <h1>Servers</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" placeholder="name, command, URL, package" value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <label>
          Risk level
          <select value={filter.level ?? ''} onChange={(e) => set({ level: e.target.value, offset: null })}>
            <option value="">All levels</option>
            <option value="critical,high">Critical and high</option>
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {levelLabel[l]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Client
          <select value={filter.client ?? ''} onChange={(e) => set({ client: e.target.value, offset: null })}>
            <option value="">All clients</option>
            {Object.entries(clientLabel).map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Host
          <select value={filter.host ?? ''} onChange={(e) => set({ host: e.target.value, offset: null })}>
            <option value="">All hosts</option>
            {hosts.data?.items.map((h) => (
              <option key={h.id} value={h.id}>
                {h.hostname} ({h.osUser})
              </option>
            ))}
          </select>
        </label>
        <label>
          Sort by
          <select value={filter.sort ?? 'score'} onChange={(e) => set({ sort: e.target.value, order: null, offset: null })}>
            {Object.entries(SORTS).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <label>
          Order
          <select value={filter.order ?? ''} onChange={(e) => set({ order: e.target.value, offset: null })}>
            <option value="">Default</option>
            <option value="desc">Descending</option>
            <option value="asc">Ascending</option>
          </select>
        </label>
        <div className="filter-actions">
          <button type="button" className="secondary" onClick={() => void exportAs('csv')}>
            Export CSV
          </button>
          <button type="button" className="secondary" onClick={() => void exportAs('json')}>
            Export JSON
          </button>
        </div>
      </form>
      {exporting && (
        <p className="notice" role="status">
          {exporting}
        </p>
      )}
      <ErrorBox error={list.error} />
      <table className="servers-table">
        <thead>
          <tr>
            <th scope="col">Server</th>
            <th scope="col">Level</th>
            <th scope="col" className="num">
              Score
            </th>
            <th scope="col">Command or URL</th>
            <th scope="col">Clients</th>
            <th scope="col" className="num">
              Hosts
            </th>
            <th scope="col" className="num">
              Findings
            </th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {list.isPending && <SkeletonRows cols={8} />}
          {list.data?.items.map((s) => (
            <tr key={s.id}>
              <td>
                <Link to={`/servers/${s.id}`}>{s.name}</Link> <OverrideBadge override={s.override} />
              </td>
              <td>
                <LevelBadge level={s.level} />
              </td>
              <td className="num">{s.score}</td>
              <td className="mono truncate" title={commandLine(s)}>
                {commandLine(s)}
              </td>
              <td>{s.clients.map(clientName).join(', ')}</td>
              <td className="num">{s.hostCount}</td>
              <td className="num">{s.findingCount}</td>
              <td className="nowrap">{timeAgo(s.lastSeen)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data && list.data.total === 0 && (
        <EmptyState title={filtered ? 'No server matches these filters' : 'No servers yet'}>
          {filtered ? (
            <p>Clear a filter or search for something shorter.</p>
          ) : (
            <p>Servers appear once an agent reports. See the Overview page for how to run one.</p>
          )}
        </EmptyState>
      )}
      {list.data && list.data.total > 0 && (
        <Pager total={list.data.total} limit={LIMIT} offset={offset} onChange={(o) => set({ offset: o ? String(o) : null })} />
      )}
    </section>
  );
}
