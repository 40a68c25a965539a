import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { GET, POST } from '../api/client';
import { severityRank } from '../severity';
import type { Advisory, CrossFinding, Override, ServerFinding, ServerTool } from '../api/types';
import { LevelBadge, OverrideBadge, SeverityBadge, StatusBadge } from '../components/badges';
import { ErrorBox, SkeletonBlock } from '../components/feedback';
import { History } from '../components/History';
import { Markdown } from '../components/Markdown';
import { revealHidden } from '../reveal';
import { levelLabel } from '../format';
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
    mutationFn: (verb: 'approve' | 'revoke') => POST(`/api/v1/overrides/{id}/${verb}`, { path: { id: o.id } }),
    onSuccess: () => Promise.all([qc.invalidateQueries({ queryKey: ['server', serverId] }), qc.invalidateQueries({ queryKey: ['servers'] })]),
  });
  const live = o.status === 'active' || o.status === 'pending';
  return (
    <li className="override-item">
      <div>
        <StatusBadge status={o.status} /> <strong>{o.decision === 'benign' ? 'Marked benign' : 'Risk accepted'}</strong> by {o.createdBy?.email ?? "someone"} on{' '}
        {formatDate(o.createdAt)}, until {formatDate(o.expiresAt)}
        {o.approvedBy && o.approvedBy.id !== o.createdBy?.id && <> · approved by {o.approvedBy.email}</>}
        {o.voidReason && <> · voided: {o.voidReason}</>}
      </div>
      <blockquote>{o.reason}</blockquote>
      {can('overrides:write') && live && (
        <div className="row">
          {o.status === 'pending' && o.createdBy?.id !== me.user.id && (
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

interface RuleGroup {
  ruleId: string;
  severity: ServerFinding['severity'];
  title: string;
  rationale: string | null;
  remediation: string | null;
  hosts: number;
  occurrences: ServerFinding[];
}

/** Findings grouped by rule, worst first: one entry per rule with its occurrences. */
export function groupFindings(findings: ServerFinding[], skipRules: ReadonlySet<string> = new Set()): RuleGroup[] {
  const groups = new Map<string, RuleGroup>();
  for (const f of findings) {
    if (skipRules.has(f.ruleId)) continue;
    const g = groups.get(f.ruleId) ?? { ruleId: f.ruleId, severity: f.severity, title: f.title, rationale: f.rationale, remediation: f.remediation, hosts: 0, occurrences: [] };
    if (severityRank[f.severity] > severityRank[g.severity]) g.severity = f.severity;
    g.hosts = Math.max(g.hosts, f.hostCount);
    g.occurrences.push(f);
    groups.set(f.ruleId, g);
  }
  return [...groups.values()].sort((a, b) => severityRank[b.severity] - severityRank[a.severity] || b.occurrences.length - a.occurrences.length || a.ruleId.localeCompare(b.ruleId));
}

/** The verdict: level, score and the top three reasons (distinct rules, worst first). */
export function verdictReasons(groups: RuleGroup[], cross: CrossFinding[]): string[] {
  const all = [...cross.map((c) => ({ severity: c.severity, title: c.title })), ...groups.map((g) => ({ severity: g.severity, title: g.title }))];
  all.sort((a, b) => severityRank[b.severity] - severityRank[a.severity]);
  return [...new Set(all.map((x) => x.title))].slice(0, 3);
}

/** A rule's explanation: why it matters and what to do, each rendered from Markdown (safely). */
function Explanation({ rationale, remediation }: { rationale?: string | null; remediation?: string | null }) {
  return (
    <>
      {rationale && (
        <div className="explain">
          <span className="label">Why it matters</span>
          <Markdown text={rationale} />
        </div>
      )}
      {remediation && (
        <div className="explain">
          <span className="label">What to do</span>
          <Markdown text={remediation} />
        </div>
      )}
    </>
  );
}

function FindingGroup({ g }: { g: RuleGroup }) {
  const n = g.occurrences.length;
  return (
    <li className={`finding sev-${g.severity}`}>
      <h3>
        <SeverityBadge severity={g.severity} /> {g.title} <span className="rule-id">{g.ruleId}</span>
      </h3>
      <p className="muted">
        {n} occurrence{n === 1 ? '' : 's'}, on {g.hosts} host{g.hosts === 1 ? '' : 's'}
      </p>
      <details>
        <summary>Evidence ({n})</summary>
        <ul className="evidence-list">
          {g.occurrences.map((f, i) => (
            <li key={i}>
              <p>{f.message}</p>
              {f.evidence && <code className="block">{f.evidence}</code>}
            </li>
          ))}
        </ul>
      </details>
      <Explanation rationale={g.rationale} remediation={g.remediation} />
    </li>
  );
}

function CrossFindings({ items, self }: { items: CrossFinding[]; self: string }) {
  return (
    <ul className="findings">
      {items.map((c, i) => (
        <li key={i} className={`finding sev-${c.severity}`}>
          <h3>
            <SeverityBadge severity={c.severity} /> {c.title} in {clientName(c.client)} <span className="rule-id">{c.ruleId}</span>
          </h3>
          <p>
            Formed by{' '}
            {c.servers.map((sv, j) => (
              <span key={sv.id}>
                {j > 0 && ', '}
                {sv.id === self ? <strong>{sv.name} (this server)</strong> : <Link to={`/servers/${sv.id}`}>{sv.name}</Link>}
              </span>
            ))}
            {' '}· on {c.hostCount} host{c.hostCount === 1 ? '' : 's'}
          </p>
          <p>{c.message}</p>
          <details>
            <summary>Evidence</summary>
            <code className="block">{c.evidence}</code>
          </details>
          <Explanation rationale={c.rationale} remediation={c.remediation} />
        </li>
      ))}
    </ul>
  );
}

function ToolDescription({ text }: { text: string | null }) {
  if (!text) return <span className="muted">none</span>;
  const r = revealHidden(text);
  if (r.hidden === 0) return <>{text}</>;
  return (
    <div className="hidden-text">
      <p className="warning-text">
        <strong>Holds {r.hidden} hidden character{r.hidden === 1 ? '' : 's'}</strong>, shown here as ⟦…⟧:
      </p>
      <p className="mono">{r.text}</p>
      {r.tagText && (
        <p>
          <span className="label">Hidden text decoded:</span> <code>{r.tagText}</code>
        </p>
      )}
    </div>
  );
}

function ToolState({ t }: { t: ServerTool }) {
  return t.changed ? (
    <span className="badge level-high">Changed since first seen</span>
  ) : (
    <span className="badge pinned">Pinned: as first seen</span>
  );
}

export function ServerPage({ id }: { id: string }) {
  const can = useCan();
  const [accepting, setAccepting] = useState(false);
  const q = useQuery({ queryKey: ['server', id], queryFn: () => GET('/api/v1/servers/{id}', { path: { id } }) });
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
  const cross = s.crossFindings ?? [];
  const groups = groupFindings(findings, new Set(cross.map((c) => c.ruleId)));
  const reasons = verdictReasons(groups, cross);
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
      <p className="verdict" data-testid="verdict">
        <strong>{levelLabel[s.level]} risk</strong> (score {s.score}/100)
        {reasons.length > 0 ? <>: {reasons.join('; ')}.</> : <>: no rule matched.</>}
        {s.override?.status === 'active' && <> Risk accepted until {formatDate(s.override.expiresAt)}.</>}
      </p>
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
        <h2>
          Findings ({groups.length} rule{groups.length === 1 ? '' : 's'}, {findings.length - findings.filter((f) => cross.some((c) => c.ruleId === f.ruleId)).length} occurrence
          {findings.length === 1 ? '' : 's'})
        </h2>
        {groups.length === 0 ? (
          <p className="muted">No rule matched this server on its own.</p>
        ) : (
          <ul className="findings">
            {groups.map((g) => (
              <FindingGroup key={g.ruleId} g={g} />
            ))}
          </ul>
        )}
      </div>

      {cross.length > 0 && (
        <div className="panel">
          <h2>Together with other servers ({cross.length})</h2>
          <p className="hint">Found on the combination of servers in one client, shown once per client.</p>
          <CrossFindings items={cross} self={s.id} />
        </div>
      )}

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
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {s.tools.map((t) => (
                <tr key={t.name}>
                  <td className="mono">{t.name}</td>
                  <td>
                    <ToolDescription text={t.description} />
                  </td>
                  <td>
                    <ToolState t={t} />
                  </td>
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
