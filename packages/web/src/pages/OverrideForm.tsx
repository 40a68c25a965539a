// Accept a risk (or mark a server benign): admins record why and until when. The backend
// binds it to the server's current definition and writes it to the audit log.
import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { POST } from '../api/client';
import { ErrorBox } from '../components/feedback';

function inDays(days: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  return d.toISOString().slice(0, 10);
}

export function OverrideForm({ serverId, onDone }: { serverId: string; onDone: () => void }) {
  const qc = useQueryClient();
  const [decision, setDecision] = useState<'accept_risk' | 'benign'>('accept_risk');
  const [reason, setReason] = useState('');
  const [until, setUntil] = useState(inDays(90));
  const m = useMutation({
    mutationFn: () =>
      POST('/api/v1/servers/{id}/overrides', {
        path: { id: serverId },
        body: {
          decision,
          reason: reason.trim(),
          // end of the chosen day, in UTC
          expiresAt: new Date(until + 'T23:59:59.000Z').toISOString(),
        },
      }),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['server', serverId] });
      await qc.invalidateQueries({ queryKey: ['servers'] });
      await qc.invalidateQueries({ queryKey: ['overview'] });
      onDone();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    m.mutate();
  };
  return (
    <form className="panel override-form stack" onSubmit={submit} aria-label="Accept risk">
      <h2>Accept this risk</h2>
      <p className="hint">
        The server keeps its real score; while the override applies it counts as accepted. It ends by itself at the expiry date, and as soon as this server's
        configuration or tools change. Everyone in your organisation sees it, and the audit log records it.
      </p>
      <fieldset>
        <legend>Decision</legend>
        <label className="inline">
          <input type="radio" name="decision" checked={decision === 'accept_risk'} onChange={() => setDecision('accept_risk')} /> Accept the risk
        </label>
        <label className="inline">
          <input type="radio" name="decision" checked={decision === 'benign'} onChange={() => setDecision('benign')} /> Mark as benign (a false positive)
        </label>
      </fieldset>
      <label>
        Reason (at least 10 characters)
        <textarea required minLength={10} maxLength={2000} rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
      <label>
        Expires on
        <input type="date" required min={inDays(1)} max={inDays(364)} value={until} onChange={(e) => setUntil(e.target.value)} />
      </label>
      <ErrorBox error={m.error} title="The override was not saved" />
      <div className="row">
        <button type="submit" disabled={m.isPending}>
          {m.isPending ? 'Saving…' : 'Record override'}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
