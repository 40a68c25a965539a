// Sign-in, first-run setup and invitation acceptance: the pages without a session.
import { useState, type FormEvent, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { get, post } from '../api/client';
import type { SetupState } from '../api/types';
import { ErrorBox } from '../components/feedback';
import { Link, navigate, useLocation } from '../router';
import { safeNext } from '../urls';

function AuthFrame({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="auth-page">
      <div className="auth-card">
        <p className="brand">Palisade</p>
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  );
}

/**
 * The one action of an auth page: post the form once; when it worked, drop whatever was cached
 * for a previous session and go to `to()`. While it runs the button is disabled; a refusal is
 * shown in words.
 */
function useSessionForm(send: () => Promise<unknown>, to: () => string) {
  const qc = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await send();
      qc.clear();
      navigate(to(), { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, onSubmit: (e: FormEvent) => void submit(e) };
}

export function LoginPage() {
  const { search } = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const setup = useQuery({ queryKey: ['setup'], queryFn: () => get<SetupState>('/setup'), retry: false });
  const expired = search.get('expired') === '1';
  const { error, busy, onSubmit } = useSessionForm(
    () => post('/auth/login', { email, password }),
    () => safeNext(search.get('next')),
  );

  if (setup.data?.needed) {
    return (
      <AuthFrame title="Set up Palisade">
        <p>
          No one has set up this Palisade server yet. Open the one-time setup link that <code>palisade serve</code> printed when it started (it looks like{' '}
          <code>/setup?token=…</code>).
        </p>
      </AuthFrame>
    );
  }

  return (
    <AuthFrame title="Sign in">
      {expired && (
        <p className="notice" role="status">
          Your session ended. Sign in again to go back to where you were.
        </p>
      )}
      <form onSubmit={onSubmit} className="stack">
        <label>
          Email
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </label>
        <label>
          Password
          <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <ErrorBox error={error} title="Sign-in failed" />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </AuthFrame>
  );
}

function PasswordHint() {
  return <p className="hint">At least 12 characters; not a common password and not your email address.</p>;
}

export function SetupPage() {
  const { search } = useLocation();
  const token = search.get('token') ?? '';
  const [orgName, setOrgName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const setup = useQuery({ queryKey: ['setup'], queryFn: () => get<SetupState>('/setup'), retry: false });
  const { error, busy, onSubmit } = useSessionForm(
    () => post('/setup', { setupToken: token, orgName, email, password }),
    () => '/',
  );

  if (setup.data && !setup.data.needed) {
    return (
      <AuthFrame title="Already set up">
        <p>This Palisade server already has an owner. Sign in instead, or ask an admin to invite you.</p>
        <Link to="/login" className="button">
          Go to sign-in
        </Link>
      </AuthFrame>
    );
  }
  if (!token) {
    return (
      <AuthFrame title="Set up Palisade">
        <p>
          This page needs the one-time link that <code>palisade serve</code> printed on its first start (<code>/setup?token=…</code>). Copy that whole link into
          the address bar.
        </p>
      </AuthFrame>
    );
  }
  return (
    <AuthFrame title="Set up Palisade">
      <p>Create your organisation and its owner account. You can invite your team afterwards.</p>
      <form onSubmit={onSubmit} className="stack">
        <label>
          Organisation name
          <input required maxLength={200} value={orgName} onChange={(e) => setOrgName(e.target.value)} autoFocus />
        </label>
        <label>
          Your email
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input type="password" autoComplete="new-password" required minLength={12} value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <PasswordHint />
        <ErrorBox error={error} title="Setup failed" />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create organisation'}
        </button>
      </form>
    </AuthFrame>
  );
}

export function AcceptInvitePage() {
  const { search } = useLocation();
  const token = search.get('token') ?? '';
  const [password, setPassword] = useState('');
  const { error, busy, onSubmit } = useSessionForm(
    () => post('/invitations/accept', { token, password }),
    () => '/',
  );
  return (
    <AuthFrame title="Join your team on Palisade">
      {!token ? (
        <p>
          This page needs the invitation link your admin sent you (it ends in <code>?token=…</code>).
        </p>
      ) : (
        <form onSubmit={onSubmit} className="stack">
          <label>
            Choose a password
            <input
              type="password"
              autoComplete="new-password"
              required
              minLength={12}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoFocus
            />
          </label>
          <PasswordHint />
          <ErrorBox error={error} title="Could not accept the invitation" />
          <button type="submit" disabled={busy}>
            {busy ? 'Joining…' : 'Join'}
          </button>
        </form>
      )}
    </AuthFrame>
  );
}
