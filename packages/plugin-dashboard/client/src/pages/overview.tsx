import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useData } from '../data';
import { ago, clock, duration } from '../format';
import { href } from '../router';
import { Badge, ErrorNote, Facts, Header } from '../ui';

interface Overview {
  host: {
    name: string;
    state: string;
    version: string;
    node: string;
    pid: number;
    readyAt: number | null;
    uptimeMs: number | null;
    plugins: string[];
    store: string | null;
  };
  health: { status: string; checks: Record<string, { status: string; output?: string }> };
  tasks: Record<string, number> | null;
  owedReplies: number | null;
  openDeadLetters: number | null;
  agents: string[];
  defaultAgent: string | null;
  throughput: { at: number; enqueued: number; completed: number; failed: number }[];
}

/** Bars of tasks finished per minute over the last hour (a chart library comes with metrics history). */
function Throughput({ minutes }: { minutes: Overview['throughput'] }) {
  const max = Math.max(1, ...minutes.map((m) => m.completed + m.failed));
  const total = minutes.reduce(
    (sum, m) => ({
      completed: sum.completed + m.completed,
      failed: sum.failed + m.failed,
      enqueued: sum.enqueued + m.enqueued,
    }),
    { completed: 0, failed: 0, enqueued: 0 },
  );
  return (
    <section class="card">
      <h2>Throughput, last hour</h2>
      <p class="muted">
        {total.enqueued} enqueued · {total.completed} completed · {total.failed} failed (since the
        dashboard started)
      </p>
      {/* SVG, not boxes with inline heights: the server renders this card into the page, and the
          content policy refuses inline style attributes (SVG geometry is not a style). */}
      <svg
        class="bars"
        viewBox={`0 0 ${Math.max(1, minutes.length)} 100`}
        preserveAspectRatio="none"
        role="img"
        aria-label="tasks finished per minute"
      >
        {minutes.map((m, i) => {
          // A quiet minute draws nothing (no empty shapes for the first frame to lay out).
          if (m.completed + m.failed === 0) return null;
          const failed = (m.failed / max) * 100;
          const completed = (m.completed / max) * 100;
          return (
            <g key={m.at}>
              <title>{`${clock(m.at)}: ${m.completed} completed, ${m.failed} failed`}</title>
              {failed > 0 ? (
                <rect class="failed" x={i + 0.1} width={0.8} y={100 - failed} height={failed} />
              ) : null}
              {completed > 0 ? (
                <rect
                  class="completed"
                  x={i + 0.1}
                  width={0.8}
                  y={100 - failed - completed}
                  height={completed}
                />
              ) : null}
            </g>
          );
        })}
      </svg>
    </section>
  );
}

/** Open (unacknowledged) alerts, linking to the Alerts page. */
function OpenAlerts() {
  const { data } = useData<{ open: number }>('/alerts', ['alert']);
  return (
    <a key="alerts" class="open-alerts" href={href(['alerts'])}>
      {data ? String(data.open) : '—'}
    </a>
  );
}

/**
 * The history charts, loaded after the first view: uPlot is over half of the client's code, and
 * the overview's facts need none of it (a smaller first script paints sooner).
 */
function LazyHistoryCharts() {
  const [Charts, setCharts] = useState<FunctionComponent>();
  useEffect(() => {
    let live = true;
    void import('../charts').then((m) => {
      if (live) setCharts(() => m.HistoryCharts);
    });
    return () => {
      live = false;
    };
  }, []);
  return Charts ? <Charts /> : null;
}

export function Overview() {
  const { data, error } = useData<Overview>('/overview', [
    'task',
    'alert',
    'circuit',
    'dead-letter',
  ]);
  return (
    <>
      <Header title="Overview" />
      <ErrorNote error={error} />
      {data ? (
        <div class="grid">
          <section class="card">
            <h2>
              {data.host.name} <Badge status={data.health.status} />
            </h2>
            <Facts
              rows={[
                ['State', data.host.state],
                ['Uptime', duration(data.host.uptimeMs)],
                ['Ready since', ago(data.host.readyAt)],
                ['Version', `agentd ${data.host.version} · Node ${data.host.node}`],
                ['Process', String(data.host.pid)],
                ['Store', data.host.store ?? '—'],
                ['Agents', data.agents.length ? data.agents.join(', ') : '—'],
                ['Plugins', data.host.plugins.join(', ')],
              ]}
            />
          </section>
          <section class="card">
            <h2>Tasks</h2>
            <div class="counts">
              {Object.entries(data.tasks ?? {}).map(([status, n]) => (
                <a key={status} class="count" href={href(['tasks'], { status })}>
                  <strong>{n}</strong>
                  <Badge status={status} />
                </a>
              ))}
            </div>
            <Facts
              rows={[
                ['Replies owed', String(data.owedReplies ?? '—')],
                ['Open alerts', <OpenAlerts key="alerts" />],
                [
                  'Open dead letters',
                  <a key="dl" href={href(['dead-letters'])}>
                    {String(data.openDeadLetters ?? '—')}
                  </a>,
                ],
              ]}
            />
          </section>
          <section class="card">
            <h2>Health checks</h2>
            <ul class="checks">
              {Object.entries(data.health.checks).map(([name, check]) => (
                <li key={name}>
                  <Badge status={check.status} /> <span class="mono">{name}</span>
                  {check.output ? <span class="muted"> — {check.output}</span> : null}
                </li>
              ))}
            </ul>
          </section>
          <Throughput minutes={data.throughput} />
        </div>
      ) : null}
      {data ? <LazyHistoryCharts /> : null}
    </>
  );
}
