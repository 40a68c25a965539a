// Advisories (issue 14): the known vulnerabilities that affect your servers (or every stored
// one), searchable by id, alias or package, each with the servers and hosts it affects and a
// KEV mark; when advisories were last updated; admins import an OSV file.
import { useRef, useState, type ChangeEvent } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { GET, POST } from '../api/client';
import type { AdvisorySync } from '../api/types';
import { EmptyState, ErrorBox, Pager, SkeletonRows } from '../components/feedback';
import { safeLink } from '../components/Markdown';
import { formatDate, timeAgo } from '../format';
import { Link, useSearchState } from '../router';
import { useCan } from '../session';
import { useSearchText } from '../useSearchText';

const LIMIT = 50;
const MAX_FILE_BYTES = 32 * 1024 * 1024;

function level(severity: string): string {
  return ['critical', 'high', 'medium', 'low'].includes(severity) ? severity : 'none';
}

/** The records of an OSV file: one record, an array of them, or `{ vulns: [...] }`. */
export function osvRecords(text: string): unknown[] {
  const v = JSON.parse(text) as unknown;
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object' && Array.isArray((v as { vulns?: unknown }).vulns)) return (v as { vulns: unknown[] }).vulns;
  return [v];
}

function ImportForm() {
  const qc = useQueryClient();
  const input = useRef<HTMLInputElement>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const m = useMutation({
    mutationFn: (records: unknown[]) => POST('/api/v1/advisories/import', { body: { records } }),
    onSuccess: () => Promise.all([qc.invalidateQueries({ queryKey: ['advisories'] }), qc.invalidateQueries({ queryKey: ['alerts'] })]),
  });
  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    setFileError(null);
    m.reset();
    const file = e.target.files?.[0];
    if (!file) return;
    if (file.size > MAX_FILE_BYTES) {
      setFileError(`That file is ${Math.round(file.size / 1048576)} MB; the limit is 32 MB. Split it, or use palisade advisories import on the server.`);
      return;
    }
    let records: unknown[];
    try {
      records = osvRecords(await file.text());
    } catch {
      setFileError('That file is not JSON. Choose an OSV record (.json), an array of records, or an OSV export with a "vulns" list.');
      return;
    }
    if (records.length === 0) {
      setFileError('That file holds no records.');
      return;
    }
    m.mutate(records);
    if (input.current) input.current.value = '';
  };
  const r = m.data;
  return (
    <div className="panel">
      <h2>Import an OSV file</h2>
      <label>
        OSV file (JSON)
        <input ref={input} type="file" accept=".json,application/json" onChange={(e) => void onFile(e)} disabled={m.isPending} />
      </label>
      <p className="hint">Records are checked one by one: a malformed one is skipped with the reason. Every organisation running a named package is matched again.</p>
      {fileError && (
        <p className="error-text" role="alert">
          {fileError}
        </p>
      )}
      <ErrorBox error={m.error} title="The import failed" />
      {m.isPending && <p role="status">Importing…</p>}
      {r && (
        <div role="status" data-testid="import-result">
          <p>
            {r.added} added, {r.updated} updated, {r.unchanged} unchanged, {r.skipped} skipped; {r.alerts} new alert{r.alerts === 1 ? '' : 's'}.
          </p>
          {r.reasons.length > 0 && (
            <details>
              <summary>Why records were skipped</summary>
              <ul>
                {r.reasons.map((x, i) => (
                  <li key={i}>{x}</li>
                ))}
              </ul>
            </details>
          )}
        </div>
      )}
    </div>
  );
}

function Sync({ s }: { s: AdvisorySync }) {
  return (
    <p className="muted" data-testid="advisory-sync">
      {s.advisories} advisories stored
      {s.lastUpdatedAt ? `, last updated ${timeAgo(s.lastUpdatedAt)} (${s.lastUpdateSource ?? 'unknown'}, ${formatDate(s.lastUpdatedAt)})` : ''}
      {s.lastImportAt ? `; last import ${formatDate(s.lastImportAt)}` : '; none imported yet (only the ones shipped with Palisade)'}
      {`; ${s.knownExploited} known-exploited CVEs listed`}.
    </p>
  );
}

export function AdvisoriesPage() {
  const can = useCan();
  const [params, set] = useSearchState();
  const [text, setText] = useSearchText(params.get('q') ?? '', (q) => set({ q, offset: null }));
  const affected = params.get('all') !== '1';
  const offset = Number(params.get('offset') ?? 0) || 0;
  const q = params.get('q') ?? undefined;
  const list = useQuery({
    queryKey: ['advisories', q, affected, offset],
    queryFn: () => GET('/api/v1/advisories', { query: { q, affected: affected ? undefined : false, limit: LIMIT, offset } }),
    placeholderData: keepPreviousData,
  });
  return (
    <section className="advisories-page">
      <h1>Advisories</h1>
      {list.data && <Sync s={list.data.sync} />}
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search by id, alias or package
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="GHSA-…, CVE-…, package name" maxLength={200} />
        </label>
        <label>
          Show
          <select value={affected ? 'affected' : 'all'} onChange={(e) => set({ all: e.target.value === 'all' ? '1' : null, offset: null })}>
            <option value="affected">Affecting my servers</option>
            <option value="all">All stored advisories</option>
          </select>
        </label>
      </form>
      <ErrorBox error={list.error} />
      <div className="table-scroll">
        <table className="advisories-table">
          <thead>
            <tr>
              <th scope="col">Advisory</th>
              <th scope="col">Severity</th>
              <th scope="col">Package</th>
              <th scope="col">Affected servers and hosts</th>
            </tr>
          </thead>
          <tbody>
            {list.isPending && <SkeletonRows cols={4} />}
            {list.data?.items.map((a) => {
              const href = a.url ? safeLink(a.url) : null;
              return (
                <tr key={a.id}>
                  <td>
                    {href ? (
                      <a href={href} target="_blank" rel="noopener noreferrer" className="mono">
                        {a.id}
                      </a>
                    ) : (
                      <span className="mono">{a.id}</span>
                    )}
                    {a.aliases.length > 0 && <div className="muted mono">{a.aliases.join(', ')}</div>}
                    {a.summary && <div>{a.summary}</div>}
                  </td>
                  <td>
                    <span className={`badge level-${level(a.severity)}`} title={a.severityBasis}>
                      {a.severity}
                    </span>
                    {a.knownExploited && (
                      <span className="badge kev" title="Listed in the CISA Known Exploited Vulnerabilities catalog">
                        KEV: known exploited
                      </span>
                    )}
                  </td>
                  <td className="mono">{a.packages.join(', ')}</td>
                  <td>
                    {a.affected.length === 0 ? (
                      <span className="muted">none of your servers</span>
                    ) : (
                      <ul className="affected">
                        {a.affected.map((s) => (
                          <li key={s.serverId}>
                            <Link to={`/servers/${s.serverId}`}>{s.name}</Link>
                            {s.version && <span className="mono"> @{s.version}</span>}
                            {s.status === 'possibly' && <span className="muted"> (possibly: version unknown)</span>}
                            {s.fixed && <span className="muted"> · fixed in {s.fixed}</span>}
                            <div className="muted">
                              on {s.hostCount} host{s.hostCount === 1 ? '' : 's'}:{' '}
                              {s.hosts.map((h, i) => (
                                <span key={h.id}>
                                  {i > 0 && ', '}
                                  <Link to={`/hosts/${h.id}`}>{h.hostname}</Link>
                                </span>
                              ))}
                              {s.hostCount > s.hosts.length && ', …'}
                            </div>
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {list.data?.total === 0 && (
        <EmptyState title={q ? 'No advisory matches that search' : affected ? 'No known advisory affects your servers' : 'No advisories stored'}>
          {affected && <p>Palisade matches the packages of your servers against the stored advisories after every report and every import.</p>}
        </EmptyState>
      )}
      {list.data && list.data.total > 0 && <Pager total={list.data.total} limit={LIMIT} offset={offset} onChange={(o) => set({ offset: o ? String(o) : null })} />}
      {can('advisories:import') && <ImportForm />}
    </section>
  );
}
