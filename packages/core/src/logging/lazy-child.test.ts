import { describe, expect, it } from 'vitest';
import type { Logger } from '../contracts/logger.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { lazyChild } from './lazy-child.js';

/** A logger that counts the children made from it, writing to a memory logger. */
function countingParent() {
  const memory = memoryLogger('trace');
  let children = 0;
  // The memory logger itself, but counting the children made from it.
  const parent: Logger = Object.create(memory.logger);
  parent.child = (bindings) => {
    children++;
    return memory.logger.child(bindings);
  };
  return { parent, lines: memory.lines, children: () => children };
}

describe('lazyChild', () => {
  it('makes the child only when a line is written, once', () => {
    const { parent, lines, children } = countingParent();
    const log = lazyChild(parent, { task: 'abc1', agent: 'writer' });
    expect(children()).toBe(0);
    log.info('first');
    log.warn({ attempt: 2 }, 'second');
    expect(children()).toBe(1);
    expect(lines()).toMatchObject([
      { level: 30, msg: 'first', task: 'abc1', agent: 'writer' },
      { level: 40, msg: 'second', attempt: 2, task: 'abc1', agent: 'writer' },
    ]);
  });

  it('works detached, as handlers passed around are used', async () => {
    const { parent, lines } = countingParent();
    const log = lazyChild(parent, { task: 'd' });
    const { info } = log;
    info('detached');
    await Promise.reject(new Error('late')).catch(log.error);
    expect(lines()).toMatchObject([
      { level: 30, msg: 'detached', task: 'd' },
      { level: 50, task: 'd', err: { message: 'late' } },
    ]);
    expect(log.info).toBe(log.info);
  });

  it('writes every level and nests children with both sets of bindings', () => {
    const { parent, lines } = countingParent();
    const log = lazyChild(parent, { task: 't' });
    log.trace('t');
    log.debug('d');
    log.error({ err: new Error('boom') }, 'e');
    log.fatal('f');
    log.child({ step: 'fetch' }).info('nested');
    expect(lines().map((l) => [l.level, l.msg])).toEqual([
      [10, 't'],
      [20, 'd'],
      [50, 'e'],
      [60, 'f'],
      [30, 'nested'],
    ]);
    expect(lines()[2]?.err).toMatchObject({ message: 'boom' });
    expect(lines()[4]).toMatchObject({ task: 't', step: 'fetch' });
  });
});
