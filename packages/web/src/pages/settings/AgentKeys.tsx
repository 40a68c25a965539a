// Agent keys: created here, shown exactly once with the command that uses it; revoked here.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DELETE, GET, POST } from '../../api/client';
import type { NewAgentKey } from '../../api/types';
import { CopyButton } from '../../components/CopyButton';
import { EmptyState, ErrorBox, SkeletonRows } from '../../components/feedback';
import { formatDate, timeAgo } from '../../format';
import { useCan } from '../../session';

export function configureCommand(origin: string, key: string): string {
  // palisade-mcp is the npm package of the agent (`palisade` on npm is someone else's package)
  return `npx palisade-mcp configure --server ${origin} --api-key ${key}`;
}

function NewKeyPanel({ created, onClose }: { created: NewAgentKey; onClose: () => void }) {
  const cmd = configureCommand(window.location.origin, created.key);
  return (
    <div className="panel new-key" role="status" aria-label="New agent key">
      <h2>Key “{created.name}” created</h2>
      <p>
        <strong>Copy it now: it is shown only this once.</strong> Palisade keeps only a hash of it.
      </p>
      <div className="copy-row">
        <code className="block" data-testid="new-agent-key">
          {created.key}
        </code>
        <CopyButton text={created.key} label="Copy key" />
      </div>
      <p>On each machine to watch, run:</p>
      <div className="copy-row">
        <code className="block" data-testid="configure-command">
          {cmd}
        </code>
        <CopyButton text={cmd} label="Copy command" />
      </div>
      <p>
        then <code>npx palisade-mcp report</code> once, or <code>npx palisade-mcp daemon</code> to keep reporting.
      </p>
      <button type="button" className="secondary" onClick={onClose}>
        I have copied it
      </button>
    </div>
  );
}

export function AgentKeysSettings() {
  const can = useCan();
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [created, setCreated] = useState<NewAgentKey | null>(null);
  const keys = useQuery({ queryKey: ['agent-keys'], queryFn: () => GET('/api/v1/agent-keys', { query: { limit: 200 } }) });
  const create = useMutation({
    mutationFn: () => POST('/api/v1/agent-keys', { body: { name: name.trim() } }),
    onSuccess: (k) => {
      setCreated(k);
      setName('');
      return qc.invalidateQueries({ queryKey: ['agent-keys'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => DELETE('/api/v1/agent-keys/{id}', { path: { id } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['agent-keys'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setCreated(null);
    create.mutate();
  };
  const canWrite = can('agent-keys:write');
  return (
    <div>
      <p>Agents use a key to send their reports to this server. A key can only report; it cannot read anything.</p>
      {canWrite && (
        <form className="inline-form" onSubmit={submit}>
          <label>
            Key name
            <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. engineering laptops" />
          </label>
          <button type="submit" disabled={create.isPending}>
            Create key
          </button>
        </form>
      )}
      <ErrorBox error={create.error} title="The key was not created" />
      {created && <NewKeyPanel created={created} onClose={() => setCreated(null)} />}
      <ErrorBox error={keys.error ?? revoke.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key starts with</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Status</th>
            {canWrite && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {keys.isPending && <SkeletonRows cols={canWrite ? 6 : 5} rows={3} />}
          {keys.data?.items.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td className="mono">{k.prefix}…</td>
              <td>{formatDate(k.createdAt)}</td>
              <td>{timeAgo(k.lastUsedAt)}</td>
              <td>{k.revokedAt ? <span className="badge status-resolved">revoked</span> : <span className="badge status-open">active</span>}</td>
              {canWrite && (
                <td>
                  {!k.revokedAt && (
                    <button
                      type="button"
                      className="danger"
                      disabled={revoke.isPending}
                      aria-label={`Revoke key ${k.name}`}
                      onClick={() => {
                        if (window.confirm(`Revoke the key “${k.name}”? Agents using it stop reporting at once.`)) revoke.mutate(k.id);
                      }}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {keys.data?.total === 0 && (
        <EmptyState title="No agent keys yet">
          <p>Create one above, then run the command it shows on each machine.</p>
        </EmptyState>
      )}
    </div>
  );
}
