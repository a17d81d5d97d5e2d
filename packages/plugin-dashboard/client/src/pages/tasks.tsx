import { useEffect, useState } from 'preact/hooks';
import { post, query } from '../api';
import { useData } from '../data';
import { ago } from '../format';
import { href, navigate } from '../router';
import { Badge, ErrorNote, Header } from '../ui';

const STATUSES = ['pending', 'held', 'running', 'completed', 'failed', 'cancelled'];

export interface TaskSummary {
  id: string;
  status: string;
  type: string;
  agent: string | null;
  priority: number;
  description: string;
  attempts: number;
  maxAttempts: number;
  createdAt: number;
  finishedAt: number | null;
  error: string | null;
}

interface TaskList {
  tasks: TaskSummary[];
  next: string | null;
  counts: Record<string, number>;
}

/** The enqueue form: the input as text (JSON when it parses as JSON). */
function Enqueue({ onDone }: { onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [input, setInput] = useState('');
  const [agent, setAgent] = useState('');
  const [error, setError] = useState<string>();
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)}>
        New task
      </button>
    );
  }
  const submit = async (event: Event) => {
    event.preventDefault();
    let value: unknown = input;
    try {
      if (/^\s*[[{"]/.test(input)) value = JSON.parse(input);
    } catch {
      value = input;
    }
    try {
      const { task } = await post<{ task: TaskSummary }>('/tasks', {
        input: value,
        ...(agent ? { agent } : {}),
      });
      setOpen(false);
      setInput('');
      onDone();
      navigate(href(['tasks', task.id]));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <form class="card enqueue" onSubmit={submit}>
      <label>
        Input (text or JSON)
        <textarea
          name="input"
          rows={3}
          value={input}
          onInput={(e) => setInput((e.target as HTMLTextAreaElement).value)}
          required
        />
      </label>
      <label>
        Agent (empty: the default)
        <input
          name="agent"
          value={agent}
          onInput={(e) => setAgent((e.target as HTMLInputElement).value)}
        />
      </label>
      <div class="row">
        <button type="submit">Enqueue</button>
        <button type="button" class="link" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
      <ErrorNote error={error} />
    </form>
  );
}

export function Tasks({ params }: { params: URLSearchParams }) {
  const status = params.get('status') ?? '';
  const agent = params.get('agent') ?? '';
  const text = params.get('text') ?? '';
  const after = params.get('after') ?? '';
  const [typed, setTyped] = useState(text);
  // The cursors of the pages before this one, so "Newer" can go back.
  const [trail, setTrail] = useState<string[]>([]);
  const set = (changes: Record<string, string | undefined>) => {
    const next = { status, agent, text, after: '', ...changes };
    if (!('after' in changes)) setTrail([]);
    navigate(href(['tasks'], next), true);
  };
  useEffect(() => {
    if (typed === text) return;
    const timer = setTimeout(() => set({ text: typed }), 300);
    return () => clearTimeout(timer);
  });
  const { data, error, reload } = useData<TaskList>(
    `/tasks${query({ status, agent, text, after, limit: 50 })}`,
    after ? [] : ['task'],
  );
  return (
    <>
      <Header title="Tasks">
        <Enqueue onDone={reload} />
      </Header>
      <div class="filters">
        <fieldset class="chips">
          <legend class="visually-hidden">Status</legend>
          <button
            type="button"
            class={status === '' ? 'chip on' : 'chip'}
            onClick={() => set({ status: '' })}
          >
            all
          </button>
          {STATUSES.map((s) => (
            <button
              key={s}
              type="button"
              class={status === s ? 'chip on' : 'chip'}
              onClick={() => set({ status: s })}
            >
              {s} <span class="muted">{data?.counts[s] ?? ''}</span>
            </button>
          ))}
        </fieldset>
        <input
          type="search"
          name="text"
          placeholder="Search id, description, type"
          value={typed}
          onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
        />
        <input
          name="agent"
          placeholder="Agent"
          value={agent}
          onChange={(e) => set({ agent: (e.target as HTMLInputElement).value })}
        />
      </div>
      <ErrorNote error={error} />
      <table class="list">
        <thead>
          <tr>
            <th>Task</th>
            <th>Status</th>
            <th>Agent</th>
            <th>Attempts</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {data?.tasks.map((t) => (
            <tr key={t.id} data-task={t.id}>
              <td>
                <a href={href(['tasks', t.id])} class="mono">
                  {t.id}
                </a>
                <div class="desc">{t.description}</div>
              </td>
              <td>
                <Badge status={t.status} />
                {t.error ? <div class="muted small">{t.error}</div> : null}
              </td>
              <td>{t.agent ?? '—'}</td>
              <td>
                {t.attempts}/{t.maxAttempts}
              </td>
              <td title={new Date(t.createdAt).toLocaleString()}>{ago(t.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.tasks.length === 0 ? (
        <p class="muted">No tasks {data.next ? 'in this stretch' : 'match'}.</p>
      ) : null}
      <div class="pager">
        <button
          type="button"
          disabled={after === ''}
          onClick={() => {
            const back = trail.slice(0, -1);
            const previous = trail[trail.length - 1] ?? '';
            setTrail(back);
            set({ after: previous });
          }}
        >
          ← Newer
        </button>
        <button
          type="button"
          disabled={!data?.next}
          onClick={() => {
            setTrail([...trail, after]);
            set({ after: data?.next ?? '' });
          }}
        >
          Older →
        </button>
      </div>
    </>
  );
}
