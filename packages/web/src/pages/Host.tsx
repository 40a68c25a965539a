import { useQuery } from '@tanstack/react-query';
import { GET } from '../api/client';
import { LevelBadge } from '../components/badges';
import { ErrorBox, SkeletonBlock } from '../components/feedback';
import { History } from '../components/History';
import { clientName, formatDate, timeAgo } from '../format';
import { Link } from '../router';

export function HostPage({ id }: { id: string }) {
  const q = useQuery({ queryKey: ['host', id], queryFn: () => GET('/api/v1/hosts/{id}', { path: { id } }) });
  const h = q.data;
  return (
    <section>
      <p>
        <Link to="/hosts">← Hosts</Link>
      </p>
      <ErrorBox error={q.error} title="This host could not be loaded" />
      {!h && !q.error && <SkeletonBlock lines={6} />}
      {h && (
        <>
          <div className="title-row">
            <h1>{h.hostname}</h1>
            <LevelBadge level={h.maxLevel} />
            {h.silent && <span className="badge status-silent">silent for 48 h</span>}
          </div>
          <div className="panel">
            <dl className="facts">
              <dt>OS user</dt>
              <dd>{h.osUser}</dd>
              <dt>Operating system</dt>
              <dd>{h.os}</dd>
              <dt>Agent version</dt>
              <dd>{h.agentVersion}</dd>
              <dt>First report</dt>
              <dd>{formatDate(h.firstSeen)}</dd>
              <dt>Last report</dt>
              <dd>
                {formatDate(h.lastSeen)} ({timeAgo(h.lastSeen)})
              </dd>
            </dl>
          </div>
          <div className="panel">
            <h2>Servers ({h.instances.length})</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">Server</th>
                  <th scope="col">Level</th>
                  <th scope="col" className="num">
                    Score
                  </th>
                  <th scope="col">Client</th>
                  <th scope="col">Config file</th>
                </tr>
              </thead>
              <tbody>
                {h.instances.map((i) => (
                  <tr key={i.id}>
                    <td>
                      <Link to={`/servers/${i.serverId}`}>{i.name}</Link>
                    </td>
                    <td>
                      <LevelBadge level={i.level} />
                    </td>
                    <td className="num">{i.score}</td>
                    <td>{clientName(i.client)}</td>
                    <td className="mono">{i.configPath}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="panel">
            <h2>AI clients found</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">Client</th>
                  <th scope="col">Config file</th>
                  <th scope="col" className="num">
                    Servers
                  </th>
                  <th scope="col">Problem</th>
                </tr>
              </thead>
              <tbody>
                {h.clients.map((c) => (
                  <tr key={c.id + c.configPath}>
                    <td>{c.name}</td>
                    <td className="mono">{c.configPath}</td>
                    <td className="num">{c.serverCount}</td>
                    <td>{c.error ?? <span className="muted">none</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="panel">
            <h2>History</h2>
            <History events={h.history} />
          </div>
        </>
      )}
    </section>
  );
}
