// The strength meter under a new password: the server's own verdict (POST /password-strength,
// the check that setup, sign-up and invitations apply), asked a moment after typing stops.
import { useEffect, useState } from 'react';
import { POST } from '../api/client';
import type { ResponseOf } from '../api/types';

type Verdict = ResponseOf<'/api/v1/password-strength', 'post'>;

const WORDS = ['Very weak', 'Weak', 'Not strong enough', 'Strong enough', 'Strong'];

export function PasswordStrength({ password, email, id }: { password: string; email?: string; id: string }) {
  const [verdict, setVerdict] = useState<{ for: string; v: Verdict } | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!password) return;
    let live = true;
    const timer = setTimeout(() => {
      POST('/api/v1/password-strength', { body: email ? { password, email } : { password } }).then(
        (v) => {
          if (!live) return;
          setFailed(false);
          setVerdict({ for: password, v });
        },
        () => live && setFailed(true),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [password, email]);

  const current = password && verdict?.for === password ? verdict.v : null;
  let text: string;
  if (!password) text = 'At least 12 characters; not a common password and not your email address. Three or four unrelated words work well.';
  else if (failed && !current) text = 'The strength could not be checked just now; the server checks it again when you submit.';
  else if (!current) text = 'Checking…';
  else text = current.acceptable ? `${WORDS[current.score]}: the server accepts this password.` : `${WORDS[current.score]}. ${current.message ?? ''}`;
  const level = current ? (current.acceptable ? 'ok' : 'weak') : 'none';
  return (
    <div className="strength" data-strength={level}>
      <meter min={0} max={4} low={2.5} high={3.5} optimum={4} value={current?.score ?? 0} aria-label="Strength estimate" />
      <p id={id} className="hint" role="status" aria-live="polite" data-testid="password-verdict">
        {text}
      </p>
    </div>
  );
}
