/**
 * A wall-clock time in some time zone; `month` is 1-12.
 *
 * @example
 * ```ts
 * const eight: WallTime = { year: 2026, month: 7, day: 1, hour: 8, minute: 0, second: 0 };
 * ```
 */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

// Building an Intl formatter costs far more than using one; schedules ask the same zones over and over.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/**
 * Why `timezone` is not a usable IANA time zone, or `undefined` when it is.
 *
 * @example
 * ```ts
 * timezoneProblem('Europe/Berlin'); // undefined
 * timezoneProblem('Mars/Olympus'); // 'unknown time zone "Mars/Olympus" (use an IANA name ...)'
 * ```
 */
export function timezoneProblem(timezone: string): string | undefined {
  if (typeof timezone !== 'string' || timezone.trim() === '') {
    return 'a time zone must be a non-empty IANA name such as "Europe/Berlin" or "UTC"';
  }
  try {
    formatterFor(timezone);
    return undefined;
  } catch {
    return `unknown time zone "${timezone}" (use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC")`;
  }
}

/**
 * The time zone of this machine (what `agentd` uses when the config names none).
 *
 * @example
 * ```ts
 * systemTimezone(); // 'Europe/Berlin' on a machine set to German time
 * ```
 */
export function systemTimezone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/**
 * The wall-clock time at instant `ms` in `timezone`.
 *
 * @example
 * ```ts
 * wallTimeAt(Date.parse('2026-07-01T06:00:00Z'), 'Europe/Berlin'); // { hour: 8, ... }
 * ```
 */
export function wallTimeAt(ms: number, timezone: string): WallTime {
  const out: WallTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatterFor(timezone).formatToParts(ms)) {
    if (part.type in out) out[part.type as keyof WallTime] = Number(part.value);
  }
  return out;
}

/** Milliseconds `timezone` is ahead of UTC at instant `ms` (+3 600 000 for CET). */
function offsetAt(ms: number, timezone: string): number {
  const w = wallTimeAt(ms, timezone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - (ms - (((ms % 1000) + 1000) % 1000));
}

const sameWallTime = (a: WallTime, b: WallTime) =>
  a.year === b.year &&
  a.month === b.month &&
  a.day === b.day &&
  a.hour === b.hour &&
  a.minute === b.minute &&
  a.second === b.second;

/**
 * The instant a wall-clock time in `timezone` denotes. Resolved as `Temporal` does by default
 * ("compatible"): a time that occurs twice (clocks go back) is the earlier one, and a time that
 * never occurs (clocks go forward) moves forward by the length of the gap, so 02:30 on a
 * spring-forward night in Berlin is 03:30.
 *
 * @example
 * ```ts
 * wallTimeToEpoch({ year: 2026, month: 7, day: 1, hour: 8, minute: 0, second: 0 }, 'Europe/Berlin');
 * // Date.parse('2026-07-01T06:00:00Z')
 * ```
 */
export function wallTimeToEpoch(wall: WallTime, timezone: string): number {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  // No zone changes its offset twice within two days, so the offsets a day either side are the
  // only candidates.
  const before = offsetAt(asUtc - 86_400_000, timezone);
  const after = offsetAt(asUtc + 86_400_000, timezone);
  const candidates = [asUtc - before, asUtc - after].filter((t) =>
    sameWallTime(wallTimeAt(t, timezone), wall),
  );
  if (candidates.length > 0) return Math.min(...candidates);
  return asUtc - before;
}

/**
 * `YYYY-MM-DD HH:MM` (with `:SS` when not zero) in `timezone`, for status output.
 *
 * @example
 * ```ts
 * formatInZone(Date.parse('2026-07-01T06:00:00Z'), 'Europe/Berlin'); // '2026-07-01 08:00'
 * ```
 */
export function formatInZone(ms: number, timezone: string): string {
  const w = wallTimeAt(ms, timezone);
  const p = (n: number) => String(n).padStart(2, '0');
  const base = `${w.year}-${p(w.month)}-${p(w.day)} ${p(w.hour)}:${p(w.minute)}`;
  return w.second === 0 ? base : `${base}:${p(w.second)}`;
}
