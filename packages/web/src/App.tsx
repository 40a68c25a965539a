import { useEffect } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, GET, onSessionExpired, readCookie } from './api/client';
import { ErrorBox, SkeletonBlock } from './components/feedback';
import { Layout } from './components/Layout';
import { AcceptInvitePage, LoginPage, SetupPage, SignupPage } from './pages/auth';
import { OverviewPage } from './pages/Overview';
import { ServersPage } from './pages/Servers';
import { ServerPage } from './pages/Server';
import { HostsPage } from './pages/Hosts';
import { HostPage } from './pages/Host';
import { AlertsPage } from './pages/Alerts';
import { AdvisoriesPage } from './pages/Advisories';
import { AuditPage } from './pages/Audit';
import { SettingsPage } from './pages/Settings';
import { GatewaysRoutes } from './pages/Gateways';
import { matchPath, navigate, useLocation } from './router';
import { SessionContext } from './session';

function SignedInRoutes({ path }: { path: string }) {
  let m: Record<string, string> | null;
  if (path === '/') return <OverviewPage />;
  if (path === '/servers') return <ServersPage />;
  if ((m = matchPath('/servers/:id', path))) return <ServerPage id={m.id!} />;
  if (path === '/hosts') return <HostsPage />;
  if ((m = matchPath('/hosts/:id', path))) return <HostPage id={m.id!} />;
  if (path === '/alerts') return <AlertsPage />;
  if (path === '/advisories') return <AdvisoriesPage />;
  if (path === '/audit') return <AuditPage />;
  if (path === '/gateways' || path.startsWith('/gateways/')) return <GatewaysRoutes path={path} />;
  if (path === '/settings' || path.startsWith('/settings/')) return <SettingsPage path={path} />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>There is no page at this address. Use the menu on the left.</p>
    </section>
  );
}

function SignedIn({ path, href }: { path: string; href: string }) {
  const me = useQuery({ queryKey: ['me'], queryFn: () => GET('/api/v1/me'), retry: false, staleTime: 60_000 });
  const unauthenticated = me.error instanceof ApiError && me.error.status === 401;
  useEffect(() => {
    if (unauthenticated) navigate(`/login?next=${encodeURIComponent(href)}`, { replace: true });
  }, [unauthenticated, href]);

  if (me.data) {
    return (
      <SessionContext.Provider value={me.data}>
        <Layout>
          <SignedInRoutes path={path} />
        </Layout>
      </SessionContext.Provider>
    );
  }
  if (me.error && !unauthenticated) {
    return (
      <main className="auth-page">
        <div className="auth-card">
          <ErrorBox error={me.error} title="Palisade could not load your account" />
          <button type="button" onClick={() => void me.refetch()}>
            Try again
          </button>
        </div>
      </main>
    );
  }
  return (
    <main className="auth-page">
      <div className="auth-card">
        <SkeletonBlock lines={3} />
      </div>
    </main>
  );
}

export function App() {
  const { path, href } = useLocation();
  const qc = useQueryClient();

  // A session that cannot be refreshed: back to sign-in, then back to this very page.
  useEffect(
    () =>
      onSessionExpired(() => {
        const here = window.location.pathname + window.location.search;
        if (window.location.pathname.startsWith('/login')) return;
        // the readable CSRF cookie outlives the access token but not a sign-out
        const hadSession = readCookie('palisade_csrf') !== null;
        qc.clear();
        navigate(`/login?${hadSession ? 'expired=1&' : ''}next=${encodeURIComponent(here)}`, { replace: true });
      }),
    [qc],
  );

  if (path === '/login') return <LoginPage />;
  if (path === '/setup') return <SetupPage />;
  if (path === '/invite') return <AcceptInvitePage />;
  if (path === '/signup') return <SignupPage />;
  return <SignedIn path={path} href={href} />;
}
