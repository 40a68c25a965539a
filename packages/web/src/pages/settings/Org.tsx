import { useState } from 'react';
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { GET, PATCH, POST } from '../../api/client';
import type { RequestOf } from '../../api/types';
import { ErrorBox, SkeletonBlock } from '../../components/feedback';
import { SignupSettings } from '../../components/SignupSettings';
import { useCan, useSession } from '../../session';

// the query's key carries the answer's type, so the cache is read and written as the route answers
const settingsQuery = queryOptions({ queryKey: ['settings'], queryFn: () => GET('/api/v1/settings') });

export function OrgSettingsPage() {
  const can = useCan();
  const me = useSession();
  const qc = useQueryClient();
  const q = useQuery(settingsQuery);
  const save = useMutation({
    mutationFn: (changes: RequestOf<'/api/v1/settings', 'patch'>) => PATCH('/api/v1/settings', { body: changes }),
    // show the change at once; put the old value back if the server refuses it
    onMutate: async (changes) => {
      await qc.cancelQueries({ queryKey: settingsQuery.queryKey });
      const previous = qc.getQueryData(settingsQuery.queryKey);
      if (previous) qc.setQueryData(settingsQuery.queryKey, { ...previous, ...changes });
      return { previous };
    },
    onError: (_err, _changes, context) => {
      if (context?.previous) qc.setQueryData(settingsQuery.queryKey, context.previous);
    },
    onSuccess: (s) => qc.setQueryData(settingsQuery.queryKey, s),
  });
  // turning the second approver off is a request an owner makes and another admin or owner approves
  const approveOff = useMutation({
    mutationFn: () => POST('/api/v1/settings/second-approver-off/approve'),
    onSuccess: (s) => qc.setQueryData(settingsQuery.queryKey, s),
  });
  const pendingOff = q.data?.pendingSecondApproverOff ?? null;
  return (
    <div>
      <dl className="facts">
        <dt>Organisation</dt>
        <dd>{me.org.name}</dd>
      </dl>
      <ErrorBox error={q.error ?? save.error ?? approveOff.error} />
      {!q.data && !q.error && <SkeletonBlock lines={2} />}
      {q.data && (
        <form className="stack" onSubmit={(e) => e.preventDefault()}>
          <label className="inline">
            <input
              type="checkbox"
              checked={q.data.requireSecondApproverForCritical}
              disabled={!can('settings:write') || save.isPending}
              onChange={(e) => save.mutate({ requireSecondApproverForCritical: e.target.checked })}
            />{' '}
            Accepting the risk of a critical server needs a second admin to approve
          </label>
          {pendingOff && (
            <p className="muted" role="status">
              {pendingOff.requestedByEmail} asked to turn this off at {new Date(pendingOff.requestedAt).toLocaleString()}; it stays on until another admin or owner approves.{' '}
              {can('settings:write') && pendingOff.requestedBy !== me.user.id && (
                <button type="button" disabled={approveOff.isPending} onClick={() => approveOff.mutate()}>
                  Approve turning it off
                </button>
              )}
            </p>
          )}
          {q.data.silentAfterHours !== undefined && <p className="muted">A host counts as silent after {q.data.silentAfterHours} hours without a report.</p>}
        </form>
      )}
      {q.data && q.data.retentionDays !== undefined && <RetentionForm days={q.data.retentionDays} canEdit={can('settings:write')} saving={save.isPending} onSave={(retentionDays) => save.mutate({ retentionDays })} />}
      <SignupSettings />
    </div>
  );
}

const MIN_DAYS = 30;
const MAX_DAYS = 3650;

function RetentionForm({ days, canEdit, saving, onSave }: { days: number; canEdit: boolean; saving: boolean; onSave: (days: number) => void }) {
  const [text, setText] = useState(String(days));
  const value = Number(text);
  const valid = Number.isInteger(value) && value >= MIN_DAYS && value <= MAX_DAYS;
  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) onSave(value);
      }}
    >
      <h3>History retention</h3>
      <p className="muted">
        Report records, change events, resolved alerts, finished webhook deliveries and daily snapshots older than this are deleted every hour. The current inventory, open and acknowledged alerts and the audit log are kept.
      </p>
      <label>
        Keep history for (days)
        <input type="number" min={MIN_DAYS} max={MAX_DAYS} step={1} value={text} disabled={!canEdit || saving} onChange={(e) => setText(e.target.value)} aria-invalid={!valid} aria-describedby="retention-hint" />
      </label>
      <p id="retention-hint" className={valid ? 'muted' : 'error-text'}>
        {valid ? `Currently ${days} days.` : `Give a whole number of days from ${MIN_DAYS} to ${MAX_DAYS}.`}
      </p>
      {canEdit && (
        <div>
          <button type="submit" disabled={!valid || saving || value === days}>
            Save retention
          </button>
        </div>
      )}
    </form>
  );
}
