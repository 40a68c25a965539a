import { useQuery } from '@tanstack/react-query';
import { GET } from '../api/client';
import { AgentSetupHelp } from '../components/AgentSetupHelp';
import { LevelBadge, OverrideBadge } from '../components/badges';
import { LevelBars, TrendChart } from '../components/charts';
import { ErrorBox, SkeletonBlock } from '../components/feedback';
import { FirstRunChecklist } from '../components/FirstRunChecklist';
import { clientName, formatDate, timeAgo } from '../format';
import { Link } from '../router';

function Stat({ label, value, to, testId, note }: { label: string; value: number | string; to?: string; testId: string; note?: string }) {
  const body = (
    <>
      <span className="stat-value" data-testid={testId}>
        {value}
      </span>
      <span className="stat-label">{label}</span>
      {note && <span className="stat-note">{note}</span>}
    </>
  );
  return <li className="stat">{to ? <Link to={to}>{body}</Link> : body}</li>;
}

const CHANGE_LABEL: Record<string, string> = { config_changed: 'configuration changed', tool_changed: 'tool changed', level_raised: 'risk level raised' };

/** The page's own shape while it loads, so nothing jumps when the numbers arrive. */
function OverviewSkeleton() {
  return (
    <div aria-busy="true" aria-label="Loading the overview">
      <ul className="stats" aria-hidden="true">
        {Array.from({ length: 5 }, (_, i) => (
          <li key={i} className="stat">
            <span className="skeleton stat-skeleton" />
            <span className="skeleton" />
          </li>
        ))}
      </ul>
      <div className="grid-2">
        <div className="panel chart-panel">
          <SkeletonBlock lines={5} />
        </div>
        <div className="panel chart-panel">
          <SkeletonBlock lines={5} />
        </div>
      </div>
    </div>
  );
}

export function OverviewPage() {
  // the morning view stays current while it is left open
  const q = useQuery({ queryKey: ['overview'], queryFn: () => GET('/api/v1/overview'), refetchInterval: 60_000 });
  const o = q.data;
  return (
    <section>
      <h1>Overview</h1>
      <FirstRunChecklist />
      <ErrorBox error={q.error} />
      {!o && !q.error && <OverviewSkeleton />}
      {o && o.hosts.total === 0 && <AgentSetupHelp />}
      {o && o.hosts.total > 0 && (
        <>
          <ul className="stats" aria-label="Key numbers">
            <Stat label="servers" value={o.servers.total} to="/servers" testId="stat-servers" />
            <Stat
              label="critical or high"
              value={o.servers.byLevel.critical + o.servers.byLevel.high}
              to="/servers?level=critical,high"
              testId="stat-critical-high"
            />
            <Stat label="new this week" value={o.newThisWeek} testId="stat-new" note="first seen in the last 7 days" />
            <Stat
              label="hosts reporting"
              value={`${o.hosts.reporting} / ${o.hosts.total}`}
              to="/hosts"
              testId="stat-hosts"
              note={o.hosts.silent > 0 ? `${o.hosts.silent} silent for 48 h` : 'none silent'}
            />
            <Stat label="open alerts" value={o.alerts.open} to="/alerts?status=open" testId="stat-alerts" note={`${o.alerts.acknowledged} acknowledged`} />
          </ul>
          <div className="grid-2">
            <div className="panel chart-panel">
              <h2>Servers by risk level</h2>
              <LevelBars counts={o.servers.byLevel} />
            </div>
            <div className="panel chart-panel">
              <h2>Trend, last 30 days</h2>
              <TrendChart trend={o.trend} />
            </div>
          </div>
          <div className="grid-2">
            <div className="panel" data-testid="week-changes">
              <h2>This week</h2>
              <h3>New servers ({o.newThisWeek})</h3>
              {o.newServers.length === 0 ? (
                <p className="muted">No new server in the last 7 days.</p>
              ) : (
                <ul className="plain-list">
                  {o.newServers.map((s) => (
                    <li key={s.id}>
                      <LevelBadge level={s.level} /> <Link to={`/servers/${s.id}`}>{s.name}</Link> <span className="muted">first seen {timeAgo(s.firstSeen)}</span>
                    </li>
                  ))}
                </ul>
              )}
              <h3>Changed servers</h3>
              {o.changedServers.length === 0 ? (
                <p className="muted">No configuration, tool or level change in the last 7 days.</p>
              ) : (
                <ul className="plain-list">
                  {o.changedServers.map((s) => (
                    <li key={s.id}>
                      <LevelBadge level={s.level} /> <Link to={`/servers/${s.id}`}>{s.name}</Link>{' '}
                      <span className="muted">
                        {s.changes.map((c) => CHANGE_LABEL[c] ?? c).join(', ')}, {timeAgo(s.at)}
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
            <div className="panel" data-testid="silent-hosts">
              <h2>Hosts not reporting ({o.hosts.silent})</h2>
              {o.silentHosts.length === 0 ? (
                <p className="muted">Every host reported in the last 48 hours.</p>
              ) : (
                <ul className="plain-list">
                  {o.silentHosts.map((h) => (
                    <li key={h.id}>
                      <Link to={`/hosts/${h.id}`}>{h.hostname}</Link> <span className="muted">({h.osUser})</span>{' '}
                      <span className="muted" title={formatDate(h.lastSeen)}>
                        last report {timeAgo(h.lastSeen)}
                      </span>
                    </li>
                  ))}
                </ul>
              )}
              {o.hosts.silent > o.silentHosts.length && (
                <p>
                  <Link to="/hosts?status=silent">All {o.hosts.silent} silent hosts</Link>
                </p>
              )}
            </div>
          </div>
          <div className="panel">
            <h2>Top risky servers</h2>
            {o.topRisky.length === 0 ? (
              <p className="muted">No risky servers. Good.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Server</th>
                    <th scope="col">Level</th>
                    <th scope="col" className="num">
                      Score
                    </th>
                    <th scope="col">Clients</th>
                    <th scope="col" className="num">
                      Hosts
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {o.topRisky.map((s) => (
                    <tr key={s.id}>
                      <td>
                        <Link to={`/servers/${s.id}`}>{s.name}</Link> <OverrideBadge override={s.override} />
                      </td>
                      <td>
                        <LevelBadge level={s.level} />
                      </td>
                      <td className="num">{s.score}</td>
                      <td>{s.clients.map(clientName).join(', ')}</td>
                      <td className="num">{s.hostCount}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </>
      )}
    </section>
  );
}
