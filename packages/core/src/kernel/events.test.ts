import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../testing/memory-logger.js';
import { EventBus } from './events.js';

describe('EventBus', () => {
  it('delivers typed payloads to every subscriber in order, and unsubscribes', () => {
    const bus = new EventBus(memoryLogger().logger);
    const seen: string[] = [];
    const off = bus.on('heartbeat', ({ at }) => {
      seen.push(`a${at}`);
    });
    bus.on('heartbeat', ({ at }) => {
      seen.push(`b${at}`);
    });
    bus.emit('heartbeat', { at: 1 });
    off();
    bus.emit('heartbeat', { at: 2 });
    expect(seen).toEqual(['a1', 'b1', 'b2']);
  });

  it('logs a throwing or rejecting handler and still reaches the others', async () => {
    const { logger, lines } = memoryLogger();
    const bus = new EventBus(logger);
    let reached = 0;
    bus.on('heartbeat', () => {
      throw new Error('sync boom');
    });
    bus.on('heartbeat', async () => {
      throw new Error('async boom');
    });
    bus.on('heartbeat', () => {
      reached++;
    });
    expect(() => bus.emit('heartbeat', { at: 0 })).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(reached).toBe(1);
    const errors = lines().filter((l) => l.level === 50);
    expect(errors.map((l) => (l.err as { message: string }).message).sort()).toEqual([
      'async boom',
      'sync boom',
    ]);
    expect(errors[0]?.event).toBe('heartbeat');
  });

  it('once() fires a single time; next() resolves with the next payload', async () => {
    const bus = new EventBus(memoryLogger().logger);
    let count = 0;
    bus.once('heartbeat', () => {
      count++;
    });
    const next = bus.next('heartbeat');
    bus.emit('heartbeat', { at: 7 });
    bus.emit('heartbeat', { at: 8 });
    expect(count).toBe(1);
    await expect(next).resolves.toEqual({ at: 7 });
    expect(bus.listenerCount('heartbeat')).toBe(0);
  });

  it('an emit reaches the handlers subscribed when it began: one added or removed meanwhile counts from the next', () => {
    const bus = new EventBus(memoryLogger().logger);
    const seen: string[] = [];
    const late = () => {
      seen.push('late');
    };
    let offSecond = () => {};
    bus.on('heartbeat', ({ at }) => {
      seen.push(`first${at}`);
      if (at === 1) {
        bus.on('heartbeat', late);
        offSecond();
      }
    });
    offSecond = bus.on('heartbeat', ({ at }) => {
      seen.push(`second${at}`);
    });
    bus.emit('heartbeat', { at: 1 });
    bus.emit('heartbeat', { at: 2 });
    expect(seen).toEqual(['first1', 'second1', 'first2', 'late']);
  });

  it('a handler subscribed twice is called once, and one unsubscribe removes it', () => {
    const bus = new EventBus(memoryLogger().logger);
    let calls = 0;
    const handler = () => {
      calls++;
    };
    const off = bus.on('heartbeat', handler);
    bus.on('heartbeat', handler);
    expect(bus.listenerCount('heartbeat')).toBe(1);
    bus.emit('heartbeat', { at: 1 });
    off();
    bus.emit('heartbeat', { at: 2 });
    expect(calls).toBe(1);
    expect(bus.listenerCount('heartbeat')).toBe(0);
  });
});
