// The dashboard's frame and its pages, shared by the browser (main.tsx) and the server's first
// view (server-render.tsx), which renders the overview into the page so it shows before any
// script has run.
import type { Me } from './api';
import { useLiveStatus } from './live';
import { Agents } from './pages/agents';
import { Alerts } from './pages/alerts';
import { Chat } from './pages/chat';
import { DeadLetters } from './pages/dead-letters';
import { Overview } from './pages/overview';
import { Schedules } from './pages/schedules';
import { SessionDetail, Sessions } from './pages/sessions';
import { TaskDetail } from './pages/task-detail';
import { Tasks } from './pages/tasks';
import { href, useRoute } from './router';

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
export const FIRST_READS: Readonly<Record<string, readonly string[]>> = {
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

export function Shell({ me, onLogout }: { me: Me; onLogout: () => void }) {
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
