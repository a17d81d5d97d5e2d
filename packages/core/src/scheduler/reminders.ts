import { AgentdError } from '../kernel/errors.js';
import { systemTimezone, timezoneProblem, wallTimeAt, wallTimeToEpoch } from './time-zone.js';

/**
 * The forms {@link parseReminderTime} accepts, for error messages and help texts.
 *
 * @example
 * ```ts
 * io.err(`use ${REMINDER_TIME_FORMS}`);
 * ```
 */
export const REMINDER_TIME_FORMS =
  'HH:MM (e.g. 08:30: today, or tomorrow if already past), today HH:MM or tomorrow HH:MM (e.g. tomorrow 9:00), an ISO-8601 date-time (e.g. 2026-05-01T09:00, 2026-05-01 09:00 or 2026-05-01T09:00:00+02:00), or a relative time (e.g. in 90s, in 10m, in 2h, in 1d, in 1h30m)';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

const DURATION = /^(?:\d+\s*[a-z]+\s*)+$/i;
const DURATION_PART = /(\d+)\s*([a-z]+)/gi;
const CLOCK = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;
/** `today 18:00`, `tomorrow 9:00`: a clock time on a named day. */
const DAY_CLOCK = /^(today|tomorrow)\s+(\d{1,2}:\d{2}(?::\d{2})?)$/i;
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Reads a duration such as `90s`, `10m`, `2h`, `1d` or `1h30m` (also `10 min`, `2 hours`) as
 * milliseconds; `undefined` when `text` is not one. A day is 24 hours here, whatever DST does.
 *
 * @example
 * ```ts
 * parseDuration('1h30m'); // 5_400_000
 * parseDuration('soon'); // undefined
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(DURATION_PART)) {
    const size = UNIT_MS[unit!.toLowerCase()];
    if (size === undefined) return undefined;
    total += Number(amount) * size;
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/**
 * Which form a reminder time has, or `undefined` when it has none of them.
 *
 * @example
 * ```ts
 * const form: ReminderTimeForm | undefined = reminderTimeForm(text);
 * ```
 */
export type ReminderTimeForm = 'clock' | 'iso' | 'relative';

/**
 * The form of a reminder time without reading it: config checks use it to refuse forms that
 * would move at every start (`in 10m`, `08:30`) where only a fixed date-time makes sense.
 *
 * @example
 * ```ts
 * reminderTimeForm('in 10m'); // 'relative'
 * reminderTimeForm('2026-05-01T09:00'); // 'iso'
 * ```
 */
export function reminderTimeForm(text: string): ReminderTimeForm | undefined {
  const t = text.trim();
  if (/^in\s+/i.test(t)) return 'relative';
  if (CLOCK.test(t) || DAY_CLOCK.test(t)) return 'clock';
  if (ISO.test(t)) return 'iso';
  return undefined;
}

/**
 * Options of {@link parseReminderTime}.
 *
 * @example
 * ```ts
 * const options: ParseTimeOptions = { now: clock.now(), timezone: 'Europe/Berlin' };
 * ```
 */
export interface ParseTimeOptions {
  /** The current time (epoch ms): relative forms and `HH:MM` count from it. */
  now: number;
  /** IANA zone for `HH:MM` and ISO times without an offset (default: this machine's). */
  timezone?: string;
}

const badTime = (text: string, why?: string) =>
  new AgentdError(
    'E_BAD_TIME',
    `cannot read "${text}" as a time${why ? ` (${why})` : ''}; use ${REMINDER_TIME_FORMS}`,
  );

function checkClock(text: string, hour: number, minute: number, second: number): void {
  if (hour > 23) throw badTime(text, `hour ${hour} is past 23`);
  if (minute > 59) throw badTime(text, `minute ${minute} is past 59`);
  if (second > 59) throw badTime(text, `second ${second} is past 59`);
}

/**
 * Reads a reminder time as users type it and returns it as epoch ms:
 * - `HH:MM` or `HH:MM:SS`: today in the time zone, or tomorrow if that time has passed;
 * - `today HH:MM` (refused once passed) or `tomorrow HH:MM`;
 * - an ISO-8601 date-time (`2026-05-01T09:00`, with `T` or a space, optional seconds, optional
 *   `Z` or offset); without an offset it is read in the time zone;
 * - `in <duration>`: `in 90s`, `in 10m`, `in 2h`, `in 1d`, `in 1h30m`.
 *
 * A wall-clock time that a DST change skips moves forward by the gap; one that occurs twice is
 * the earlier. Anything else throws {@link AgentdError} `E_BAD_TIME` listing the accepted forms.
 *
 * @example
 * ```ts
 * const now = Date.parse('2026-07-01T10:00:00Z');
 * parseReminderTime('in 10m', { now }); // now + 600_000
 * parseReminderTime('08:30', { now, timezone: 'Europe/Berlin' }); // 2026-07-02 08:30 Berlin (12:00 had passed)
 * parseReminderTime('2026-07-01T18:00', { now, timezone: 'UTC' }); // Date.parse('2026-07-01T18:00:00Z')
 * ```
 */
export function parseReminderTime(text: string, options: ParseTimeOptions): number {
  if (typeof text !== 'string') throw badTime(String(text), 'not a text');
  const timezone = options.timezone ?? systemTimezone();
  const zoneProblem = timezoneProblem(timezone);
  if (zoneProblem) throw new AgentdError('E_BAD_TIME', zoneProblem);
  const input = text.trim();
  const { now } = options;

  const relative = /^in\s+(.+)$/i.exec(input);
  if (relative) {
    const ms = parseDuration(relative[1]!);
    if (ms === undefined) throw badTime(text, 'unknown duration');
    if (ms <= 0) throw badTime(text, 'the duration must be more than zero');
    return now + ms;
  }

  const dayClock = DAY_CLOCK.exec(input);
  const clock = CLOCK.exec(dayClock ? dayClock[2]! : input);
  if (clock) {
    const hour = Number(clock[1]);
    const minute = Number(clock[2]);
    const second = Number(clock[3] ?? 0);
    checkClock(text, hour, minute, second);
    const today = wallTimeAt(now, timezone);
    const at = (dayOffset: number) => {
      // Date.UTC normalises day 32 into the next month, which is all "tomorrow" needs.
      const d = new Date(Date.UTC(today.year, today.month - 1, today.day + dayOffset));
      return wallTimeToEpoch(
        {
          year: d.getUTCFullYear(),
          month: d.getUTCMonth() + 1,
          day: d.getUTCDate(),
          hour,
          minute,
          second,
        },
        timezone,
      );
    };
    const day = dayClock?.[1]?.toLowerCase();
    if (day === 'tomorrow') return at(1);
    const candidate = at(0);
    if (day === 'today' && candidate <= now) throw badTime(text, 'that time has passed today');
    return candidate > now ? candidate : at(1);
  }

  const iso = ISO.exec(input);
  if (iso) {
    const [, y, mo, d, h, mi, s, frac, offset] = iso;
    const wall = {
      year: Number(y),
      month: Number(mo),
      day: Number(d),
      hour: Number(h),
      minute: Number(mi),
      second: Number(s ?? 0),
    };
    if (wall.month < 1 || wall.month > 12)
      throw badTime(text, `month ${wall.month} does not exist`);
    const daysInMonth = new Date(Date.UTC(wall.year, wall.month, 0)).getUTCDate();
    if (wall.day < 1 || wall.day > daysInMonth) {
      throw badTime(text, `day ${wall.day} does not exist in ${y}-${mo}`);
    }
    checkClock(text, wall.hour, wall.minute, wall.second);
    const ms = frac ? Number(frac.padEnd(3, '0')) : 0;
    if (!offset) return wallTimeToEpoch(wall, timezone) + ms;
    const asUtc =
      Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second) + ms;
    if (offset.toUpperCase() === 'Z') return asUtc;
    const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(offset)!;
    const offsetMinutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
    if (Number(m[2]) > 23 || Number(m[3] ?? 0) > 59) throw badTime(text, 'bad UTC offset');
    return asUtc - (m[1] === '-' ? -1 : 1) * offsetMinutes * 60_000;
  }

  throw badTime(text);
}
