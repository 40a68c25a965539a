// The organisation's self sign-up: off by default; when on, anyone with the sign-up link can
// create an account with the lowest role. Admins and owners switch it (the change is audited).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { GET, PUT } from '../api/client';
import { useCan } from '../session';
import { CopyButton } from './CopyButton';
import { ErrorBox, SkeletonBlock } from './feedback';

export function SignupSettings() {
  const can = useCan();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['signup-settings'], queryFn: () => GET('/api/v1/signup/settings') });
  const save = useMutation({
    mutationFn: (enabled: boolean) => PUT('/api/v1/signup/settings', { body: { enabled } }),
    onSuccess: (s) => qc.setQueryData(['signup-settings'], s),
  });
  const link = q.data ? window.location.origin + q.data.path : '';
  return (
    <section className="signup-settings stack" aria-labelledby="signup-title">
      <h3 id="signup-title">Self sign-up</h3>
      <ErrorBox error={q.error ?? save.error} />
      {!q.data && !q.error && <SkeletonBlock lines={2} />}
      {q.data && (
        <div className="stack">
          <label className="inline">
            <input type="checkbox" checked={q.data.enabled} disabled={!can('settings:write') || save.isPending} onChange={(e) => save.mutate(e.target.checked)} /> Anyone with
            the sign-up link can create an account here (role: {q.data.role})
          </label>
          {q.data.enabled ? (
            <div className="copy-row">
              <code className="block" data-testid="signup-link">
                {link}
              </code>
              <CopyButton text={link} label="Copy link" />
            </div>
          ) : (
            <p className="hint">Off: people join only through invitations (Settings → Users and roles).</p>
          )}
        </div>
      )}
    </section>
  );
}
