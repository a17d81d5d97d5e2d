import { describe, expect, it } from 'vitest';
import type { InboundMessage } from '../contracts/channel.js';
import type { TaskQueue } from '../contracts/task.js';
import { EventBus } from '../kernel/events.js';
import { DefaultInboundRouter } from '../kernel/inbound-router.js';
import { IntakeGate } from '../kernel/intake.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { SessionError, type SessionManager } from './manager.js';
import { sessionCommands } from './plugin.js';

/** The manager calls the commands make, answered like a manager with one session `work`. */
function recordingManager() {
  const calls: unknown[][] = [];
  const session = { name: 'work', agent: 'claude', status: 'live' };
  /** Records a call, then answers `result`. */
  const recorded =
    (name: string, result: unknown) =>
    async (...args: unknown[]) => {
      calls.push([name, ...args]);
      return result;
    };
  const manager = {
    list: recorded('list', []),
    create: recorded('create', session),
    switch: async (...args: unknown[]) => {
      calls.push(['switch', ...args]);
      if (args[1] !== 'work')
        throw new SessionError('E_NO_SESSION', `no session named "${args[1]}"`);
      return session;
    },
    setIdleTimeout: recorded('timeout', session),
    archive: recorded('archive', session),
  } as unknown as SessionManager;
  return { manager, calls };
}

function routerWith(manager: SessionManager) {
  const gate = new IntakeGate();
  gate.open();
  const enqueued: unknown[] = [];
  const queue = {
    enqueue: async (task: unknown) => {
      enqueued.push(task);
      return { task: { id: 't' }, created: true };
    },
  } as unknown as TaskQueue;
  const router = new DefaultInboundRouter(gate, new EventBus(memoryLogger().logger), () => queue);
  for (const middleware of sessionCommands(manager)) router.use(middleware);
  let id = 0;
  const say = (text: string, botName?: string) =>
    router.dispatch({
      id: String(++id),
      from: { channel: 'telegram', id: '-100' },
      sender: { id: '42' },
      text,
      receivedAt: 0,
      ...(botName !== undefined && { botName }),
    } satisfies InboundMessage);
  return { router, say, enqueued };
}

describe('session commands on the inbound chain', () => {
  it('answers each command, also addressed to this bot in a group, with the same replies', async () => {
    const { manager, calls } = recordingManager();
    const { say, enqueued } = routerWith(manager);
    expect(await say('/sessions')).toEqual({
      outcome: 'handled',
      reply: 'No sessions yet; send a message to start one.',
    });
    expect((await say('/new@My_Bot work claude a careful reviewer', 'my_bot')).reply).toBe(
      'Created session "work" (agent claude); it is now active.',
    );
    expect((await say('/switch work')).reply).toBe('Switched to session "work" (live).');
    expect((await say('/timeout 15 work')).reply).toBe(
      'Session "work" now suspends after 15 min idle.',
    );
    expect((await say('/archive work')).reply).toBe('Archived session "work".');
    expect(calls).toEqual([
      ['list', 'telegram:-100'],
      [
        'create',
        { channel: 'telegram', id: '-100' },
        { name: 'work', agent: 'claude', persona: 'a careful reviewer' },
      ],
      ['switch', 'telegram:-100', 'work'],
      ['timeout', 'telegram:-100', 15, 'work'],
      ['archive', 'telegram:-100', 'work'],
    ]);
    expect(enqueued).toEqual([]);
  });

  it('answers a refusal with its message and a missing name with the help line', async () => {
    const { manager } = recordingManager();
    const { say } = routerWith(manager);
    expect((await say('/switch nope')).reply).toBe('no session named "nope"');
    expect((await say('/new')).reply).toMatch(/^Sessions: \/sessions, \/new NAME/);
  });

  it('leaves another bot’s command alone and lists the commands for menus', async () => {
    const { manager, calls } = recordingManager();
    const { router, say, enqueued } = routerWith(manager);
    expect(await say('/sessions@other_bot', 'my_bot')).toEqual({ outcome: 'ignored' });
    // Not a session command: it becomes a task like any text.
    expect((await say('/sessionsx')).outcome).toBe('accepted');
    expect(calls).toEqual([]);
    expect(enqueued).toHaveLength(1);
    expect(router.commands().map((c) => c.name)).toEqual([
      'sessions',
      'new',
      'switch',
      'timeout',
      'archive',
    ]);
  });
});
