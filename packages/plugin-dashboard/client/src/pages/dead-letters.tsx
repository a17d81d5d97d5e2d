import { post, query } from '../api';
import { useData } from '../data';
import { ago, when } from '../format';
import { href, navigate } from '../router';
import { ActionButton, Badge, ErrorNote, Header } from '../ui';

interface DeadLetter {
  id: string;
  channel: string;
  key: string | null;
  code: string;
  reason: string;
  raw: string;
  rawBytes: number;
  truncated: boolean;
  status: string;
  createdAt: number;
  settledAt: number | null;
}

const STATUSES = ['open', 'retried', 'discarded'];

export function DeadLetters({ params }: { params: URLSearchParams }) {
  const status = params.get('status') ?? 'open';
  const { data, error, reload } = useData<{ deadLetters: DeadLetter[] }>(
    `/dead-letters${query({ status, limit: 100 })}`,
    ['dead-letter'],
  );
  return (
    <>
      <Header title="Dead letters" />
      <fieldset class="chips">
        <legend class="visually-hidden">Status</legend>
        {STATUSES.map((s) => (
          <button
            key={s}
            type="button"
            class={status === s ? 'chip on' : 'chip'}
            onClick={() => navigate(href(['dead-letters'], { status: s }), true)}
          >
            {s}
          </button>
        ))}
      </fieldset>
      <ErrorNote error={error} />
      {data?.deadLetters.map((d) => (
        <section key={d.id} class="card letter" data-letter={d.id}>
          <h2>
            <Badge status={d.status} /> <span class="mono">{d.code}</span>{' '}
            <span class="muted small">from {d.channel}</span>
          </h2>
          <p>{d.reason}</p>
          <p class="muted small" title={when(d.createdAt)}>
            {d.id} · {ago(d.createdAt)} · {d.rawBytes} bytes{d.truncated ? ' (cut)' : ''}
          </p>
          <details>
            <summary>Input as received</summary>
            <pre>{d.raw}</pre>
          </details>
          {d.status === 'open' ? (
            <div class="row">
              <ActionButton
                label="Retry"
                run={() => post(`/dead-letters/${encodeURIComponent(d.id)}/retry`).then(reload)}
              />
              <ActionButton
                label="Discard"
                danger
                confirm="Discard this dead letter?"
                run={() => post(`/dead-letters/${encodeURIComponent(d.id)}/discard`).then(reload)}
              />
            </div>
          ) : null}
        </section>
      ))}
      {data && data.deadLetters.length === 0 ? (
        <p class="muted">No {status} dead letters.</p>
      ) : null}
    </>
  );
}
