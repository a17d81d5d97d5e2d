import { describe, expect, it } from 'vitest';
import type { Task } from '../contracts/task.js';
import { systemClock } from '../kernel/system-clock.js';
import { silentLogger } from '../logging/create-logger.js';
import { AgentContext } from './agent-context.js';
import { RunControl } from './run-control.js';

const task = { id: 'abc1', input: 'hi' } as Task;

describe('AgentContext', () => {
  it('asks its source for the signal only when read, and then gives the run signal', () => {
    let reads = 0;
    const control = new RunControl();
    const source = {
      get signal() {
        reads++;
        return control.signal;
      },
    };
    const ctx = new AgentContext(task, source, silentLogger(), systemClock);
    expect(reads).toBe(0);
    const reason = new Error('cancelled');
    control.abort(reason);
    const signal = ctx.signal;
    expect(reads).toBe(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
  });

  it('copies like a plain object: a spread keeps the signal, and only the fields it has', () => {
    const control = new RunControl();
    const ctx = new AgentContext(task, control, silentLogger(), systemClock);
    const copy = { ...ctx, logger: silentLogger() };
    expect(Object.keys(ctx)).toEqual(['task', 'signal', 'logger', 'clock']);
    expect(JSON.parse(JSON.stringify({ ...ctx, signal: 's', logger: 'l', clock: 'c' }))).toEqual({
      task,
      signal: 's',
      logger: 'l',
      clock: 'c',
    });
    expect(copy.signal).toBe(control.signal);
    expect(copy.task).toBe(task);
    expect('session' in ctx).toBe(false);
    // Read through a proxy or a derived object, as some agent wrappers do.
    expect(new Proxy(ctx, {}).signal).toBe(control.signal);
    expect((Object.create(ctx) as AgentContext).signal).toBe(control.signal);
    ctx.session = { id: 's1' } as never;
    expect(Object.keys(ctx)).toContain('session');
  });
});
