// "Connect your first machine": the overview's checklist until the first report arrives. Each
// step is ticked from what the server knows (an agent key exists, a host has reported); while
// no report has come, it asks again every few seconds so the list completes by itself.
import type { ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { GET } from '../api/client';
import { Link } from '../router';
import { useCan } from '../session';
import { CopyButton } from './CopyButton';

function Step({ done, children }: { done: boolean; children: ReactNode }) {
  return (
    <li className={done ? 'check done' : 'check'}>
      <span className="check-mark" aria-hidden="true">
        {done ? '✓' : ''}
      </span>
      <span className="visually-hidden">{done ? 'Done: ' : 'To do: '}</span>
      <div>{children}</div>
    </li>
  );
}

export function FirstRunChecklist() {
  const can = useCan();
  const overview = useQuery({
    queryKey: ['overview'],
    queryFn: () => GET('/api/v1/overview'),
    refetchInterval: (q) => (q.state.data && q.state.data.hosts.total > 0 ? 60_000 : 5_000),
  });
  const mayReadKeys = can('agent-keys:read');
  const keys = useQuery({
    queryKey: ['agent-keys', 'first-run'],
    queryFn: () => GET('/api/v1/agent-keys', { query: { limit: 5 } }),
    enabled: mayReadKeys && overview.data?.hosts.total === 0,
    refetchInterval: 5_000,
  });
  if (!overview.data || overview.data.hosts.total > 0) return null;

  const origin = window.location.origin;
  const hasKey = (keys.data?.items ?? []).some((k) => !k.revokedAt);
  const report = 'npx palisade-mcp report';
  return (
    <section className="panel first-run" aria-labelledby="first-run-title">
      <h2 id="first-run-title">Connect your first machine</h2>
      <p className="hint">This list goes away once the first report arrives; it checks every few seconds.</p>
      <ol className="checklist">
        <Step done>Create your organisation and owner account.</Step>
        <Step done={hasKey}>
          {can('agent-keys:write') ? (
            <>
              Create an agent key in <Link to="/settings/agent-keys">Settings → Agent keys</Link> (it is shown once, with the command to copy).
            </>
          ) : (
            <>Get an agent key from an admin of your organisation.</>
          )}
        </Step>
        <Step done={false}>
          On a machine with Node.js 20.19 or newer, run the <code>configure</code> command shown with the new key (it points the agent at{' '}
          <span className="mono">{origin}</span>).
        </Step>
        <Step done={false}>
          Send the first report:
          <div className="copy-row">
            <code className="block" data-command={report}>
              {report}
            </code>
            <CopyButton text={report} label="Copy command" />
          </div>
          <span className="hint" role="status">
            Waiting for the first report…
          </span>
        </Step>
      </ol>
    </section>
  );
}
