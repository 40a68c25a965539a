// The empty state that teaches: how to get the first machine reporting to this server.
import { Link } from '../router';
import { useCan } from '../session';

export function AgentSetupHelp() {
  const can = useCan();
  const origin = window.location.origin;
  return (
    <div className="empty-state teach">
      <h2>No machine has reported yet</h2>
      <p>
        Palisade learns about MCP servers from its agent, the <code>palisade</code> command line, run on each machine that has AI clients.
      </p>
      <ol>
        <li>
          The agent is the npm package <code>palisade-mcp</code>: <code>npx palisade-mcp</code> runs it with nothing to install first, and{' '}
          <code>npm install -g palisade-mcp</code> installs it as the <code>palisade</code> command (Node.js 20.19 or newer).
        </li>
        <li>
          {can('agent-keys:write') ? (
            <>
              Create an agent key in <Link to="/settings/agent-keys">Settings → Agent keys</Link>.
            </>
          ) : (
            <>Ask an admin of your organisation for an agent key.</>
          )}
        </li>
        <li>
          On the machine, point the agent at this server:
          <pre>
            <code>npx palisade-mcp configure --server {origin} --api-key pal_…</code>
          </pre>
        </li>
        <li>
          Send a first report (and keep them coming every hour with <code>npx palisade-mcp daemon</code>):
          <pre>
            <code>npx palisade-mcp report</code>
          </pre>
        </li>
      </ol>
      <p>The machine and its servers appear here within seconds of the report.</p>
    </div>
  );
}
