/** Sign-in with an API token: checked against the API (GET /api/v1/whoami) before it is kept. */
import { useState } from 'preact/hooks';
import { Refusal } from '../components.js';

export function SignIn(props: { onSignIn: (token: string) => Promise<void>; refusal: unknown }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const shown = error ?? props.refusal;

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await props.onSignIn(token.trim());
    } catch (failed) {
      setError(failed);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="sign-in panel">
      <h1>Sign in</h1>
      <p class="muted">
        Use an API token from <code>api.tokens</code> in the recurd config. Its role decides what you can do here: <b>read</b> shows, <b>write</b> also
        records corrective actions, owners, due dates and comments, <b>admin</b> also voids, accepts risk and replays dead letters.
      </p>
      <form onSubmit={(event) => void submit(event)} class="form">
        <label class="field">
          <span>API token</span>
          <input type="password" name="token" autocomplete="off" spellcheck={false} value={token} onInput={(event) => setToken(event.currentTarget.value)} />
        </label>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy || token.trim() === ''}>
            {busy ? 'Checking…' : 'Sign in'}
          </button>
        </div>
      </form>
      <Refusal error={shown} />
      <p class="fine">The token is kept in this browser tab only (session storage) and is sent as a bearer token to the recurd API; no cookie is set.</p>
    </section>
  );
}
