import { afterEach, describe, expect, it } from 'vitest';
import { ChannelRegistryToken, InboundRouterToken } from '../contracts/channel.js';
import type { Task, TaskStore } from '../contracts/task.js';
import { failover } from '../failover/plugin.js';
import type { Host } from '../kernel/host.js';
import { createHost } from '../preset/host.js';
import { agent } from '../runtime/function-agent.js';
import { TurnSlot } from '../runtime/turn-handoff.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { type MemoryStore, memoryStore, openMemoryStore } from '../testing/memory-store.js';
import { withoutFastPaths } from '../testing/without-fast-paths.js';
import { sessions } from './plugin.js';

// A session run's end (its turn) is handed to its task's completion: one write for both where
// the task store can (completeTurnAndClaim), and the session's lock held until it is written.

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop('test end')));
});

/** Counts the store calls that write a turn or a completion. */
function counting(tasks: TaskStore, counts: Map<string, number>): TaskStore {
  return new Proxy(tasks, {
    get: (target, key) => {
      const value = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        counts.set(String(key), (counts.get(String(key)) ?? 0) + 1);
        return value.apply(target, args);
      };
    },
  });
}

async function harness(options: { store?: MemoryStore; slowMs?: number; timeoutMs?: number }) {
  const store = options.store ?? openMemoryStore();
  const seen: string[][] = [];
  const host = createHost({
    logger: memoryLogger().logger,
    runner: {
      pollMs: 3_600_000,
      recoverEveryMs: 3_600_000,
      ...(options.timeoutMs !== undefined && { taskTimeoutMs: options.timeoutMs }),
    },
    agents: [
      agent('echo', async (input, ctx) => {
        // What the agent is offered: the turns recorded before this run.
        const history = (await ctx.history?.(50)) ?? [];
        seen.push(history.map((e) => e.content));
        if (options.slowMs) await new Promise((r) => setTimeout(r, options.slowMs));
        return `re: ${String(input)}`;
      }),
    ],
    plugins: [
      memoryStore({ store }),
      failover({ failover: { retries: 0 } }),
      sessions(),
      {
        name: 'chat',
        register: (ctx) =>
          ctx.resolve(ChannelRegistryToken).add({
            name: 'chat',
            send: async () => ({ ids: [] }),
          }),
      },
    ],
  });
  hosts.push(host);
  await host.start();
  let n = 0;
  const ended = (taskId: string) =>
    new Promise<Task>((resolve) => {
      const offs = [
        host.events.on('task.completed', (e) => {
          if (e.task.id !== taskId) return;
          for (const o of offs) o();
          resolve(e.task);
        }),
        host.events.on('task.failed', (e) => {
          if (e.task.id !== taskId) return;
          for (const o of offs) o();
          resolve(e.task);
        }),
      ];
    });
  const say = async (text: string): Promise<string> => {
    const receipt = await host.resolve(InboundRouterToken).dispatch({
      id: `m${++n}`,
      from: { channel: 'chat', id: 'u1' },
      sender: { id: 'u1' },
      text,
      receivedAt: Date.now(),
    });
    if (!receipt.taskId) throw new Error(`not accepted: ${JSON.stringify(receipt)}`);
    return receipt.taskId;
  };
  const history = async () => {
    const session = (await store.sessions.findActive('chat:u1'))!;
    return (await store.sessions.history(session.id, 50)).map((e) => e.content);
  };
  return { host, store, seen, say, ended, history };
}

describe('a session run’s end written with its task’s completion', () => {
  it('writes each turn with the completion, in one call, and the next run reads it', async () => {
    const store = openMemoryStore();
    const counts = new Map<string, number>();
    const tasks = counting(store.tasks, counts);
    Object.defineProperty(store, 'tasks', { value: tasks });
    const recordTurn = store.sessions.recordTurn.bind(store.sessions);
    let ownTurns = 0;
    store.sessions.recordTurn = (...args) => {
      ownTurns++;
      return recordTurn(...args);
    };
    const h = await harness({ store });
    const ids = [await h.say('one'), await h.say('two'), await h.say('three')];
    await waitFor(async () =>
      (await Promise.all(ids.map((id) => store.tasks.get(id)))).every(
        (t) => t?.status === 'completed',
      ),
    );
    expect(await h.history()).toEqual(['one', 're: one', 'two', 're: two', 'three', 're: three']);
    // Each run saw every turn before it: the lock was held until the turn was written.
    expect(h.seen).toEqual([[], ['one', 're: one'], ['one', 're: one', 'two', 're: two']]);
    expect(counts.get('completeTurnAndClaim')).toBe(3);
    expect(counts.get('completeAndClaim') ?? 0).toBe(0);
    expect(ownTurns).toBe(0);
  });

  it('falls back to the turn first, then the completion, for a store without the fast path', async () => {
    const store = openMemoryStore();
    Object.defineProperty(store, 'tasks', { value: withoutFastPaths(store.tasks) });
    const h = await harness({ store });
    const ids = [await h.say('one'), await h.say('two')];
    await waitFor(async () => (await h.history()).length === 4);
    await waitFor(async () =>
      (await Promise.all(ids.map((id) => store.tasks.get(id)))).every(
        (t) => t?.status === 'completed',
      ),
    );
    expect(await h.history()).toEqual(['one', 're: one', 'two', 're: two']);
    expect(h.seen).toEqual([[], ['one', 're: one']]);
  });

  it('leaves the turn to the session when the runner gave the run up (a timeout)', async () => {
    const h = await harness({ slowMs: 300, timeoutMs: 100 });
    const id = await h.say('slow');
    const task = await h.ended(id);
    expect(task.status).not.toBe('completed');
    // The run went on past the timeout and ended: its turn is written by the session itself.
    await waitFor(async () => (await h.history()).length === 2);
    expect(await h.history()).toEqual(['slow', 're: slow']);
  });
});

describe('TurnSlot', () => {
  it('takes one offer until closed, and answers it once', async () => {
    const slot = new TurnSlot();
    const turn = { sessionId: 's', entries: [], lastActivityAt: 1 };
    const written = slot.offer(turn);
    expect(written).toBeInstanceOf(Promise);
    expect(slot.offer(turn)).toBeUndefined();
    expect(slot.take()).toBe(turn);
    slot.settle(true);
    slot.settle(false);
    await expect(written).resolves.toBe(true);
    const closed = new TurnSlot();
    expect(closed.take()).toBeUndefined();
    expect(closed.offer(turn)).toBeUndefined();
    const failing = new TurnSlot();
    const refused = failing.offer(turn);
    failing.settle({ error: new Error('disk full') });
    await expect(refused).rejects.toThrow('disk full');
  });
});

async function waitFor(check: () => Promise<boolean>, ms = 3_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
