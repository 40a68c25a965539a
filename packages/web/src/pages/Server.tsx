import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get, post } from '../api/client';
import { severityRank } from '../severity';
import type { Advisory, Override, ServerDetail, ServerFinding } from '../api/types';
import { LevelBadge, OverrideBadge, SeverityBadge, StatusBadge } from '../components/badges';
import { ErrorBox, SkeletonBlock } from '../components/feedback';
import { History } from '../components/History';
import { clientName, commandLine, formatDate, timeAgo } from '../format';
import { Link } from '../router';
import { useCan, useSession } from '../session';
import { OverrideForm } from './OverrideForm';

function Names({ names, empty }: { names: string[]; empty: string }) {
  if (names.length === 0) return <span className="muted">{empty}</span>;
  return (
    <ul className="chips">
      {names.map((n) => (
        <li key={n} className="mono">
          {n}
        </li>
      ))}
    </ul>
  );
}

function OverrideRow({ o, serverId }: { o: Override; serverId: string }) {
  const can = useCan();
  const me = useSession();
  const qc = useQueryClient();
  const act = useMutation({
    mutationFn: (verb: 'approve' | 'revoke') => post<Override>(`/overrides/${encodeURIComponent(o.id)}/${verb}`),
    onSuccess: () => Promise.all([qc.invalidateQueries({ queryKey: ['server', serverId] }), qc.invalidateQueries({ queryKey: ['servers'] })]),
  });
  const live = o.status === 'active' || o.status === 'pending';
  return (
    <li className="override-item">
      <div>
        <StatusBadge status={o.status} /> <strong>{o.decision === 'benign' ? 'Marked benign' : 'Risk accepted'}</strong> by {o.createdBy.email} on{' '}
        {formatDate(o.createdAt)}, until {formatDate(o.expiresAt)}
        {o.approvedBy && o.approvedBy.id !== o.createdBy.id && <> · approved by {o.approvedBy.email}</>}
        {o.voidReason && <> · voided: {o.voidReason}</>}
      </div>
      <blockquote>{o.reason}</blockquote>
      {can('overrides:write') && live && (
        <div className="row">
          {o.status === 'pending' && o.createdBy.id !== me.user.id && (
            <button type="button" disabled={act.isPending} onClick={() => act.mutate('approve')}>
              Approve
            </button>
          )}
          <button type="button" className="danger" disabled={act.isPending} onClick={() => act.mutate('revoke')}>
            Revoke override
          </button>
        </div>
      )}
      <ErrorBox error={act.error} title="That did not work" />
    </li>
  );
}

/** Only web links are followed: advisory records come from imported files. */
function safeHref(url: string | null): string | null {
  return url && /^https?:\/\//i.test(url) ? url : null;
}

function Advisories({ advisories, fallback }: { advisories: Advisory[] | undefined; fallback: ServerFinding[] }) {
  if (advisories && advisories.length > 0) {
    return (
      <ul className="advisories">
        {advisories.map((a) => {
          const href = safeHref(a.url);
          return (
            <li key={a.id}>
              <span className={`badge level-${advisoryLevel(a.severity)}`}>{a.severity}</span>{' '}
              {href ? (
                <a href={href} target="_blank" rel="noopener noreferrer" className="mono">
                  {a.id}
                </a>
              ) : (
                <span className="mono">{a.id}</span>
              )}
              {a.aliases.length > 0 && <span className="muted"> ({a.aliases.join(', ')})</span>} {a.summary}
              <div className="muted">
                {a.status}
                {a.fixed ? ` · fixed in ${a.fixed}: upgrade and pin that version` : ' · no fixed version yet'}
              </div>
            </li>
          );
        })}
      </ul>
    );
  }
  if (fallback.length > 0) {
    return (
      <ul className="advisories">
        {fallback.map((f, i) => (
          <li key={i}>
            <SeverityBadge severity={f.severity} /> {f.title}: {f.message}
          </li>
        ))}
      </ul>
    );
  }
  return <p className="muted">No known advisory matches this server's package.</p>;
}

function advisoryLevel(severity: string): string {
  return ['critical', 'high', 'medium', 'low'].includes(severity.toLowerCase()) ? severity.toLowerCase() : 'none';
}

export function ServerPage({ id }: { id: string }) {
  const can = useCan();
  const [accepting, setAccepting] = useState(false);
  const q = useQuery({ queryKey: ['server', id], queryFn: () => get<ServerDetail>(`/servers/${encodeURIComponent(id)}`) });
  const s = q.data;

  if (q.error) {
    return (
      <section>
        <p>
          <Link to="/servers">← Servers</Link>
        </p>
        <ErrorBox error={q.error} title="This server could not be loaded" />
      </section>
    );
  }
  if (!s) {
    return (
      <section>
        <h1>Server</h1>
        <SkeletonBlock lines={8} />
      </section>
    );
  }
  const findings = [...s.findings].sort((a, b) => severityRank[b.severity] - severityRank[a.severity]);
  const advisoryFindings = findings.filter((f) => f.ruleId.startsWith('PAL-V'));
  const hasLiveOverride = s.overrides.some((o) => o.status === 'active' || o.status === 'pending');

  return (
    <section className="server-page">
      <p>
        <Link to="/servers">← Servers</Link>
      </p>
      <div className="title-row">
        <h1>{s.name}</h1>
        <LevelBadge level={s.level} />
        <span className="score" aria-label={`score ${s.score} of 100`}>
          {s.score}/100
        </span>
        <OverrideBadge override={s.override} />
        <span className="spacer" />
        {can('overrides:write') && !accepting && !hasLiveOverride && s.level !== 'none' && (
          <button type="button" onClick={() => setAccepting(true)}>
            Accept risk…
          </button>
        )}
      </div>
      {accepting && <OverrideForm serverId={s.id} onDone={() => setAccepting(false)} />}

      <div className="panel">
        <h2>Definition</h2>
        <dl className="facts">
          <dt>Transport</dt>
          <dd>{s.transport}</dd>
          <dt>{s.command ? 'Command' : 'URL'}</dt>
          <dd>
            <code className="block">{commandLine(s)}</code>
          </dd>
          {s.package && (
            <>
              <dt>Package</dt>
              <dd className="mono">
                {s.package.ecosystem}: {s.package.name}
                {s.package.version ? '@' + s.package.version : ' (version not pinned)'}
              </dd>
            </>
          )}
          <dt>Environment variables</dt>
          <dd>
            <Names names={s.envNames} empty="none" />
            {s.envNames.length > 0 && <p className="hint">Names only: the values never leave the machine.</p>}
          </dd>
          <dt>HTTP headers</dt>
          <dd>
            <Names names={s.headerNames} empty="none" />
          </dd>
          {s.tlsVerifyDisabled && (
            <>
              <dt>TLS</dt>
              <dd>Certificate verification is turned off</dd>
            </>
          )}
          {s.autoApprove.length > 0 && (
            <>
              <dt>Auto-approved tools</dt>
              <dd>
                <Names names={s.autoApprove} empty="none" />
              </dd>
            </>
          )}
          <dt>Seen</dt>
          <dd>
            first {formatDate(s.firstSeen)}, last {timeAgo(s.lastSeen)}
          </dd>
        </dl>
      </div>

      <div className="panel">
        <h2>Findings ({findings.length})</h2>
        {findings.length === 0 ? (
          <p className="muted">No rule matched this server.</p>
        ) : (
          <ul className="findings">
            {findings.map((f, i) => (
              <li key={`${f.ruleId}-${i}`} className={`finding sev-${f.severity}`}>
                <h3>
                  <SeverityBadge severity={f.severity} /> {f.title} <span className="rule-id">{f.ruleId}</span>
                </h3>
                <p>{f.message}</p>
                {f.evidence && (
                  <p>
                    <span className="label">Evidence:</span> <code>{f.evidence}</code>
                  </p>
                )}
                {f.rationale && (
                  <p>
                    <span className="label">Why it matters:</span> {f.rationale}
                  </p>
                )}
                {f.remediation && (
                  <p>
                    <span className="label">What to do:</span> {f.remediation}
                  </p>
                )}
                <p className="muted">
                  On {f.hostCount} host{f.hostCount === 1 ? '' : 's'}
                </p>
              </li>
            ))}
          </ul>
        )}
      </div>

      <div className="panel">
        <h2>Where it runs ({s.instances.length})</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">Client</th>
              <th scope="col">Config file</th>
              <th scope="col">Scope</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {s.instances.map((i) => (
              <tr key={i.id}>
                <td>
                  <Link to={`/hosts/${i.hostId}`}>{i.hostname}</Link> <span className="muted">({i.osUser})</span>
                </td>
                <td>{clientName(i.client)}</td>
                <td className="mono">
                  {i.configPath}
                  {i.projectPath && <span className="muted"> · project {i.projectPath}</span>}
                </td>
                <td>{i.scope}</td>
                <td>{timeAgo(i.lastSeen)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <div className="panel">
        <h2>Tools ({s.tools.length})</h2>
        {s.tools.length === 0 ? (
          <p className="muted">No tools known. Agents list tools only when run with --probe.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Tool</th>
                <th scope="col">Description</th>
                <th scope="col">Definition</th>
              </tr>
            </thead>
            <tbody>
              {s.tools.map((t) => (
                <tr key={t.name}>
                  <td className="mono">{t.name}</td>
                  <td>{t.description ?? <span className="muted">none</span>}</td>
                  <td>{t.changed ? <span className="badge level-high">changed since first seen</span> : <span className="muted">unchanged</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      <div className="panel">
        <h2>Advisories</h2>
        <Advisories advisories={s.advisories} fallback={advisoryFindings} />
      </div>

      <div className="panel">
        <h2>Overrides</h2>
        {s.overrides.length === 0 ? (
          <p className="muted">No one has accepted a risk on this server.</p>
        ) : (
          <ul className="overrides">
            {s.overrides.map((o) => (
              <OverrideRow key={o.id} o={o} serverId={s.id} />
            ))}
          </ul>
        )}
      </div>

      <div className="panel">
        <h2>History</h2>
        <History events={s.history} />
      </div>
    </section>
  );
}
