import { describe, expect, it } from 'vitest';
import { sharedDeadline, withDeadline } from './signals.js';

const aborted = (signal: AbortSignal) =>
  new Promise<number>((resolve) => {
    const started = Date.now();
    signal.addEventListener('abort', () => resolve(Date.now() - started), { once: true });
  });

describe('sharedDeadline', () => {
  it('gives the calls of one second one signal, and a later second its own', () => {
    const start = Math.ceil(Date.now() / 1000) * 1000 + 5_000;
    const a = sharedDeadline(45_000, start + 10);
    const b = sharedDeadline(45_000, start + 900);
    const c = sharedDeadline(45_000, start + 1_010);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(a.aborted).toBe(false);
  });

  it('aborts at the deadline rounded up to the next second, never before', async () => {
    const waited = await aborted(sharedDeadline(100));
    expect(waited).toBeGreaterThanOrEqual(95);
    expect(waited).toBeLessThan(1_500);
  });

  it('takes a listener per call in flight without a leak warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const signal = sharedDeadline(45_000);
      const listeners = Array.from({ length: 50 }, () => () => {});
      for (const listener of listeners) signal.addEventListener('abort', listener);
      await new Promise((resolve) => setImmediate(resolve));
      for (const listener of listeners) signal.removeEventListener('abort', listener);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('withDeadline', () => {
  it('aborts with the caller’s signal, or at the deadline', async () => {
    const caller = new AbortController();
    const combined = withDeadline(caller.signal, 45_000);
    expect(combined.aborted).toBe(false);
    caller.abort();
    expect(combined.aborted).toBe(true);
    const waited = await aborted(withDeadline(undefined, 50));
    expect(waited).toBeLessThan(1_500);
  });
});
