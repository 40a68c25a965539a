import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get, patch } from '../../api/client';
import type { OrgSettings } from '../../api/types';
import { ErrorBox, SkeletonBlock } from '../../components/feedback';
import { useCan, useSession } from '../../session';

export function OrgSettingsPage() {
  const can = useCan();
  const me = useSession();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['settings'], queryFn: () => get<OrgSettings>('/settings') });
  const save = useMutation({
    mutationFn: (changes: Partial<OrgSettings>) => patch<OrgSettings>('/settings', changes),
    // show the change at once; put the old value back if the server refuses it
    onMutate: async (changes) => {
      await qc.cancelQueries({ queryKey: ['settings'] });
      const previous = qc.getQueryData<OrgSettings>(['settings']);
      if (previous) qc.setQueryData(['settings'], { ...previous, ...changes });
      return { previous };
    },
    onError: (_err, _changes, context) => {
      if (context?.previous) qc.setQueryData(['settings'], context.previous);
    },
    onSuccess: (s) => qc.setQueryData(['settings'], s),
  });
  return (
    <div>
      <dl className="facts">
        <dt>Organisation</dt>
        <dd>{me.org.name}</dd>
      </dl>
      <ErrorBox error={q.error ?? save.error} />
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
          {q.data.silentAfterHours !== undefined && <p className="muted">A host counts as silent after {q.data.silentAfterHours} hours without a report.</p>}
        </form>
      )}
    </div>
  );
}
