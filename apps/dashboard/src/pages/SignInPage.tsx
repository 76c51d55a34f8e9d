import { useEffect, useRef, useState, type FormEvent } from 'react';
import { logIn, useSession, verifyAdminKey } from '../hooks/session';

function Brand() {
  return (
    <h1 className="signin-title">
      <span className="brand-mark" aria-hidden="true">
        ▚
      </span>{' '}
      Strata
    </h1>
  );
}

/** Sign-in with e-mail and password; an admin API key (automation, development) behind a secondary link. */
export function SignInPage({ baseUrl = '' }: { baseUrl?: string }) {
  const [withKey, setWithKey] = useState(false);
  return (
    <div className="signin">
      {withKey ? (
        <KeyForm baseUrl={baseUrl} onBack={() => setWithKey(false)} />
      ) : (
        <PasswordForm baseUrl={baseUrl} onUseKey={() => setWithKey(true)} />
      )}
    </div>
  );
}

type Field = 'email' | 'password' | 'form';

function PasswordForm({ baseUrl, onUseKey }: { baseUrl: string; onUseKey: () => void }) {
  const { signInPerson } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<{ field: Field; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);

  const fail = (field: Field, message: string) => {
    setError({ field, message });
    // Focus the first field in error (a refused sign-in: the e-mail, to start over).
    (field === 'password' ? passwordRef : emailRef).current?.focus();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!email.trim()) return fail('email', 'Enter your e-mail address.');
    if (!password) return fail('password', 'Enter your password.');
    setBusy(true);
    setError(null);
    const answer = await logIn(email.trim(), password, baseUrl);
    setBusy(false);
    if ('error' in answer) fail('form', answer.error);
    else signInPerson(answer.me);
  };

  const errorFor = (field: Field) => (error?.field === field ? error.message : null);
  return (
    <form className="card signin-card" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="signin-heading">
      <Brand />
      <p className="muted" id="signin-heading">
        Sign in to manage experiments.
      </p>
      {error?.field === 'form' && (
        <p className="field-error" role="alert" id="signin-error">
          {error.message}
        </p>
      )}
      <div className="field">
        <label htmlFor="signin-email">E-mail</label>
        <input
          ref={emailRef}
          id="signin-email"
          type="email"
          autoComplete="username"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          aria-invalid={error?.field === 'email' || error?.field === 'form'}
          aria-describedby={errorFor('email') ? 'signin-email-error' : error?.field === 'form' ? 'signin-error' : undefined}
        />
        {errorFor('email') && (
          <p className="field-error" id="signin-email-error" role="alert">
            {errorFor('email')}
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor="signin-password">Password</label>
        <input
          ref={passwordRef}
          id="signin-password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-invalid={error?.field === 'password'}
          aria-describedby={errorFor('password') ? 'signin-password-error' : undefined}
        />
        {errorFor('password') && (
          <p className="field-error" id="signin-password-error" role="alert">
            {errorFor('password')}
          </p>
        )}
      </div>
      <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
      <p className="hint signin-alt">
        No account yet? An admin creates one (<code>npm run user -- create</code>).{' '}
        <button type="button" className="btn-link" onClick={onUseKey}>
          Use an admin API key instead
        </button>
      </p>
    </form>
  );
}

/** The automation/development path: an admin API key, checked against the API before it is stored. */
function KeyForm({ baseUrl, onBack }: { baseUrl: string; onBack: () => void }) {
  const { signIn } = useSession();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const keyRef = useRef<HTMLInputElement>(null);
  // Opened from the link on the password form: keyboard users land in the field.
  useEffect(() => keyRef.current?.focus(), []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError('Enter an admin API key.');
      keyRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    const problem = await verifyAdminKey(trimmed, baseUrl);
    setBusy(false);
    if (problem) {
      setError(problem);
      keyRef.current?.focus();
    } else signIn(trimmed);
  };

  return (
    <form className="card signin-card" onSubmit={(e) => void submit(e)} noValidate>
      <Brand />
      <p className="muted">Sign in with an admin API key (for automation and development).</p>
      <div className="field">
        <label htmlFor="admin-key">Admin API key</label>
        <input
          ref={keyRef}
          id="admin-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-invalid={!!error}
          aria-describedby={error ? 'admin-key-error' : 'admin-key-hint'}
        />
        {error ? (
          <p className="field-error" id="admin-key-error" role="alert">
            {error}
          </p>
        ) : (
          <p className="hint" id="admin-key-hint">
            The server prints the bootstrap admin key on first start (or set STRATA_ADMIN_KEY). It stays in this tab only.
          </p>
        )}
      </div>
      <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
        {busy ? 'Checking…' : 'Sign in'}
      </button>
      <p className="hint signin-alt">
        <button type="button" className="btn-link" onClick={onBack}>
          Use e-mail and password instead
        </button>
      </p>
    </form>
  );
}
