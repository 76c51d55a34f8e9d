import { useState, type FormEvent } from 'react';
import { useSession, verifyAdminKey } from '../hooks/session';

/** Sign-in with an admin API key, checked against the API before it is stored. */
export function SignInPage({ baseUrl = '' }: { baseUrl?: string }) {
  const { signIn } = useSession();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError('Enter an admin API key.');
      return;
    }
    setBusy(true);
    setError(null);
    const problem = await verifyAdminKey(trimmed, baseUrl);
    setBusy(false);
    if (problem) setError(problem);
    else signIn(trimmed);
  };

  return (
    <div className="signin">
      <form className="card signin-card" onSubmit={(e) => void submit(e)} noValidate>
        <h1 className="signin-title">
          <span className="brand-mark" aria-hidden="true">
            ▚
          </span>{' '}
          Strata
        </h1>
        <p className="muted">Sign in with an admin API key to manage experiments.</p>
        <div className="field">
          <label htmlFor="admin-key">Admin API key</label>
          <input
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
      </form>
    </div>
  );
}
