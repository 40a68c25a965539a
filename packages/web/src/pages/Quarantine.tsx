// Tool changes quarantined at managed gateways (issue 16 §4): the pinned and the new definition
// side by side (changed lines marked with - and +, not by colour alone), approve or reject.
// A critical tool's change needs a second, different approver when the organisation requires
// one for critical overrides (Settings > Organisation).
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { GET, POST } from '../api/client';
import type { components } from '../api/schema.gen';
import { LevelBadge, StatusBadge } from '../components/badges';
import { EmptyState, ErrorBox, Pager, SkeletonBlock } from '../components/feedback';
import { formatDate } from '../format';
import { useSearchState } from '../router';
import { useCan } from '../session';

type Item = components['schemas']['GatewayQuarantineItem'];
const LIMIT = 20;
const STATES = ['open', 'approved', 'rejected', 'superseded', 'released_at_gateway', 'all'] as const;
type StateFilter = (typeof STATES)[number];

function pretty(text: string | null): string[] {
  if (text === null) return [];
  try {
    return JSON.stringify(JSON.parse(text), null, 2).split('\n');
  } catch {
    return text.split('\n');
  }
}

/** Lines of each side, marked when the other side does not have them. */
export function sideBySide(
  oldText: string | null,
  newText: string | null,
): { old: { text: string; changed: boolean }[]; new: { text: string; changed: boolean }[] } {
  const a = pretty(oldText);
  const b = pretty(newText);
  const inA = new Set(a);
  const inB = new Set(b);
  return { old: a.map((text) => ({ text, changed: !inB.has(text) })), new: b.map((text) => ({ text, changed: !inA.has(text) })) };
}

function Diff({ item }: { item: Item }) {
  const d = sideBySide(item.oldDefinition, item.newDefinition);
  return (
    <div className="diff" data-testid="quarantine-diff">
      <figure>
        <figcaption>Pinned definition {item.oldHash ? <span className="mono muted">{item.oldHash.slice(0, 12)}</span> : null}</figcaption>
        {d.old.length === 0 ? (
          <p className="muted">The gateway had no pinned definition.</p>
        ) : (
          <pre aria-label="Pinned definition">
            {d.old.map((l, i) => (
              <span key={i} className={l.changed ? 'diff-line diff-del' : 'diff-line'}>
                {l.changed ? '- ' : '  '}
                {l.text}
              </span>
            ))}
          </pre>
        )}
      </figure>
      <figure>
        <figcaption>
          New definition <span className="mono muted">{item.newHash.slice(0, 12)}</span>
        </figcaption>
        <pre aria-label="New definition">
          {d.new.map((l, i) => (
            <span key={i} className={l.changed ? 'diff-line diff-add' : 'diff-line'}>
              {l.changed ? '+ ' : '  '}
              {l.text}
            </span>
          ))}
        </pre>
      </figure>
    </div>
  );
}

function QuarantineItem({ item }: { item: Item }) {
  const can = useCan();
  const qc = useQueryClient();
  const decide = useMutation({
    mutationFn: (action: 'approve' | 'reject') =>
      POST(`/api/v1/gateway-quarantine/{id}/${action}` as '/api/v1/gateway-quarantine/{id}/approve', { path: { id: item.id } }),
    onSuccess: () => Promise.all([qc.invalidateQueries({ queryKey: ['gateway-quarantine'] }), qc.invalidateQueries({ queryKey: ['gateways'] })]),
  });
  const open = item.state === 'pending' || item.state === 'awaiting_second';
  return (
    <article className="panel" aria-labelledby={`q-${item.id}`}>
      <h2 id={`q-${item.id}`}>
        <span className="mono">{item.federated}</span> <LevelBadge level={item.level} /> <StatusBadge status={item.state.replace(/_/g, ' ')} />
      </h2>
      <p>
        Gateway <strong>{item.gatewayName}</strong>, upstream <span className="mono">{item.upstream}</span>, quarantined {formatDate(item.createdAt)}.
        {item.reason ? ` Why: ${item.reason}.` : ''}
      </p>
      {item.needsSecondApprover && open && (
        <p role="note">
          {item.firstApprover
            ? `Approved once by ${item.firstApprover}; a different admin or owner must give the second approval.`
            : 'A critical tool: its change needs two approvers (your organisation requires a second approver for critical decisions).'}
        </p>
      )}
      {item.decidedBy && (
        <p className="muted">
          {item.state === 'approved' ? 'Approved' : 'Decided'} by {item.decidedBy} {formatDate(item.decidedAt)}.
        </p>
      )}
      <Diff item={item} />
      <ErrorBox error={decide.error} title="The decision was not saved" />
      {open && can('overrides:write') && (
        <div className="actions">
          <button type="button" disabled={decide.isPending} onClick={() => decide.mutate('approve')} aria-label={`Approve the change of ${item.federated}`}>
            {item.state === 'awaiting_second' ? 'Give the second approval' : 'Approve'}
          </button>
          <button
            type="button"
            className="danger"
            disabled={decide.isPending}
            onClick={() => decide.mutate('reject')}
            aria-label={`Reject the change of ${item.federated}`}
          >
            Reject
          </button>
        </div>
      )}
    </article>
  );
}

export function QuarantinePage() {
  const [params, set] = useSearchState();
  const raw = params.get('state');
  const state: StateFilter = (STATES as readonly string[]).includes(raw ?? '') ? (raw as StateFilter) : 'open';
  const offset = Number(params.get('offset') ?? 0) || 0;
  const list = useQuery({
    queryKey: ['gateway-quarantine', state, offset],
    queryFn: () => GET('/api/v1/gateway-quarantine', { query: { state, limit: LIMIT, offset } }),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
  });
  return (
    <div>
      <p>
        A tool whose definition changed after it was pinned is hidden and refused by its gateway until someone reviews the change here. Approving pins the new
        definition at the gateway’s next sync.
      </p>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the quarantine">
        <label>
          Show
          <select value={state} onChange={(e) => set({ state: e.target.value === 'open' ? null : e.target.value, offset: null })}>
            <option value="open">Waiting for a decision</option>
            <option value="approved">Approved</option>
            <option value="rejected">Rejected</option>
            <option value="superseded">Superseded by a newer change</option>
            <option value="released_at_gateway">Released at the gateway</option>
            <option value="all">All</option>
          </select>
        </label>
      </form>
      <ErrorBox error={list.error} />
      {list.isPending && <SkeletonBlock lines={4} />}
      {list.data?.total === 0 && <EmptyState title="Nothing quarantined">No changed tool definition is waiting for a decision.</EmptyState>}
      {list.data?.items.map((item) => (
        <QuarantineItem key={item.id} item={item} />
      ))}
      {list.data && list.data.total > LIMIT && (
        <Pager total={list.data.total} limit={LIMIT} offset={offset} onChange={(o) => set({ offset: o ? String(o) : null })} />
      )}
    </div>
  );
}
