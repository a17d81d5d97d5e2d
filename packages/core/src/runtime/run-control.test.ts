import { describe, expect, it } from 'vitest';
import { RunControl } from './run-control.js';

describe('RunControl', () => {
  it('aborts a signal read before the abort, with the reason', () => {
    const control = new RunControl();
    const { signal } = control;
    const reason = new Error('cancelled');
    control.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
    expect(control.aborted).toBe(true);
    expect(control.reason).toBe(reason);
  });

  it('hands out an already aborted signal when first read after the abort', () => {
    const control = new RunControl();
    const reason = new Error('timed out');
    control.abort(reason);
    expect(control.signal.aborted).toBe(true);
    expect(control.signal.reason).toBe(reason);
  });

  it('keeps the first reason when aborted twice', () => {
    const control = new RunControl();
    const first = new Error('first');
    control.abort(first);
    control.abort(new Error('second'));
    expect(control.reason).toBe(first);
    expect(control.signal.reason).toBe(first);
  });

  it('whenAborted rejects with the reason, before or after the abort', async () => {
    const control = new RunControl();
    const waiting = control.whenAborted();
    const reason = new Error('lease lost');
    control.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(control.whenAborted()).rejects.toBe(reason);
  });

  it('whenAborted stays pending while the run is not aborted', async () => {
    const control = new RunControl();
    const outcome = await Promise.race([
      control.whenAborted().then(
        () => 'settled',
        () => 'settled',
      ),
      new Promise((resolve) => setTimeout(() => resolve('pending'), 20)),
    ]);
    expect(outcome).toBe('pending');
    expect(control.aborted).toBe(false);
    expect(control.reason).toBeUndefined();
  });
});
