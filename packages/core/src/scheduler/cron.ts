import { Cron } from 'croner';
import { AgentdError } from '../kernel/errors.js';
import { timezoneProblem } from './time-zone.js';

/**
 * The slots (nominal fire times, epoch ms) of one schedule: a cron expression in a time zone, or
 * a fixed interval. Every host computes the same slots, which is what makes `name + slot` a key
 * that fires once across restarts and hosts.
 *
 * @example
 * ```ts
 * const source: SlotSource = cronSlots('0 8 * * *', 'Europe/Berlin');
 * const next = source.next(Date.now());
 * ```
 */
export interface SlotSource {
  /** As users wrote it: `0 8 * * *` or `every 15m`. */
  readonly expression: string;
  /** IANA zone the expression is read in (`UTC` for intervals). */
  readonly timezone: string;
  /** Changes whenever the slots would: stored beside the schedule's progress. */
  readonly identity: string;
  /** The first slot strictly after `after`, or `undefined` if there is none. */
  next(after: number): number | undefined;
  /** Up to `limit` slots at or before `atOrBefore`, newest first. */
  latest(atOrBefore: number, limit: number): number[];
  /** Number of slots in `(after, atOrBefore]`, when it can be computed without enumerating. */
  count?(after: number, atOrBefore: number): number;
}

const CRON_HELP =
  'use 5 fields "minute hour day-of-month month day-of-week" (e.g. "0 8 * * *" daily at 08:00, "0 * * * *" hourly), optionally a leading seconds field, or a nickname such as @daily';

// A parsed croner job holds ~83 KB (its year table alone is 10,000 slots), and a paused job
// answers nextRun/previousRuns from the reference date it is given, keeping no state between
// calls, so schedules with the same expression and zone share one. The map holds weak references:
// a parsed job lives while some SlotSource uses it, so schedules added and removed at run time
// with ever-new expressions do not pile up.
const compiled = new Map<string, WeakRef<Cron>>();
const forget = new FinalizationRegistry<string>((key) => {
  if (compiled.get(key)?.deref() === undefined) compiled.delete(key);
});

/** A match of a shared parsed job found by {@link cronProblem}, which proves a future date while ahead. */
const futureMatch = new WeakMap<Cron, number>();

/**
 * The shared parsed job of `expression` in `timezone`, or, without a zone, read at UTC as a fixed
 * offset: whether an expression parses and ever matches does not depend on the zone, and a fixed
 * offset spares croner's first `Intl` zone lookup (about 25 ms, paid by every command that
 * validates a config with a schedule).
 */
function compile(expression: string, timezone?: string): Cron {
  const key = `${timezone ?? 'UTC+0'}\n${expression}`;
  const known = compiled.get(key)?.deref();
  if (known) return known;
  const cron = new Cron(
    expression,
    timezone === undefined ? { utcOffset: 0, paused: true } : { timezone, paused: true },
  );
  compiled.set(key, new WeakRef(cron));
  forget.register(cron, key);
  return cron;
}

/**
 * Why `expression` is not a usable cron expression, or `undefined` when it is. Checked in the
 * config schema, so a typo fails `agentd check` rather than a schedule at 3 a.m.
 *
 * @example
 * ```ts
 * cronProblem('0 8 * * *'); // undefined
 * cronProblem('61 * * * *'); // 'invalid cron expression "61 * * * *": invalid value for minute: 61 (use 5 fields ...)'
 * ```
 */
export function cronProblem(expression: string): string | undefined {
  if (typeof expression !== 'string' || expression.trim() === '') {
    return `a cron expression must be a non-empty string (${CRON_HELP})`;
  }
  let cron: Cron;
  try {
    cron = compile(expression);
  } catch (error) {
    const detail = (error instanceof Error ? error.message : String(error))
      .replace(/^Cron\w*:\s*/, '')
      .replace(/^./, (c) => c.toLowerCase());
    return `invalid cron expression "${expression}": ${detail} (${CRON_HELP})`;
  }
  // Expressions such as "0 0 30 2 *" parse but never match a date. A match found earlier that
  // is still ahead answers without asking croner again: a host with 10,000 schedules checks
  // each expression twice (config schema, then the scheduler), at tens of µs a question.
  const now = Date.now();
  const ahead = futureMatch.get(cron);
  if (ahead !== undefined && ahead > now) return undefined;
  const next = cron.nextRun(new Date(now));
  if (next === null) return `cron expression "${expression}" never matches a future date`;
  futureMatch.set(cron, next.getTime());
  return undefined;
}

/**
 * The slots of a cron expression read in an IANA time zone, with croner's DST rules: a job with
 * fixed hours and minutes (`30 2 * * *`) runs once on the night clocks go back and at the first
 * valid time after the gap when they go forward; a job with wildcard or stepped hours
 * (`0 * * * *`) runs at each real hour, so twice through a repeated hour and not in a gap.
 * Throws {@link AgentdError} `E_BAD_SCHEDULE` for a bad expression or zone.
 *
 * @example
 * ```ts
 * const slots = cronSlots('0 8 * * *', 'Europe/Berlin');
 * slots.next(Date.parse('2026-07-01T07:00:00Z')); // Date.parse('2026-07-02T06:00:00Z')
 * ```
 */
export function cronSlots(expression: string, timezone: string): SlotSource {
  const problem = timezoneProblem(timezone) ?? cronProblem(expression);
  if (problem) throw new AgentdError('E_BAD_SCHEDULE', problem);
  return new CronSlots(expression, timezone, compile(expression, timezone));
}

/**
 * A class rather than an object of closures: 10,000 schedules share its methods, so a schedule's
 * slot source is a handful of fields.
 */
class CronSlots implements SlotSource {
  readonly identity: string;
  readonly #cron: Cron;
  // The last answer: no slot lies in (memoAfter, memoNext), so any `after` in
  // [memoAfter, memoNext) has the same next slot. A fire asks next(slot) to decide and then
  // next(now) to arm the timer; croner's answer costs tens of µs (time zone conversions).
  #memoAfter = Number.NaN;
  #memoNext: number | undefined;

  constructor(
    readonly expression: string,
    readonly timezone: string,
    cron: Cron,
  ) {
    this.identity = `cron ${expression} ${timezone}`;
    this.#cron = cron;
  }

  next(after: number): number | undefined {
    if (after >= this.#memoAfter && (this.#memoNext === undefined || after < this.#memoNext)) {
      return this.#memoNext;
    }
    const next = this.#cron.nextRun(new Date(after))?.getTime();
    this.#memoAfter = after;
    this.#memoNext = next;
    return next;
  }

  latest(atOrBefore: number, limit: number): number[] {
    if (limit <= 0) return [];
    // croner counts a run earlier in the reference's own second, so +1 ms includes `atOrBefore`.
    return this.#cron
      .previousRuns(limit, new Date(atOrBefore + 1))
      .map((d) => d.getTime())
      .filter((t) => t <= atOrBefore);
  }
}

/**
 * The slots of a fixed interval: whole multiples of `everyMs` since the Unix epoch, so every
 * host and every restart agrees on them. Use a cron expression for wall-clock times.
 *
 * @example
 * ```ts
 * const slots = intervalSlots(15 * 60_000);
 * slots.next(Date.parse('2026-01-01T10:07:00Z')); // Date.parse('2026-01-01T10:15:00Z')
 * ```
 */
export function intervalSlots(everyMs: number): SlotSource {
  if (!Number.isInteger(everyMs) || everyMs < 1000) {
    throw new AgentdError(
      'E_BAD_SCHEDULE',
      `an interval must be a whole number of milliseconds of at least 1000, got ${everyMs}`,
    );
  }
  const index = (t: number) => Math.floor(t / everyMs);
  return {
    expression: `every ${formatDuration(everyMs)}`,
    timezone: 'UTC',
    identity: `every ${everyMs}`,
    next: (after) => (index(after) + 1) * everyMs,
    latest(atOrBefore, limit) {
      const out: number[] = [];
      for (let k = index(atOrBefore); out.length < limit; k--) out.push(k * everyMs);
      return out;
    },
    count: (after, atOrBefore) => Math.max(0, index(atOrBefore) - index(after)),
  };
}

/**
 * The slots of a schedule definition: its `cron` in its `timezone` (else `defaultTimezone`), or
 * its `every` interval.
 *
 * @example
 * ```ts
 * const slots = slotSourceFor({ cron: '0 * * * *' }, 'UTC');
 * ```
 */
export function slotSourceFor(
  definition: { name?: string; cron?: string; every?: number; timezone?: string },
  defaultTimezone: string,
): SlotSource {
  const label = definition.name ? `schedule "${definition.name}": ` : '';
  const hasCron = definition.cron !== undefined;
  const hasEvery = definition.every !== undefined;
  if (hasCron === hasEvery) {
    throw new AgentdError('E_BAD_SCHEDULE', `${label}give either cron or every (not both)`);
  }
  try {
    return hasCron
      ? cronSlots(definition.cron!, definition.timezone ?? defaultTimezone)
      : intervalSlots(definition.every!);
  } catch (error) {
    if (error instanceof AgentdError && label) {
      throw new AgentdError(error.code, `${label}${error.message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * `90000` → `1m30s`: the shortest exact form in d, h, m, s (and ms for a remainder).
 *
 * @example
 * ```ts
 * formatDuration(3_600_000); // '1h'
 * ```
 */
export function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  let rest = ms;
  let out = '';
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  if (rest > 0 || out === '') out += `${rest}ms`;
  return out;
}
