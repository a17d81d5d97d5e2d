import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type Me, post, whoAmI } from './api';
import { readEarly } from './data';
import { connectLive, useLiveStatus } from './live';
import { Agents } from './pages/agents';
import { Alerts } from './pages/alerts';
import { Chat } from './pages/chat';
import { DeadLetters } from './pages/dead-letters';
import { Login } from './pages/login';
import { Overview } from './pages/overview';
import { Schedules } from './pages/schedules';
import { SessionDetail, Sessions } from './pages/sessions';
import { TaskDetail } from './pages/task-detail';
import { Tasks } from './pages/tasks';
import { currentRoute, href, useRoute } from './router';
import './styles.css';

const PAGES = [
  ['overview', 'Overview'],
  ['tasks', 'Tasks'],
  ['schedules', 'Schedules'],
  ['dead-letters', 'Dead letters'],
  ['sessions', 'Sessions'],
  ['agents', 'Agents'],
  ['alerts', 'Alerts'],
  ['chat', 'Chat'],
] as const;

/**
 * What each page reads as soon as it is shown (its first `useData` paths), for pages whose first
 * reads depend on nothing but the route: started with /api/me before the first render, not after
 * the first paint, the overview shows its data one frame and one round trip sooner.
 */
const FIRST_READS: Readonly<Record<string, readonly string[]>> = {
  overview: ['/overview'],
  schedules: ['/reminders', '/schedules'],
  agents: ['/agents'],
};

function Page() {
  const route = useRoute();
  const [page = 'overview', id] = route.parts;
  if (page === 'tasks' && id) return <TaskDetail id={id} />;
  if (page === 'tasks') return <Tasks params={route.params} />;
  if (page === 'schedules') return <Schedules />;
  if (page === 'dead-letters') return <DeadLetters params={route.params} />;
  if (page === 'sessions' && id) return <SessionDetail id={id} />;
  if (page === 'sessions') return <Sessions params={route.params} />;
  if (page === 'agents') return <Agents />;
  if (page === 'alerts') return <Alerts />;
  if (page === 'chat') return <Chat />;
  return <Overview />;
}

function Shell({ me, onLogout }: { me: Me; onLogout: () => void }) {
  const route = useRoute();
  const live = useLiveStatus();
  const active = route.parts[0] ?? 'overview';
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          agentd
        </a>
        <nav>
          {PAGES.map(([key, label]) => (
            <a key={key} href={href([key])} class={active === key ? 'current' : ''}>
              {label}
            </a>
          ))}
        </nav>
        <span
          class={`live ${live ? 'up' : 'down'}`}
          title={live ? 'live updates on' : 'live updates off'}
        >
          {live ? '● live' : '○ offline'}
        </span>
        {me.auth === 'login' ? (
          <button type="button" class="link" onClick={onLogout}>
            Log out
          </button>
        ) : null}
      </header>
      <main>
        <Page />
      </main>
    </>
  );
}

function App({ firstMe }: { firstMe: Promise<Me> }) {
  const [me, setMe] = useState<Me>();
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
    void refresh(firstMe);
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

const root = document.getElementById('app');
if (root) {
  // Both reads leave before the first render (see FIRST_READS).
  const firstMe = whoAmI();
  for (const path of FIRST_READS[currentRoute().parts[0] ?? 'overview'] ?? []) readEarly(path);
  render(<App firstMe={firstMe} />, root);
}
