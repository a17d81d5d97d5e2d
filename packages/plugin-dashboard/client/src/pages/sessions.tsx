import { post, query } from '../api';
import { useData } from '../data';
import { ago, duration, when } from '../format';
import { href, navigate } from '../router';
import { ActionButton, Badge, ErrorNote, Facts, Header } from '../ui';

interface SessionRow {
  id: string;
  userKey: string;
  name: string;
  agent: string;
  status: string;
  active: boolean;
  channel: string;
  idleMs: number;
  lastActivityAt: number;
}

const STATUSES = ['live', 'idle', 'suspended', 'archived'];

export function Sessions({ params }: { params: URLSearchParams }) {
  const status = params.get('status') ?? 'live,idle,suspended';
  const { data, error } = useData<{ sessions: SessionRow[]; total: number }>(
    `/sessions${query({ status })}`,
    ['session'],
  );
  return (
    <>
      <Header title="Sessions" />
      <fieldset class="chips">
        <legend class="visually-hidden">Status</legend>
        <button
          type="button"
          class={status === 'live,idle,suspended' ? 'chip on' : 'chip'}
          onClick={() => navigate(href(['sessions']), true)}
        >
          not archived
        </button>
        {STATUSES.map((s) => (
          <button
            key={s}
            type="button"
            class={status === s ? 'chip on' : 'chip'}
            onClick={() => navigate(href(['sessions'], { status: s }), true)}
          >
            {s}
          </button>
        ))}
      </fieldset>
      <ErrorNote error={error} />
      <table class="list">
        <thead>
          <tr>
            <th>User</th>
            <th>Session</th>
            <th>Status</th>
            <th>Idle</th>
          </tr>
        </thead>
        <tbody>
          {data?.sessions.map((s) => (
            <tr key={s.id} data-session={s.id}>
              <td class="mono">{s.userKey}</td>
              <td>
                <a href={href(['sessions', s.id])}>{s.name}</a>
                {s.active ? <span class="muted small"> (active)</span> : null}
                <div class="muted small">
                  {s.agent} · {s.channel}
                </div>
              </td>
              <td>
                <Badge status={s.status} />
              </td>
              <td title={when(s.lastActivityAt)}>{duration(s.idleMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.sessions.length === 0 ? <p class="muted">No sessions.</p> : null}
    </>
  );
}

interface SessionDetailData {
  session: SessionRow & { createdAt: number; idleTimeoutMs: number; persona: string | null };
  history: { role: string; content: string; at: number; taskId?: string }[];
}

export function SessionDetail({ id }: { id: string }) {
  const { data, error, reload } = useData<SessionDetailData>(
    `/sessions/${encodeURIComponent(id)}`,
    ['session', 'task'],
  );
  const s = data?.session;
  return (
    <>
      <Header title={s ? `Session ${s.name}` : 'Session'}>
        {s && (s.status === 'live' || s.status === 'idle') ? (
          <ActionButton
            label="Suspend"
            confirm="Suspend this session? Its agent's resources are released; the next message resumes it."
            run={() => post(`/sessions/${encodeURIComponent(id)}/suspend`).then(reload)}
          />
        ) : null}
        {s && s.status === 'suspended' ? (
          <ActionButton
            label="Resume"
            run={() => post(`/sessions/${encodeURIComponent(id)}/resume`).then(reload)}
          />
        ) : null}
        {s && s.status !== 'archived' ? (
          <ActionButton
            label="Archive"
            danger
            confirm="Archive this session? Its agent's resources are released for good."
            run={() => post(`/sessions/${encodeURIComponent(id)}/archive`).then(reload)}
          />
        ) : null}
      </Header>
      <ErrorNote error={error} />
      {s && data ? (
        <div class="grid">
          <section class="card">
            <h2>
              <Badge status={s.status} /> {s.userKey}
            </h2>
            <Facts
              rows={[
                ['Agent', s.agent],
                ['Persona', s.persona ?? '—'],
                ['Created', when(s.createdAt)],
                ['Last activity', ago(s.lastActivityAt)],
                ['Idle timeout', duration(s.idleTimeoutMs)],
              ]}
            />
          </section>
          <section class="card history">
            <h2>History</h2>
            {data.history.length === 0 ? <p class="muted">Nothing said yet.</p> : null}
            {data.history.map((h, i) => (
              <div key={`${h.at}-${i}`} class={`turn ${h.role}`}>
                <div class="muted small">
                  {h.role} · {when(h.at)}
                  {h.taskId ? (
                    <>
                      {' · '}
                      <a href={href(['tasks', h.taskId])}>{h.taskId}</a>
                    </>
                  ) : null}
                </div>
                <div class="content">{h.content}</div>
              </div>
            ))}
          </section>
        </div>
      ) : null}
    </>
  );
}
