import { post } from '../api';
import { useData } from '../data';
import { duration, pretty, when } from '../format';
import { href, navigate } from '../router';
import { ActionButton, Badge, ErrorNote, Facts, Header } from '../ui';

interface Task {
  id: string;
  status: string;
  type: string;
  agent: string | null;
  priority: number;
  description: string;
  input: unknown;
  result: unknown;
  error: { name: string; message: string } | null;
  attempts: number;
  maxAttempts: number;
  createdAt: number;
  runAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  sessionKey: string | null;
  idempotencyKey: string | null;
  replyTo: { channel: string; id: string } | null;
  metadata: Record<string, unknown>;
  leaseOwner: string | null;
}

const PRIORITIES = ['critical', 'high', 'normal', 'low'];

export function TaskDetail({ id }: { id: string }) {
  const { data, error, reload } = useData<{ task: Task }>(`/tasks/${encodeURIComponent(id)}`, [
    'task',
  ]);
  const task = data?.task;
  const path = `/tasks/${encodeURIComponent(id)}`;
  return (
    <>
      <Header title={`Task ${id}`}>
        {task?.status === 'pending' ? (
          <ActionButton
            label="Hold"
            confirm="Hold this task? It does not run until you release it."
            run={() => post(`${path}/hold`).then(reload)}
          />
        ) : null}
        {task?.status === 'held' ? (
          <ActionButton label="Release" run={() => post(`${path}/release`).then(reload)} />
        ) : null}
        {task && ['pending', 'held', 'running'].includes(task.status) ? (
          <ActionButton
            label="Cancel"
            danger
            confirm="Cancel this task?"
            run={() => post(`${path}/cancel`).then(reload)}
          />
        ) : null}
        {task && (task.status === 'failed' || task.status === 'cancelled') ? (
          <ActionButton
            label="Retry"
            run={() =>
              post<{ task: { id: string } }>(`${path}/retry`).then((r) =>
                navigate(href(['tasks', r.task.id])),
              )
            }
          />
        ) : null}
      </Header>
      <ErrorNote error={error} />
      {task ? (
        <div class="grid">
          <section class="card">
            <h2>
              <Badge status={task.status} /> {task.description}
            </h2>
            <Facts
              rows={[
                ['Type', task.type],
                ['Agent', task.agent ?? '(default)'],
                ['Priority', PRIORITIES[task.priority] ?? String(task.priority)],
                ['Attempts', `${task.attempts} of ${task.maxAttempts}`],
                ['Created', when(task.createdAt)],
                ['Runs from', when(task.runAt)],
                ['Started', when(task.startedAt)],
                ['Finished', when(task.finishedAt)],
                ['Waited', duration(task.startedAt === null ? null : task.startedAt - task.runAt)],
                [
                  'Ran',
                  duration(
                    task.startedAt === null || task.finishedAt === null
                      ? null
                      : task.finishedAt - task.startedAt,
                  ),
                ],
                ['Session key', task.sessionKey ?? '—'],
                ['Reply to', task.replyTo ? `${task.replyTo.channel}:${task.replyTo.id}` : '—'],
                ['Lease', task.leaseOwner ?? '—'],
              ]}
            />
          </section>
          {task.error ? (
            <section class="card">
              <h2>Error</h2>
              <p>
                <strong>{task.error.name}</strong>
              </p>
              <pre class="error-text">{task.error.message}</pre>
            </section>
          ) : null}
          <section class="card">
            <h2>Input</h2>
            <pre>{pretty(task.input)}</pre>
          </section>
          <section class="card">
            <h2>Result</h2>
            <pre>{pretty(task.result)}</pre>
          </section>
          {Object.keys(task.metadata).length ? (
            <section class="card">
              <h2>Metadata</h2>
              <pre>{pretty(task.metadata)}</pre>
            </section>
          ) : null}
        </div>
      ) : null}
    </>
  );
}
