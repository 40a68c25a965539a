import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { errorMessage, post } from '../api/client';
import { SETTINGS_TABS } from '../pages/Settings';
import { Link, navigate, useLocation } from '../router';
import { useCan, useSession } from '../session';

interface NavItem {
  to: string;
  label: string;
  /** shown when the role has any of these */
  permissions?: string[];
}
const NAV: NavItem[] = [
  { to: '/', label: 'Overview' },
  { to: '/servers', label: 'Servers' },
  { to: '/hosts', label: 'Hosts' },
  { to: '/alerts', label: 'Alerts' },
  { to: '/audit', label: 'Audit log', permissions: ['audit:read'] },
  { to: '/settings', label: 'Settings', permissions: SETTINGS_TABS.map((t) => t.permission) },
];

function isCurrent(to: string, path: string) {
  return to === '/' ? path === '/' : path === to || path.startsWith(to + '/');
}

export function Layout({ children }: { children: ReactNode }) {
  const me = useSession();
  const can = useCan();
  const qc = useQueryClient();
  const { path } = useLocation();
  const [signOutError, setSignOutError] = useState<string | null>(null);

  // After a page change, screen readers and keyboards start at the new page, and the tab says where we are.
  const firstRender = useRef(true);
  useEffect(() => {
    const section = NAV.find((n) => isCurrent(n.to, path));
    document.title = section ? `${section.label} · Palisade` : 'Palisade';
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [path]);

  const signOut = async () => {
    try {
      await post('/auth/logout');
      qc.clear();
      navigate('/login', { replace: true });
    } catch (err) {
      setSignOutError(errorMessage(err));
    }
  };

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          Palisade
        </Link>
        <span className="org">{me.org.name}</span>
        <span className="spacer" />
        <span className="whoami">
          {me.user.email} <span className="role">{me.user.role}</span>
        </span>
        <button type="button" className="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {signOutError && (
        <div className="error-box" role="alert">
          <strong>Sign-out failed.</strong> {signOutError}
        </div>
      )}
      <nav className="sidenav" aria-label="Main">
        <ul>
          {NAV.filter((n) => !n.permissions || n.permissions.some(can)).map((n) => (
            <li key={n.to}>
              <Link to={n.to} aria-current={isCurrent(n.to, path) ? 'page' : undefined}>
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
