import { describe, expect, it } from 'vitest';
import { AgentdError } from '../kernel/errors.js';
import { parseDuration, parseReminderTime, reminderTimeForm } from './reminders.js';
import { formatInZone, wallTimeToEpoch } from './time-zone.js';

const now = Date.parse('2026-07-01T10:00:00Z'); // 12:00 in Berlin, 06:00 in New York

function errorOf(fn: () => unknown): AgentdError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AgentdError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('parseDuration', () => {
  it('reads short and long units and combinations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('10 min')).toBe(600_000);
    expect(parseDuration('2 hours')).toBe(7_200_000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('10 parsecs')).toBeUndefined();
  });
});

describe('parseReminderTime', () => {
  it('reads relative times from now', () => {
    expect(parseReminderTime('in 10m', { now })).toBe(now + 600_000);
    expect(parseReminderTime('in 2h', { now })).toBe(now + 7_200_000);
    expect(parseReminderTime('in 1d', { now })).toBe(now + 86_400_000);
    expect(parseReminderTime('in 90s', { now })).toBe(now + 90_000);
    expect(parseReminderTime('  IN 1h30m ', { now })).toBe(now + 5_400_000);
  });

  it('reads HH:MM as today in the time zone, or tomorrow once passed', () => {
    const berlin = { now, timezone: 'Europe/Berlin' };
    expect(formatInZone(parseReminderTime('18:30', berlin), 'Europe/Berlin')).toBe(
      '2026-07-01 18:30',
    );
    expect(formatInZone(parseReminderTime('08:30', berlin), 'Europe/Berlin')).toBe(
      '2026-07-02 08:30',
    );
    expect(formatInZone(parseReminderTime('12:00', berlin), 'Europe/Berlin')).toBe(
      '2026-07-02 12:00',
    );
    expect(formatInZone(parseReminderTime('7:05:30', berlin), 'Europe/Berlin')).toBe(
      '2026-07-02 07:05:30',
    );
    const ny = { now, timezone: 'America/New_York' };
    expect(formatInZone(parseReminderTime('08:30', ny), 'America/New_York')).toBe(
      '2026-07-01 08:30',
    );
  });

  it('rolls HH:MM over month and year ends', () => {
    const lateNye = Date.parse('2026-12-31T23:00:00Z');
    expect(parseReminderTime('09:00', { now: lateNye, timezone: 'UTC' })).toBe(
      Date.parse('2027-01-01T09:00:00Z'),
    );
  });

  it('reads ISO-8601 date-times, in the time zone unless they carry an offset', () => {
    const tz = { now, timezone: 'Europe/Berlin' };
    expect(parseReminderTime('2026-07-01T18:00', tz)).toBe(Date.parse('2026-07-01T16:00:00Z'));
    expect(parseReminderTime('2026-07-01 18:00:30', tz)).toBe(Date.parse('2026-07-01T16:00:30Z'));
    expect(parseReminderTime('2026-07-01T18:00:00Z', tz)).toBe(Date.parse('2026-07-01T18:00:00Z'));
    expect(parseReminderTime('2026-07-01T18:00:00.250+05:30', tz)).toBe(
      Date.parse('2026-07-01T12:30:00.250Z'),
    );
    expect(parseReminderTime('2026-01-15T09:00', tz)).toBe(Date.parse('2026-01-15T08:00:00Z'));
  });

  it('resolves DST edge times like Temporal: a skipped time moves forward, a repeated one is the earlier', () => {
    const berlin = 'Europe/Berlin';
    expect(parseReminderTime('2026-03-29T02:30', { now, timezone: berlin })).toBe(
      Date.parse('2026-03-29T01:30:00Z'), // 03:30 CEST
    );
    expect(parseReminderTime('2026-10-25T02:30', { now, timezone: berlin })).toBe(
      Date.parse('2026-10-25T00:30:00Z'), // the first 02:30 (CEST)
    );
    const ny = 'America/New_York';
    expect(
      wallTimeToEpoch({ year: 2026, month: 11, day: 1, hour: 1, minute: 30, second: 0 }, ny),
    ).toBe(Date.parse('2026-11-01T05:30:00Z'));
  });

  it('reads today HH:MM and tomorrow HH:MM on that day, refusing a passed today', () => {
    const berlin = { now, timezone: 'Europe/Berlin' };
    const at = (text: string) => formatInZone(parseReminderTime(text, berlin), 'Europe/Berlin');
    expect(at('tomorrow 9:00')).toBe('2026-07-02 09:00');
    expect(at('Tomorrow 18:30')).toBe('2026-07-02 18:30');
    expect(at('today 18:30')).toBe('2026-07-01 18:30');
    expect(errorOf(() => parseReminderTime('today 08:00', berlin)).message).toContain(
      'that time has passed today',
    );
    expect(errorOf(() => parseReminderTime('tomorrow 24:00', berlin)).message).toContain(
      'hour 24 is past 23',
    );
    expect(reminderTimeForm('tomorrow 9:00')).toBe('clock');
  });

  it('gives E_BAD_TIME errors that list the accepted forms', () => {
    for (const bad of [
      'tomorrow',
      'tomorrow 9',
      'yesterday 9:00',
      'in a while',
      'in 10 parsecs',
      '25:00',
      '12:60',
      '2026-02-30T10:00',
      '2026-13-01T10:00',
      '2026-05-01',
      'in 0m',
      '',
    ]) {
      const error = errorOf(() => parseReminderTime(bad, { now, timezone: 'UTC' }));
      expect(error.code).toBe('E_BAD_TIME');
      expect(error.message).toContain(`cannot read "${bad}" as a time`);
      expect(error.message).toContain('HH:MM');
      expect(error.message).toContain('ISO-8601');
      expect(error.message).toContain('in 10m');
    }
    expect(errorOf(() => parseReminderTime('25:00', { now })).message).toContain(
      'hour 25 is past 23',
    );
    expect(errorOf(() => parseReminderTime('2026-02-30T10:00', { now })).message).toContain(
      'day 30 does not exist in 2026-02',
    );
  });

  it('refuses an unknown time zone clearly', () => {
    const error = errorOf(() => parseReminderTime('08:00', { now, timezone: 'Europe/Atlantis' }));
    expect(error.code).toBe('E_BAD_TIME');
    expect(error.message).toContain('unknown time zone "Europe/Atlantis"');
  });

  it('classifies forms without reading them', () => {
    expect(reminderTimeForm('in 10m')).toBe('relative');
    expect(reminderTimeForm('08:30')).toBe('clock');
    expect(reminderTimeForm('2026-05-01T09:00')).toBe('iso');
    expect(reminderTimeForm('whenever')).toBeUndefined();
  });
});
