import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { GET } from '../api/client';
import { AgentSetupHelp } from '../components/AgentSetupHelp';
import { LevelBadge } from '../components/badges';
import { ErrorBox, Pager, SkeletonRows } from '../components/feedback';
import { timeAgo } from '../format';
import { Link, useSearchState } from '../router';
import { oneOf } from '../urls';
import { useSearchText } from '../useSearchText';

const LIMIT = 50;

export function HostsPage() {
  const [params, set] = useSearchState();
  const filter = {
    q: params.get('q') ?? undefined,
    status: oneOf(params.get('status'), ['reporting', 'silent'] as const),
    sort: oneOf(params.get('sort'), ['lastSeen', 'hostname', 'servers', 'score'] as const),
  };
  const offset = Number(params.get('offset') ?? 0) || 0;
  const [text, setText] = useSearchText(filter.q, (q) => set({ q, offset: null }));
  const list = useQuery({
    queryKey: ['hosts', filter, offset],
    queryFn: () => GET('/api/v1/hosts', { query: { ...filter, limit: LIMIT, offset } }),
    placeholderData: keepPreviousData,
  });
  const noHostsAtAll = list.data?.total === 0 && !filter.q && !filter.status;

  return (
    <section>
      <h1>Hosts</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" placeholder="hostname or user" value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <label>
          Status
          <select value={filter.status ?? ''} onChange={(e) => set({ status: e.target.value, offset: null })}>
            <option value="">All</option>
            <option value="reporting">Reporting</option>
            <option value="silent">Silent for 48 h</option>
          </select>
        </label>
        <label>
          Sort by
          <select value={filter.sort ?? 'lastSeen'} onChange={(e) => set({ sort: e.target.value, offset: null })}>
            <option value="lastSeen">Last seen</option>
            <option value="hostname">Hostname</option>
            <option value="servers">Servers</option>
            <option value="score">Highest score</option>
          </select>
        </label>
      </form>
      <ErrorBox error={list.error} />
      {noHostsAtAll ? (
        <AgentSetupHelp />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">User</th>
              <th scope="col">OS</th>
              <th scope="col">Agent</th>
              <th scope="col" className="num">
                Servers
              </th>
              <th scope="col">Worst level</th>
              <th scope="col">Last report</th>
            </tr>
          </thead>
          <tbody>
            {list.isPending && <SkeletonRows cols={7} />}
            {list.data?.items.map((h) => (
              <tr key={h.id}>
                <td>
                  <Link to={`/hosts/${h.id}`}>{h.hostname}</Link>
                </td>
                <td>{h.osUser}</td>
                <td>{h.os}</td>
                <td>{h.agentVersion}</td>
                <td className="num">{h.serverCount}</td>
                <td>
                  <LevelBadge level={h.maxLevel} />
                </td>
                <td>
                  {timeAgo(h.lastSeen)} {h.silent && <span className="badge status-silent">silent</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data && list.data.total > 0 && (
        <Pager total={list.data.total} limit={LIMIT} offset={offset} onChange={(o) => set({ offset: o ? String(o) : null })} />
      )}
    </section>
  );
}
