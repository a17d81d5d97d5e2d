import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type Me, pageMe, post, whoAmI } from './api';
import { FIRST_READS, Shell } from './app';
import { readEarly } from './data';
import { connectLive } from './live';
import { Login } from './pages/login';
import { currentRoute } from './router';
import './styles.css';

/**
 * `fromPage` is the page's own /api/me answer (first-view.ts) when it holds one: the first render
 * then matches the server's rendering of the same page, and no read is made; otherwise /api/me
 * is read (`firstMe`, started before the first render).
 */
function App({
  fromPage,
  firstMe,
}: {
  fromPage: Me | undefined;
  firstMe: Promise<Me> | undefined;
}) {
  const [me, setMe] = useState<Me | undefined>(fromPage);
  const [error, setError] = useState<string>();
  const refresh = (asked: Promise<Me> = whoAmI()) =>
    asked.then(
      (m) => {
        setMe(m);
        if (m.authenticated) connectLive();
      },
      (e: Error) => setError(e.message),
    );
  useEffect(() => {
    if (fromPage?.authenticated) connectLive();
    else if (firstMe) void refresh(firstMe);
    const onLoggedOut = () => setMe((m) => (m ? { ...m, authenticated: false } : m));
    window.addEventListener('agentd:logged-out', onLoggedOut);
    return () => window.removeEventListener('agentd:logged-out', onLoggedOut);
  }, []);
  if (error) return <p class="error">{error}</p>;
  // The page starts reading its data while /api/me is still on its way (one round trip less to
  // the first view); a login-mode dashboard without a session turns to the login form when
  // either answer says so.
  if (!me) return <Shell me={{ auth: 'open', authenticated: true }} onLogout={() => undefined} />;
  if (!me.authenticated) {
    if (me.auth === 'open') {
      return (
        <p class="error center">
          The dashboard answers loopback host names only (open it at 127.0.0.1 or localhost).
        </p>
      );
    }
    return <Login onDone={() => refresh()} />;
  }
  const logout = () => post('/logout').finally(() => location.reload());
  return <Shell me={me} onLogout={logout} />;
}

/** The client's start: its first reads, then its first render into `root`. */
function start(root: HTMLElement): void {
  // Both reads leave before the first render (see FIRST_READS), unless the page holds them.
  const fromPage = pageMe();
  const firstMe = fromPage ? undefined : whoAmI();
  for (const path of FIRST_READS[currentRoute().parts[0] ?? 'overview'] ?? []) readEarly(path);
  // Over the server's rendering of the overview (server-render.tsx), when the page holds one: a
  // full render that keeps the elements it finds, so nothing painted is thrown away, and
  // corrects what differs (clock times are the browser's, a deep link shows its own page).
  render(<App fromPage={fromPage} firstMe={firstMe} />, root);
  delete document.documentElement.dataset.route;
}

const root = document.getElementById('app');
if (root?.firstElementChild) {
  // The page holds the first view already rendered: the browser paints it first, and the
  // client's first render (tens of ms in a cold page, which would otherwise run before that
  // frame whenever this script is here before the page is parsed) comes after it.
  requestAnimationFrame(() => setTimeout(() => start(root), 0));
} else if (root) {
  start(root);
}
