import { describe, expect, it } from 'vitest';
import { dueSlots, planCatchUp } from './catch-up.js';
import { cronSlots, intervalSlots } from './cron.js';

const t = (hhmm: string) => Date.parse(`2026-01-01T${hhmm}:00Z`);
const hourly = cronSlots('0 * * * *', 'UTC');
const GRACE = 5 * 60_000;

describe('dueSlots', () => {
  it('returns the slots in (cursor, now], oldest first', () => {
    expect(dueSlots(hourly, t('10:00'), t('13:30'))).toEqual({
      slots: [t('11:00'), t('12:00'), t('13:00')],
      hidden: 0,
      truncated: false,
    });
    expect(dueSlots(hourly, t('10:00'), t('10:59')).slots).toEqual([]);
    expect(dueSlots(hourly, t('10:00'), t('11:00')).slots).toEqual([t('11:00')]);
  });

  it('examines at most `limit` slots: intervals count the rest, cron reports a lower bound', () => {
    const everyMinute = intervalSlots(60_000);
    const counted = dueSlots(everyMinute, t('00:00'), t('10:00'), 50);
    expect(counted.slots).toHaveLength(50);
    expect(counted.slots.at(-1)).toBe(t('10:00'));
    expect(counted.hidden).toBe(600 - 50);
    expect(counted.truncated).toBe(false);

    const cronMinute = cronSlots('* * * * *', 'UTC');
    const bounded = dueSlots(cronMinute, t('00:00'), t('10:00'), 50);
    expect(bounded.slots).toHaveLength(50);
    expect(bounded.truncated).toBe(true);

    // Exactly `limit` due slots is not truncation.
    expect(dueSlots(cronMinute, t('09:10'), t('10:00'), 50)).toMatchObject({ truncated: false });
  });
});

describe('planCatchUp: host down 10:30-13:30 over an hourly job (last fired 10:00)', () => {
  const base = { source: hourly, cursor: t('10:00'), now: t('13:30'), graceMs: GRACE };

  it('skip: fires nothing old; 11:00, 12:00, 13:00 are missed', () => {
    expect(planCatchUp({ ...base, policy: 'skip' })).toEqual({
      fire: [],
      missed: [t('11:00'), t('12:00'), t('13:00')],
      missedCount: 3,
      truncated: false,
      cursor: t('13:00'),
    });
  });

  it('latest: fires 13:00 once, late; 11:00 and 12:00 are missed', () => {
    expect(planCatchUp({ ...base, policy: 'latest' })).toMatchObject({
      fire: [{ slot: t('13:00'), late: true }],
      missed: [t('11:00'), t('12:00')],
      missedCount: 2,
    });
  });

  it('all: fires the three slots oldest first; nothing is missed', () => {
    expect(
      planCatchUp({ ...base, policy: { policy: 'all', windowMs: 24 * 3_600_000 } }),
    ).toMatchObject({
      fire: [
        { slot: t('11:00'), late: true },
        { slot: t('12:00'), late: true },
        { slot: t('13:00'), late: true },
      ],
      missed: [],
      missedCount: 0,
    });
  });

  it('all with a 2 h window: only slots within it fire, older ones are missed', () => {
    expect(
      planCatchUp({ ...base, policy: { policy: 'all', windowMs: 2 * 3_600_000 } }),
    ).toMatchObject({
      fire: [
        { slot: t('12:00'), late: true },
        { slot: t('13:00'), late: true },
      ],
      missed: [t('11:00')],
    });
  });
});

describe('planCatchUp: on-time slots', () => {
  it('fires the newest slot on time under every policy when it is within the grace period', () => {
    for (const policy of ['skip', 'latest', { policy: 'all', windowMs: 3_600_000 }] as const) {
      const plan = planCatchUp({
        source: hourly,
        cursor: t('10:00'),
        now: t('13:02'),
        graceMs: GRACE,
        policy,
      });
      expect(plan.fire.at(-1)).toEqual({ slot: t('13:00'), late: false });
    }
  });

  it('latest with an on-time slot runs once: the on-time slot stands for the missed ones', () => {
    const plan = planCatchUp({
      source: hourly,
      cursor: t('10:00'),
      now: t('13:00'),
      graceMs: GRACE,
      policy: 'latest',
    });
    expect(plan.fire).toEqual([{ slot: t('13:00'), late: false }]);
    expect(plan.missed).toEqual([t('11:00'), t('12:00')]);
  });

  it('does nothing when no slot is due and keeps the cursor', () => {
    const plan = planCatchUp({
      source: hourly,
      cursor: t('10:00'),
      now: t('10:59'),
      graceMs: GRACE,
      policy: 'latest',
    });
    expect(plan).toEqual({
      fire: [],
      missed: [],
      missedCount: 0,
      truncated: false,
      cursor: t('10:00'),
    });
  });
});
