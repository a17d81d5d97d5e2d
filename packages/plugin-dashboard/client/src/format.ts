/** `3 s ago`, `in 5 min`: short relative times. */
export function ago(at: number | null | undefined, now = Date.now()): string {
  if (at === null || at === undefined) return '—';
  const diff = now - at;
  const text = duration(Math.abs(diff));
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/** `850 ms`, `12 s`, `4 min`, `3 h`, `2 d`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/**
 * A local clock time, `HH:MM` (24-hour). Built from the Date's fields rather than with
 * `toLocaleTimeString`: a tab's first use of the locale formatting (Intl) costs 26 to 192 ms in
 * Chromium (measured on a fresh page), which on the overview fell on the first frame with data.
 */
export function clock(at: number): string {
  const d = new Date(at);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** A local date and time, to the second. */
export function when(at: number | null | undefined): string {
  if (at === null || at === undefined) return '—';
  return new Date(at).toLocaleString(undefined, { hour12: false });
}

/** JSON for display: strings as they are, the rest indented. */
export function pretty(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}
