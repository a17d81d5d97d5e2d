import { post } from '../api';
import { useData } from '../data';
import { ago, when } from '../format';
import { href } from '../router';
import { ActionButton, Badge, ErrorNote, Header } from '../ui';

interface Schedule {
  name: string;
  expression: string;
  timezone: string;
  enabled: boolean;
  pausedAt: number | null;
  pausedBy: string | null;
  nextRunAt: number | null;
  lastSlot: number | null;
  lastFiredAt: number | null;
  missedSlots: number[];
  missedTotal: number;
}

interface Reminder {
  id: string;
  description: string;
  agent: string | null;
  runAt: number;
  /** Held: never runs until resumed. */
  paused: boolean;
}

/**
 * Reminders to come (one-off tasks of type `reminder`), soonest first; pause, resume or cancel
 * one here. A paused reminder keeps its time: resumed after it, it runs at once.
 */
function Reminders() {
  const { data, error, reload } = useData<{ reminders: Reminder[] }>('/reminders', ['task']);
  const act = (r: Reminder, action: 'hold' | 'release') =>
    post(`/tasks/${encodeURIComponent(r.id)}/${action}`).then(reload);
  return (
    <section class="card reminders">
      <h2>Reminders</h2>
      <ErrorNote error={error} />
      {data && data.reminders.length === 0 ? <p class="muted">No pending reminders.</p> : null}
      {data?.reminders.map((r) => (
        <div key={r.id} class="row reminder" data-reminder={r.id}>
          <span title={when(r.runAt)}>{ago(r.runAt)}</span>
          <a href={href(['tasks', r.id])}>{r.description}</a>
          {r.paused ? <Badge status="paused" /> : null}
          {r.paused ? (
            <ActionButton label="Resume" run={() => act(r, 'release')} />
          ) : (
            <ActionButton
              label="Pause"
              confirm="Pause this reminder? It does not run until you resume it."
              run={() => act(r, 'hold')}
            />
          )}
          <ActionButton
            label="Cancel"
            danger
            confirm="Cancel this reminder?"
            run={() => post(`/tasks/${encodeURIComponent(r.id)}/cancel`).then(reload)}
          />
        </div>
      ))}
    </section>
  );
}

export function Schedules() {
  const { data, error, reload } = useData<{ schedules: Schedule[] }>('/schedules', ['schedule']);
  return (
    <>
      <Header title="Schedules" />
      <ErrorNote error={error} />
      <table class="list">
        <thead>
          <tr>
            <th>Schedule</th>
            <th>Next run</th>
            <th>Last run</th>
            <th>Missed</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data?.schedules.map((s) => (
            <tr key={s.name} data-schedule={s.name}>
              <td>
                <strong>{s.name}</strong> {s.enabled ? null : <Badge status="disabled" />}
                {s.pausedAt !== null ? (
                  <>
                    <Badge status="paused" />
                    <div class="muted small paused-by" title={when(s.pausedAt)}>
                      paused {ago(s.pausedAt)}
                      {s.pausedBy ? ` by ${s.pausedBy}` : ''}
                    </div>
                  </>
                ) : null}
                <div class="mono small muted">
                  {s.expression} ({s.timezone})
                </div>
              </td>
              <td title={when(s.nextRunAt)}>{ago(s.nextRunAt)}</td>
              <td title={when(s.lastFiredAt)}>{ago(s.lastFiredAt)}</td>
              <td title={s.missedSlots.map((slot) => when(slot)).join('\n')}>{s.missedTotal}</td>
              <td>
                <ActionButton
                  label="Run now"
                  run={() => post(`/schedules/${encodeURIComponent(s.name)}/run`).then(reload)}
                />{' '}
                {s.pausedAt === null ? (
                  <ActionButton
                    label="Pause"
                    confirm={`Pause ${s.name}? No slot fires until you resume it (run now still works).`}
                    run={() => post(`/schedules/${encodeURIComponent(s.name)}/pause`).then(reload)}
                  />
                ) : (
                  <ActionButton
                    label="Resume"
                    run={() => post(`/schedules/${encodeURIComponent(s.name)}/resume`).then(reload)}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.schedules.length === 0 ? <p class="muted">No schedules.</p> : null}
      <Reminders />
    </>
  );
}
