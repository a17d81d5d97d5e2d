import { describe, expect, it } from 'vitest';
import { RECOVERY_MARGIN, type Reading, ThresholdWatch } from './thresholds.js';

const MIN = 60_000;
const disk = (value: number): Reading => ({
  key: 'disk:/',
  label: 'Disk /',
  value,
  threshold: 90,
  samplesNeeded: 1,
  criticalAt: 95,
  detail: 'detail',
});
const cpu = (value: number): Reading => ({
  key: 'cpu',
  label: 'CPU',
  value,
  threshold: 85,
  samplesNeeded: 3,
  detail: 'load',
});

describe('ThresholdWatch', () => {
  it('raises a warning at the threshold, critical from criticalAt, and names the value', () => {
    const watch = new ThresholdWatch(30 * MIN);
    expect(watch.evaluate([disk(89.9)], 0)).toEqual([]);
    expect(watch.evaluate([disk(91.2)], MIN)).toEqual([
      {
        severity: 'warning',
        title: 'Disk / at 91% (threshold 90%)',
        message: 'detail',
        dedupeKey: `monitor:disk:/:${MIN}:warning`,
      },
    ]);
    const other = new ThresholdWatch(30 * MIN);
    expect(other.evaluate([disk(97)], 0)[0]?.severity).toBe('critical');
  });

  it('repeats an alert only after the repeat interval while the value stays high', () => {
    const watch = new ThresholdWatch(30 * MIN);
    expect(watch.evaluate([disk(92)], 0)).toHaveLength(1);
    expect(watch.evaluate([disk(93)], 10 * MIN)).toEqual([]);
    expect(watch.evaluate([disk(93)], 29 * MIN)).toEqual([]);
    expect(watch.evaluate([disk(93)], 30 * MIN)).toHaveLength(1);
    expect(watch.over()).toEqual(['disk:/']);
  });

  it('waits for samplesNeeded samples in a row, and a dip starts the count over', () => {
    const watch = new ThresholdWatch(30 * MIN);
    expect(watch.evaluate([cpu(99)], 0)).toEqual([]);
    expect(watch.evaluate([cpu(99)], MIN)).toEqual([]);
    expect(watch.evaluate([cpu(40)], 2 * MIN)).toEqual([]);
    expect(watch.evaluate([cpu(99)], 3 * MIN)).toEqual([]);
    expect(watch.evaluate([cpu(99)], 4 * MIN)).toEqual([]);
    expect(watch.evaluate([cpu(99)], 5 * MIN)).toEqual([
      expect.objectContaining({ severity: 'warning', title: 'CPU at 99% (threshold 85%)' }),
    ]);
  });

  it('says a value recovered only once it is clearly below the threshold', () => {
    const watch = new ThresholdWatch(30 * MIN);
    watch.evaluate([disk(92)], 0);
    // Below the threshold but within the margin: not over any more, not recovered either.
    expect(watch.evaluate([disk(90 - RECOVERY_MARGIN + 1)], MIN)).toEqual([]);
    expect(watch.over()).toEqual([]);
    expect(watch.evaluate([disk(80)], 2 * MIN)).toEqual([
      {
        severity: 'info',
        title: 'Disk / back to 80%',
        message: 'detail',
        dedupeKey: 'monitor:disk:/:0:recovered',
      },
    ]);
    expect(watch.evaluate([disk(80)], 3 * MIN)).toEqual([]);
  });

  it('raises critical at once when a warning grows worse', () => {
    const watch = new ThresholdWatch(30 * MIN);
    expect(watch.evaluate([disk(91)], 0).map((a) => a.severity)).toEqual(['warning']);
    expect(watch.evaluate([disk(93)], MIN)).toEqual([]);
    expect(watch.evaluate([disk(99)], 2 * MIN).map((a) => a.severity)).toEqual(['critical']);
    expect(watch.evaluate([disk(99.5)], 3 * MIN)).toEqual([]);
  });

  it('gives a new episode new dedupe keys, so a cooldown cannot swallow it', () => {
    const watch = new ThresholdWatch(30 * MIN);
    const first = watch.evaluate([disk(91)], 0);
    watch.evaluate([disk(80)], MIN);
    const second = watch.evaluate([disk(92)], 2 * MIN);
    expect(second).toHaveLength(1);
    expect(second[0]?.dedupeKey).not.toBe(first[0]?.dedupeKey);
  });
});
