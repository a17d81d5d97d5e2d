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
        dedupeKey: 'monitor:disk:/',
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
    expect(watch.alerting()).toEqual(['disk:/']);
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
    expect(watch.evaluate([disk(90 - RECOVERY_MARGIN + 1)], MIN)).toEqual([]);
    expect(watch.alerting()).toEqual(['disk:/']);
    expect(watch.evaluate([disk(80)], 2 * MIN)).toEqual([
      {
        severity: 'info',
        title: 'Disk / back to 80%',
        message: 'detail',
        dedupeKey: 'monitor:disk:/:recovered',
      },
    ]);
    expect(watch.alerting()).toEqual([]);
    expect(watch.evaluate([disk(80)], 3 * MIN)).toEqual([]);
  });
});
