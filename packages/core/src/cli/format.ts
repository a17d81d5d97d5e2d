import type { Task } from '../contracts/task.js';
import { escapeControls } from './output.js';

const PRIORITY_NAMES = ['critical', 'high', 'normal', 'low'] as const;

/** `0` or `critical` → 0, etc. Undefined when not a priority. */
export function parsePriority(value: string): 0 | 1 | 2 | 3 | undefined {
  const byName = PRIORITY_NAMES.indexOf(value.toLowerCase() as (typeof PRIORITY_NAMES)[number]);
  if (byName >= 0) return byName as 0 | 1 | 2 | 3;
  return /^[0-3]$/.test(value) ? (Number(value) as 0 | 1 | 2 | 3) : undefined;
}

/**
 * A plain-text table with left-aligned columns. Cells are made terminal-safe first (control
 * characters escaped, see {@link escapeControls}), so columns stay aligned and text from users
 * cannot act on the terminal.
 */
export function table(headers: readonly string[], input: readonly (readonly string[])[]): string[] {
  const rows = input.map((r) => r.map((c) => escapeControls(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** Local time as `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(ms: number | null): string {
  if (ms === null) return '-';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The rows `agentd tasks` prints. */
export function taskRows(tasks: readonly Task[]): string[] {
  return table(
    ['ID', 'STATUS', 'PRIORITY', 'AGENT', 'ATTEMPTS', 'CREATED', 'DESCRIPTION'],
    tasks.map((t) => [
      t.id,
      t.status,
      PRIORITY_NAMES[t.priority] ?? String(t.priority),
      t.agent ?? '-',
      `${t.attempts}/${t.maxAttempts}`,
      formatTime(t.createdAt),
      oneLine(t.description, 60),
    ]),
  );
}

/**
 * `text` on one line (whitespace runs become one space, control characters escaped), cut to
 * `max` characters with an ellipsis.
 *
 * @example
 * ```ts
 * oneLine('a\n\nb', 60); // 'a b'
 * ```
 */
export function oneLine(text: string, max: number): string {
  const points = Array.from(escapeControls(text.replace(/\s+/g, ' ').trim()));
  return points.length > max ? `${points.slice(0, max - 1).join('')}…` : points.join('');
}
