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

  it('race rejects with the reason when aborted, before or during the work', async () => {
    const control = new RunControl();
    const never = new Promise<string>(() => {});
    const waiting = control.race(never);
    const reason = new Error('lease lost');
    control.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(control.race(Promise.resolve('late'))).rejects.toBe(reason);
    // Work that fails after the abort does not surface as an unhandled rejection.
    await expect(control.race(Promise.reject(new Error('ignored')))).rejects.toBe(reason);
  });

  it('race settles as the work does while the run is not aborted', async () => {
    const control = new RunControl();
    await expect(control.race(Promise.resolve('done'))).resolves.toBe('done');
    // An agent that returns a value instead of a promise still works.
    await expect(control.race({ output: 'plain' })).resolves.toEqual({ output: 'plain' });
    const failure = new Error('agent failed');
    await expect(control.race(Promise.reject(failure))).rejects.toBe(failure);
    const slow = control.race(new Promise((resolve) => setTimeout(() => resolve('slow'), 20)));
    const outcome = await Promise.race([
      slow.then(
        () => 'settled',
        () => 'settled',
      ),
      new Promise((resolve) => setTimeout(() => resolve('pending'), 5)),
    ]);
    expect(outcome).toBe('pending');
    await expect(slow).resolves.toBe('slow');
    expect(control.aborted).toBe(false);
    expect(control.reason).toBeUndefined();
  });
});
