// Sign-in, first-run setup, invitation acceptance and self sign-up: the pages without a session.
import { useState, type FormEvent, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, GET, POST } from '../api/client';
import { ErrorBox, SkeletonBlock } from '../components/feedback';
import { PasswordStrength } from '../components/PasswordStrength';
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
  const setup = useQuery({ queryKey: ['setup'], queryFn: () => GET('/api/v1/setup'), retry: false });
  const expired = search.get('expired') === '1';
  const { error, busy, onSubmit } = useSessionForm(
    () => POST('/api/v1/auth/login', { body: { email, password } }),
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

export function SetupPage() {
  const { search } = useLocation();
  const token = search.get('token') ?? '';
  const [orgName, setOrgName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const setup = useQuery({ queryKey: ['setup'], queryFn: () => GET('/api/v1/setup'), retry: false });
  const { error, busy, onSubmit } = useSessionForm(
    () => POST('/api/v1/setup', { body: { setupToken: token, orgName, email, password } }),
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
          <input
            type="password"
            autoComplete="new-password"
            required
            minLength={12}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby="password-strength"
          />
        </label>
        <PasswordStrength id="password-strength" password={password} email={email} />
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
  // who the link is for: looked up by POST so the token stays out of request logs
  const info = useQuery({
    queryKey: ['invitation', token],
    queryFn: () => POST('/api/v1/invitations/lookup', { body: { token } }),
    enabled: token !== '',
    retry: false,
    staleTime: Infinity,
  });
  const { error, busy, onSubmit } = useSessionForm(
    () => POST('/api/v1/invitations/accept', { body: { token, password } }),
    () => '/',
  );
  if (!token) {
    return (
      <AuthFrame title="Join your team on Palisade">
        <p>
          This page needs the invitation link your admin sent you (it ends in <code>?token=…</code>). Copy the whole link into the address bar.
        </p>
      </AuthFrame>
    );
  }
  if (info.error) {
    return (
      <AuthFrame title="Join your team on Palisade">
        <ErrorBox error={info.error} title="This invitation cannot be used" />
        <p>
          Already have an account? <Link to="/login">Sign in</Link>.
        </p>
      </AuthFrame>
    );
  }
  if (!info.data) {
    return (
      <AuthFrame title="Join your team on Palisade">
        <SkeletonBlock lines={3} />
      </AuthFrame>
    );
  }
  const inv = info.data;
  return (
    <AuthFrame title={`Join ${inv.orgName} on Palisade`}>
      <dl className="facts">
        <dt>Your email</dt>
        <dd data-testid="invite-email">{inv.email}</dd>
        <dt>Your role</dt>
        <dd>{inv.role}</dd>
      </dl>
      <form onSubmit={onSubmit} className="stack">
        {/* lets password managers store the new password with the right account */}
        <input type="email" autoComplete="username" value={inv.email} readOnly hidden />
        <label>
          Choose a password
          <input
            type="password"
            autoComplete="new-password"
            required
            minLength={12}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby="password-strength"
            autoFocus
          />
        </label>
        <PasswordStrength id="password-strength" password={password} email={inv.email} />
        <ErrorBox error={error} title="Could not accept the invitation" />
        <button type="submit" disabled={busy}>
          {busy ? 'Joining…' : `Join ${inv.orgName}`}
        </button>
      </form>
    </AuthFrame>
  );
}

/** Self sign-up through an organisation's sign-up link (/signup?org=…), when its admins allow it. */
export function SignupPage() {
  const { search } = useLocation();
  const org = search.get('org') ?? '';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const info = useQuery({ queryKey: ['signup', org], queryFn: () => GET('/api/v1/signup/{org}', { path: { org } }), enabled: org !== '', retry: false });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await POST('/api/v1/signup/{org}', { path: { org }, body: { email, password } });
      setDone(r.message);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const closed = !org || (info.error instanceof ApiError && (info.error.status === 404 || info.error.status === 400));
  if (closed) {
    return (
      <AuthFrame title="Sign up">
        <p>
          This sign-up link does not work: the organisation does not take sign-ups (or the link is incomplete). Ask one of its admins for an invitation, or{' '}
          <Link to="/login">sign in</Link> if you already have an account.
        </p>
      </AuthFrame>
    );
  }
  if (info.error) {
    return (
      <AuthFrame title="Sign up">
        <ErrorBox error={info.error} />
      </AuthFrame>
    );
  }
  if (!info.data) {
    return (
      <AuthFrame title="Sign up">
        <SkeletonBlock lines={3} />
      </AuthFrame>
    );
  }
  if (done) {
    return (
      <AuthFrame title="Sign up">
        <p role="status">{done}</p>
        <Link to="/login" className="button">
          Go to sign-in
        </Link>
      </AuthFrame>
    );
  }
  return (
    <AuthFrame title={`Sign up to ${info.data.orgName}`}>
      <p>
        New accounts start with the <strong>{info.data.role}</strong> role: they can read the inventory and alerts. An admin can give you more later.
      </p>
      <form onSubmit={(e) => void submit(e)} className="stack">
        <label>
          Email
          <input type="email" autoComplete="username" required maxLength={320} value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="new-password"
            required
            minLength={12}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby="password-strength"
          />
        </label>
        <PasswordStrength id="password-strength" password={password} email={email || undefined} />
        <ErrorBox error={error} title="Sign-up failed" />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create account'}
        </button>
      </form>
      <p className="hint">
        Already have an account? <Link to="/login">Sign in</Link>.
      </p>
    </AuthFrame>
  );
}
