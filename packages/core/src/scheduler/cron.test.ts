import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { AgentdError } from '../kernel/errors.js';
import {
  cronProblem,
  cronSlots,
  formatDuration,
  intervalSlots,
  type SlotSource,
  slotSourceFor,
} from './cron.js';
import { formatInZone } from './time-zone.js';

const t = (iso: string) => Date.parse(iso);

/** Slots in (from, to], by walking `next`. */
function walk(source: SlotSource, from: number, to: number): number[] {
  const out: number[] = [];
  for (let s = source.next(from); s !== undefined && s <= to; s = source.next(s)) out.push(s);
  return out;
}

const local = (slots: number[], tz: string) => slots.map((s) => formatInZone(s, tz));

describe('cron expressions', () => {
  it('accepts standard, seconds and nickname forms', () => {
    expect(cronProblem('0 8 * * *')).toBeUndefined();
    expect(cronProblem('*/15 * * * *')).toBeUndefined();
    expect(cronProblem('30 0 8 * * MON-FRI')).toBeUndefined();
    expect(cronProblem('@daily')).toBeUndefined();
  });

  it('explains what is wrong with a bad expression and shows the accepted form', () => {
    expect(cronProblem('61 * * * *')).toMatch(
      /^invalid cron expression "61 \* \* \* \*": invalid value for minute: 61 \(use 5 fields "minute hour/,
    );
    expect(cronProblem('0 8 * *')).toMatch(
      /invalid cron expression "0 8 \* \*":.*five, six, or seven/,
    );
    expect(cronProblem('every day')).toMatch(/^invalid cron expression "every day"/);
    expect(cronProblem('')).toMatch(/must be a non-empty string/);
    expect(cronProblem('0 0 30 2 *')).toMatch(/never matches a future date/);
  });

  it('refuses unknown time zones with the code E_BAD_SCHEDULE', () => {
    const error = (() => {
      try {
        cronSlots('0 8 * * *', 'Mars/Olympus');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(AgentdError);
    expect(error).toMatchObject({ code: 'E_BAD_SCHEDULE' });
    expect((error as Error).message).toMatch(
      /unknown time zone "Mars\/Olympus" \(use an IANA name/,
    );
  });

  it('names the schedule in errors from slotSourceFor and wants exactly one of cron and every', () => {
    expect(() => slotSourceFor({ name: 'x', cron: 'nope' }, 'UTC')).toThrow(
      /^schedule "x": invalid cron expression "nope"/,
    );
    expect(() => slotSourceFor({ name: 'x' }, 'UTC')).toThrow(/give either cron or every/);
    expect(() => slotSourceFor({ name: 'x', cron: '* * * * *', every: 1000 }, 'UTC')).toThrow(
      /give either cron or every/,
    );
    expect(() => slotSourceFor({ name: 'x', every: 10 }, 'UTC')).toThrow(/at least 1000/);
  });

  it('computes the next slot strictly after a time, in the schedule time zone', () => {
    const daily = cronSlots('0 8 * * *', 'Europe/Berlin');
    expect(daily.next(t('2026-07-01T05:59:59Z'))).toBe(t('2026-07-01T06:00:00Z'));
    expect(daily.next(t('2026-07-01T06:00:00Z'))).toBe(t('2026-07-02T06:00:00Z'));
    expect(daily.next(t('2026-01-15T12:00:00Z'))).toBe(t('2026-01-16T07:00:00Z'));
  });

  it('lists the latest slots, newest first, including one exactly at the reference', () => {
    const hourly = cronSlots('0 * * * *', 'UTC');
    expect(hourly.latest(t('2026-01-01T05:00:00Z'), 3)).toEqual([
      t('2026-01-01T05:00:00Z'),
      t('2026-01-01T04:00:00Z'),
      t('2026-01-01T03:00:00Z'),
    ]);
    expect(hourly.latest(t('2026-01-01T04:59:59.999Z'), 1)).toEqual([t('2026-01-01T04:00:00Z')]);
  });
});

describe('shared parsed expressions', () => {
  it('answers next() like a fresh croner job, whatever order the questions come in, across DST nights', () => {
    const zone = 'Europe/Berlin';
    for (const expression of ['30 2 * * *', '0 * * * *', '*/20 * * * * *']) {
      // Two sources of the same expression and zone share one parsed job; each memoises its
      // last answer, so questions out of order and repeated must still get croner's answers.
      const a = cronSlots(expression, zone);
      const b = cronSlots(expression, zone);
      const fresh = new Cron(expression, { timezone: zone, paused: true });
      const start = t('2026-03-28T22:00:00Z');
      const afters = [0, 1, 59_999, 3_600_000, 3_599_999, 10, 7_200_000, 86_400_000, 5, 3_600_001];
      for (const offset of [...afters, ...afters.map((x) => x + 214 * 86_400_000)]) {
        const after = start + offset;
        const expected = fresh.nextRun(new Date(after))?.getTime();
        expect(a.next(after)).toBe(expected);
        expect(b.next(after + 1)).toBe(fresh.nextRun(new Date(after + 1))?.getTime());
        expect(a.next(after)).toBe(expected);
      }
    }
  });
});

describe('intervals', () => {
  it('aligns slots to the epoch so every host and restart agrees', () => {
    const q = intervalSlots(15 * 60_000);
    expect(q.next(t('2026-01-01T10:07:00Z'))).toBe(t('2026-01-01T10:15:00Z'));
    expect(q.next(t('2026-01-01T10:15:00Z'))).toBe(t('2026-01-01T10:30:00Z'));
    expect(q.latest(t('2026-01-01T10:15:00Z'), 2)).toEqual([
      t('2026-01-01T10:15:00Z'),
      t('2026-01-01T10:00:00Z'),
    ]);
    expect(q.count!(t('2026-01-01T10:00:00Z'), t('2026-01-01T11:00:00Z'))).toBe(4);
    expect(q.expression).toBe('every 15m');
  });

  it('formats durations compactly', () => {
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(86_400_000 + 1500)).toBe('1d1s500ms');
  });
});

// Every DST case compares two things: the slots are what the expression means (croner's rule:
// fixed-time jobs once per day, wildcard-hour jobs at each real hour), and `latest` (used for
// catch-up) agrees with `next` (used on time) on the same window, so no slot is doubled or lost
// between a host that stayed up and one that caught up.
describe('daylight saving time', () => {
  const cases: {
    title: string;
    cron: string;
    tz: string;
    from: string;
    to: string;
    expected: string[];
  }[] = [
    {
      title: 'Berlin spring-forward, hourly: 02:00 does not exist, every real hour fires once',
      cron: '0 * * * *',
      tz: 'Europe/Berlin',
      from: '2026-03-29T00:30:00+01:00',
      to: '2026-03-29T05:00:00+02:00',
      expected: ['2026-03-29 01:00', '2026-03-29 03:00', '2026-03-29 04:00', '2026-03-29 05:00'],
    },
    {
      title: 'Berlin spring-forward, daily 02:30: runs once, at the first valid time after the gap',
      cron: '30 2 * * *',
      tz: 'Europe/Berlin',
      from: '2026-03-28T00:00:00+01:00',
      to: '2026-03-30T23:00:00+02:00',
      expected: ['2026-03-28 02:30', '2026-03-29 03:00', '2026-03-30 02:30'],
    },
    {
      title: 'Berlin fall-back, hourly: the repeated 02:00 hour is two real hours, both fire',
      cron: '0 * * * *',
      tz: 'Europe/Berlin',
      from: '2026-10-25T00:30:00+02:00',
      to: '2026-10-25T04:00:00+01:00',
      expected: [
        '2026-10-25 01:00',
        '2026-10-25 02:00',
        '2026-10-25 02:00',
        '2026-10-25 03:00',
        '2026-10-25 04:00',
      ],
    },
    {
      title: 'Berlin fall-back, daily 02:30: runs once, not twice',
      cron: '30 2 * * *',
      tz: 'Europe/Berlin',
      from: '2026-10-24T00:00:00+02:00',
      to: '2026-10-26T23:00:00+01:00',
      expected: ['2026-10-24 02:30', '2026-10-25 02:30', '2026-10-26 02:30'],
    },
    {
      title: 'Berlin, daily 08:00 across both changes: once a day at 08:00 local',
      cron: '0 8 * * *',
      tz: 'Europe/Berlin',
      from: '2026-03-28T00:00:00+01:00',
      to: '2026-03-30T12:00:00+02:00',
      expected: ['2026-03-28 08:00', '2026-03-29 08:00', '2026-03-30 08:00'],
    },
    {
      title: 'New York spring-forward, hourly: 02:00 does not exist',
      cron: '0 * * * *',
      tz: 'America/New_York',
      from: '2026-03-08T00:30:00-05:00',
      to: '2026-03-08T04:00:00-04:00',
      expected: ['2026-03-08 01:00', '2026-03-08 03:00', '2026-03-08 04:00'],
    },
    {
      title: 'New York spring-forward, daily 02:30: once, at 03:00',
      cron: '30 2 * * *',
      tz: 'America/New_York',
      from: '2026-03-07T00:00:00-05:00',
      to: '2026-03-09T23:00:00-04:00',
      expected: ['2026-03-07 02:30', '2026-03-08 03:00', '2026-03-09 02:30'],
    },
    {
      title: 'New York fall-back, every 30 min: each real half hour fires once',
      cron: '*/30 * * * *',
      tz: 'America/New_York',
      from: '2026-11-01T00:45:00-04:00',
      to: '2026-11-01T02:00:00-05:00',
      expected: [
        '2026-11-01 01:00',
        '2026-11-01 01:30',
        '2026-11-01 01:00',
        '2026-11-01 01:30',
        '2026-11-01 02:00',
      ],
    },
    {
      title: 'New York fall-back, daily 01:30: once',
      cron: '30 1 * * *',
      tz: 'America/New_York',
      from: '2026-10-31T00:00:00-04:00',
      to: '2026-11-02T23:00:00-05:00',
      expected: ['2026-10-31 01:30', '2026-11-01 01:30', '2026-11-02 01:30'],
    },
  ];

  for (const c of cases) {
    it(c.title, () => {
      const source = cronSlots(c.cron, c.tz);
      const from = t(c.from);
      const to = t(c.to);
      const forward = walk(source, from, to);
      expect(local(forward, c.tz)).toEqual(c.expected);
      expect(new Set(forward).size).toBe(forward.length);
      const backward = source
        .latest(to, 100)
        .filter((s) => s > from)
        .reverse();
      expect(backward).toEqual(forward);
    });
  }
});
