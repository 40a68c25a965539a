import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DELETE, GET, PATCH, POST } from '../../api/client';
import { SEVERITIES, type NewWebhook, type Severity, type Webhook } from '../../api/types';
import { CopyButton } from '../../components/CopyButton';
import { EmptyState, ErrorBox, SkeletonRows } from '../../components/feedback';
import { severityLabel } from '../../format';
import { useCan } from '../../session';

export function WebhooksSettings() {
  const can = useCan();
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [format, setFormat] = useState<'generic' | 'slack'>('generic');
  const [minSeverity, setMinSeverity] = useState<Severity>('high');
  const [created, setCreated] = useState<NewWebhook | null>(null);
  const [tested, setTested] = useState<string | null>(null);
  const hooks = useQuery({ queryKey: ['webhooks'], queryFn: () => GET('/api/v1/webhooks') });
  const refresh = () => qc.invalidateQueries({ queryKey: ['webhooks'] });
  const create = useMutation({
    mutationFn: () => POST('/api/v1/webhooks', { body: { name: name.trim(), url: url.trim(), format, minSeverity } }),
    onSuccess: (w) => {
      setCreated(w);
      setName('');
      setUrl('');
      return refresh();
    },
  });
  const toggle = useMutation({
    mutationFn: (w: Webhook) => PATCH('/api/v1/webhooks/{id}', { path: { id: w.id }, body: { enabled: !w.enabled } }),
    onSuccess: refresh,
  });
  const remove = useMutation({ mutationFn: (id: string) => DELETE('/api/v1/webhooks/{id}', { path: { id } }), onSuccess: refresh });
  const test = useMutation({
    mutationFn: (w: Webhook) => POST('/api/v1/webhooks/{id}/test', { path: { id: w.id } }),
    onSuccess: (d, w) =>
      setTested(`Test to “${w.name}”: ${d.status}${d.lastStatusCode ? ` (HTTP ${d.lastStatusCode})` : ''}${d.lastError ? `: ${d.lastError}` : ''}.`),
  });
  const canWrite = can('webhooks:write');
  return (
    <div>
      <p>Webhooks deliver new alerts to your tools: generic JSON signed with HMAC-SHA256, or Slack-compatible messages.</p>
      {canWrite && (
        <form className="inline-form" onSubmit={(e: FormEvent) => (e.preventDefault(), create.mutate())}>
          <label>
            Name
            <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label>
            URL
            <input type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://hooks.example.com/palisade" />
          </label>
          <label>
            Format
            <select value={format} onChange={(e) => setFormat(e.target.value as 'generic' | 'slack')}>
              <option value="generic">Generic JSON</option>
              <option value="slack">Slack</option>
            </select>
          </label>
          <label>
            Alerts at or above
            <select value={minSeverity} onChange={(e) => setMinSeverity(e.target.value as Severity)}>
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {severityLabel[s]}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={create.isPending}>
            Add webhook
          </button>
        </form>
      )}
      <ErrorBox error={create.error} title="The webhook was not added" />
      {created?.secret && (
        <div className="panel" role="status">
          <p>
            <strong>Signing secret for “{created.name}”, shown only this once:</strong>
          </p>
          <div className="copy-row">
            <code className="block">{created.secret}</code>
            <CopyButton text={created.secret} label="Copy secret" />
          </div>
        </div>
      )}
      {tested && (
        <p className="notice" role="status">
          {tested}
        </p>
      )}
      <ErrorBox error={hooks.error ?? toggle.error ?? remove.error ?? test.error} title="That did not work" />
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">URL</th>
            <th scope="col">Format</th>
            <th scope="col">At or above</th>
            <th scope="col">Status</th>
            {canWrite && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {hooks.isPending && <SkeletonRows cols={canWrite ? 6 : 5} rows={2} />}
          {hooks.data?.items.map((w) => (
            <tr key={w.id}>
              <td>{w.name}</td>
              <td className="mono truncate">{w.url}</td>
              <td>{w.format}</td>
              <td>{severityLabel[w.minSeverity]}</td>
              <td>
                {w.enabled ? 'enabled' : 'paused'}
                {(w.deadLetters ?? 0) > 0 && (
                  <>
                    {' · '}
                    <span className="error-text" title="Deliveries that gave up after the last retry (or whose destination is refused); they are kept for the retention period.">
                      {w.deadLetters} dead {w.deadLetters === 1 ? 'letter' : 'letters'}
                    </span>
                  </>
                )}
              </td>
              {canWrite && (
                <td>
                  <div className="row">
                    <button type="button" className="secondary" onClick={() => test.mutate(w)}>
                      Send test
                    </button>
                    <button type="button" className="secondary" onClick={() => toggle.mutate(w)}>
                      {w.enabled ? 'Pause' : 'Enable'}
                    </button>
                    <button
                      type="button"
                      className="danger"
                      onClick={() => {
                        if (window.confirm(`Delete the webhook “${w.name}”?`)) remove.mutate(w.id);
                      }}
                    >
                      Delete
                    </button>
                  </div>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {hooks.data?.total === 0 && <EmptyState title="No webhooks yet" />}
    </div>
  );
}
