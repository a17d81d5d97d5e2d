import { useState } from 'preact/hooks';
import { post } from '../api';

/** The login form: the token goes in the request body, never in a URL. */
export function Login({ onDone }: { onDone: () => void }) {
  const [token, setToken] = useState('');
  // Who is logging in: keeps people's chats and sessions apart (everyone holds the same token).
  const [user, setUser] = useState(() => localStorage.getItem('agentd:user') ?? '');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await post('/login', user === '' ? { token } : { token, user });
      localStorage.setItem('agentd:user', user);
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
      <label>
        Your name <span class="muted small">(optional: your own chat and sessions)</span>
        <input
          type="text"
          name="user"
          autocomplete="username"
          pattern="[A-Za-z0-9._\-]{1,40}"
          maxLength={40}
          placeholder="operator"
          value={user}
          onInput={(e) => setUser((e.target as HTMLInputElement).value)}
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
