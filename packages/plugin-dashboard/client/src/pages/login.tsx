import { useState } from 'preact/hooks';
import { post } from '../api';

/** The login form: the token goes in the request body, never in a URL. */
export function Login({ onDone }: { onDone: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await post('/login', { token });
      setToken('');
      onDone();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="login card" onSubmit={submit} method="post" action="#">
      <h1>agentd</h1>
      <p class="muted">
        This dashboard is reachable beyond this machine: log in with the host's API token.
      </p>
      <label>
        API token
        <input
          type="password"
          name="token"
          autocomplete="current-password"
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          required
        />
      </label>
      <button type="submit" disabled={busy || token === ''}>
        Log in
      </button>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}
