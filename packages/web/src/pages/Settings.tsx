import { Link } from '../router';
import { useCan, useSession } from '../session';
import { AgentKeysSettings } from './settings/AgentKeys';
import { OrgSettingsPage } from './settings/Org';
import { UsersSettings } from './settings/Users';
import { WebhooksSettings } from './settings/Webhooks';

export const SETTINGS_TABS = [
  { path: '/settings/agent-keys', label: 'Agent keys', permission: 'agent-keys:read' },
  { path: '/settings/users', label: 'Users and roles', permission: 'users:read' },
  { path: '/settings/webhooks', label: 'Webhooks', permission: 'webhooks:read' },
  { path: '/settings/org', label: 'Organisation', permission: 'settings:read' },
];

export function SettingsPage({ path }: { path: string }) {
  const can = useCan();
  const me = useSession();
  const tabs = SETTINGS_TABS.filter((t) => can(t.permission));
  const current = tabs.find((t) => t.path === path) ?? tabs[0];
  return (
    <section>
      <h1>Settings</h1>
      {tabs.length === 0 ? (
        <p>Your role ({me.user.role}) has no settings to change. Ask an admin of your organisation if you need access.</p>
      ) : (
        <>
          <nav className="tabs" aria-label="Settings">
            {tabs.map((t) => (
              <Link key={t.path} to={t.path} aria-current={t === current ? 'page' : undefined}>
                {t.label}
              </Link>
            ))}
          </nav>
          {current?.path === '/settings/agent-keys' && <AgentKeysSettings />}
          {current?.path === '/settings/users' && <UsersSettings />}
          {current?.path === '/settings/webhooks' && <WebhooksSettings />}
          {current?.path === '/settings/org' && <OrgSettingsPage />}
        </>
      )}
    </section>
  );
}
