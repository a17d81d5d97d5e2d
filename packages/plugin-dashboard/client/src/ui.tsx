import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

/** A coloured status word. */
export function Badge({ status }: { status: string }) {
  return <span class={`badge badge-${status}`}>{status}</span>;
}

/** A page's title row with optional actions. */
export function Header({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="page-header">
      <h1>{title}</h1>
      <div class="actions">{children}</div>
    </div>
  );
}

export function ErrorNote({ error }: { error: string | undefined }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

/**
 * A button for an action that changes something: disabled while it runs, and the error (if
 * any) shown beside it; `confirm` asks first.
 */
export function ActionButton({
  label,
  run,
  confirm: question,
  danger,
}: {
  label: string;
  run: () => Promise<unknown>;
  confirm?: string;
  danger?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const onClick = async () => {
    if (question && !window.confirm(question)) return;
    setBusy(true);
    setError(undefined);
    try {
      await run();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button type="button" class={danger ? 'danger' : ''} disabled={busy} onClick={onClick}>
        {label}
      </button>
      {error ? <span class="error">{error}</span> : null}
    </span>
  );
}

/** Label/value rows. */
export function Facts({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
