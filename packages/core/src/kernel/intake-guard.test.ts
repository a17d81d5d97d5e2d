import { describe, expect, it, vi } from 'vitest';
import type { Alert } from '../contracts/notifier.js';
import { SessionError } from '../sessions/manager.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { type MemoryStore, openMemoryStore } from '../testing/memory-store.js';
import {
  AgentdError,
  IntakeClosedError,
  InvalidInputError,
  PayloadTooLargeError,
} from './errors.js';
import { EventBus } from './events.js';
import { classifyIntakeError, formatSize, IntakeGuard } from './intake-guard.js';
import { systemClock } from './system-clock.js';

const sqliteError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('classifyIntakeError: one rule for every channel', () => {
  const cases: [string, unknown, boolean, string][] = [
    ['a validation error', new AgentdError('E_INVALID_TASK', 'bad'), true, 'E_INVALID_TASK'],
    ['malformed input', new InvalidInputError('no chat'), true, 'E_INVALID_INPUT'],
    ['an unknown agent', new AgentdError('E_UNKNOWN_AGENT', 'x'), true, 'E_UNKNOWN_AGENT'],
    ['no agent at all', new AgentdError('E_NO_AGENT', 'x'), true, 'E_NO_AGENT'],
    ['too large', new PayloadTooLargeError(2_000_000, 1_048_576, 'big'), true, 'E_INVALID_TASK'],
    [
      'an error marked not retryable',
      new SessionError('E_RESUME_FAILED', 'x'),
      true,
      'E_RESUME_FAILED',
    ],
    [
      'a constraint violation',
      sqliteError('SQLITE_CONSTRAINT_CHECK', 'x'),
      true,
      'SQLITE_CONSTRAINT_CHECK',
    ],
    ['a TypeError on a malformed shape', new TypeError('cannot read id'), true, 'E_TYPEERROR'],
    ['the store busy', sqliteError('SQLITE_BUSY', 'database is locked'), false, 'SQLITE_BUSY'],
    ['the disk full', sqliteError('SQLITE_FULL', 'database or disk is full'), false, 'SQLITE_FULL'],
    [
      'an IO error',
      sqliteError('SQLITE_IOERR_WRITE', 'disk I/O error'),
      false,
      'SQLITE_IOERR_WRITE',
    ],
    ['ENOSPC', sqliteError('ENOSPC', 'no space left'), false, 'ENOSPC'],
    ['the store not open', new AgentdError('E_STORE_NOT_OPEN', 'x'), false, 'E_STORE_NOT_OPEN'],
    ['anything unknown', new Error('mystery'), false, 'E_INTAKE'],
  ];
  it.each(cases)('%s', (_name, error, permanent, code) => {
    expect(classifyIntakeError(error)).toMatchObject({ permanent, code });
  });

  it('tells the sender how large a too-large message was, and what the limit is', () => {
    const failure = classifyIntakeError(new PayloadTooLargeError(2_000_000, 1024 * 1024, 'x'));
    expect(failure.reply).toBe('That message is too long (1.9 MiB, limit 1 MiB).');
    expect(formatSize(640 * 1024)).toBe('640 KiB');
    expect(formatSize(12)).toBe('12 bytes');
  });

  it('passes on a reply an error carries for the sender', () => {
    expect(
      classifyIntakeError(new InvalidInputError('x', { reply: 'Say it in text.' })).reply,
    ).toBe('Say it in text.');
  });
});

describe('IntakeGuard', () => {
  let store: MemoryStore | undefined;

  function guard(): { guard: IntakeGuard; alerts: Alert[]; logs: () => string } {
    store = openMemoryStore();
    const s = store;
    const { logger, text } = memoryLogger();
    const events = new EventBus(logger);
    const alerts: Alert[] = [];
    events.on('alert', (a) => void alerts.push(a));
    return {
      guard: new IntakeGuard({
        store: () => s.tasks,
        notifier: () => undefined,
        events,
        logger,
        clock: systemClock,
        retryDelaysMs: [5, 10, 20],
      }),
      alerts,
      logs: text,
    };
  }
  const source = { channel: 'test', key: 'test:1', raw: () => '{"n":1}' };

  it('returns the work’s value on success, and keeps nothing', async () => {
    const { guard: g, alerts } = guard();
    expect(await g.take(source, async () => 7)).toEqual({ ok: true, value: 7 });
    expect(await store!.tasks.countOpenDeadLetters()).toBe(0);
    expect(alerts).toEqual([]);
  });

  it('never retries a permanent failure: one try, one dead letter, one alert', async () => {
    const { guard: g, alerts } = guard();
    let tries = 0;
    const outcome = await g.take(source, async () => {
      tries++;
      throw new InvalidInputError('the message has no chat');
    });
    expect(tries).toBe(1);
    expect(outcome).toMatchObject({
      ok: false,
      failure: { permanent: true, code: 'E_INVALID_INPUT' },
      deadLetter: { channel: 'test', key: 'test:1', raw: '{"n":1}', status: 'open' },
    });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'warning', source: 'test' });
    // The same input again is the same letter, and no second alert.
    await g.take(source, async () => {
      throw new InvalidInputError('the message has no chat');
    });
    expect(await store!.tasks.countOpenDeadLetters()).toBe(1);
    expect(alerts).toHaveLength(1);
  });

  it('retries a transient failure a bounded number of times, and takes the input once it heals', async () => {
    const { guard: g, logs } = guard();
    let tries = 0;
    const outcome = await g.take(source, async () => {
      if (++tries < 3) throw sqliteError('SQLITE_BUSY', 'database is locked');
      return 'stored';
    });
    expect(outcome).toEqual({ ok: true, value: 'stored' });
    expect(tries).toBe(3);
    expect(logs()).toContain('could not take in a test input (database is locked); retrying');
    expect(await store!.tasks.countOpenDeadLetters()).toBe(0);
  });

  it('dead-letters a transient failure that does not heal, after the last retry', async () => {
    const { guard: g } = guard();
    let tries = 0;
    const outcome = await g.take(source, async () => {
      tries++;
      throw sqliteError('SQLITE_FULL', 'database or disk is full');
    });
    expect(tries).toBe(4);
    expect(outcome).toMatchObject({
      ok: false,
      failure: { permanent: false, code: 'SQLITE_FULL' },
      deadLetter: { code: 'SQLITE_FULL', reason: 'database or disk is full' },
    });
  });

  it('rejects when the host stops, and when there is nowhere to keep the letter', async () => {
    const { guard: g } = guard();
    await expect(
      g.take(source, async () => {
        throw new IntakeClosedError();
      }),
    ).rejects.toBeInstanceOf(IntakeClosedError);
    expect(await store!.tasks.countOpenDeadLetters()).toBe(0);

    // The store fails too (closed, or its disk full): there is nowhere to keep the letter.
    vi.spyOn(store!.tasks, 'addDeadLetter').mockRejectedValue(new Error('the store is closed'));
    const cause = new InvalidInputError('bad');
    // The input stays with its sender (not confirmed), who delivers it again later.
    await expect(
      g.take(source, async () => {
        throw cause;
      }),
    ).rejects.toBe(cause);
  });
});
