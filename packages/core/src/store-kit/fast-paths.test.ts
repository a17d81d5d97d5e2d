import { describe, expect, it } from 'vitest';
import { HealthRegistryToken } from '../contracts/health.js';
import { SessionStoreToken } from '../contracts/session.js';
import { StateStoreToken } from '../contracts/state.js';
import { StoreToken } from '../contracts/store.js';
import { TaskQueueToken, type TaskStore, TaskStoreToken } from '../contracts/task.js';
import type { Plugin } from '../kernel/plugin.js';
import { createHost } from '../preset/host.js';
import { agent } from '../runtime/function-agent.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { openMemoryStore } from '../testing/memory-store.js';
import {
  describeReplyContract,
  describeTaskStoreContract,
} from '../testing/store-contract/index.js';
import { withoutFastPaths } from '../testing/without-fast-paths.js';
import {
  completeAndClaimIn,
  completeManyIn,
  completeTurnAndClaimIn,
  enqueueManyInto,
  recordTurnIn,
} from './fast-paths.js';

// A store that implements only the basic operations must keep every promise of the contract
// through core's fallbacks: the same suites as a full store, then a host running its tasks.
const basicTasks = () => withoutFastPaths(openMemoryStore().tasks);

describeTaskStoreContract('memory without fast paths', basicTasks);
describeReplyContract('memory without fast paths', basicTasks);

describe('withoutFastPaths', () => {
  it('hides exactly the fast paths', () => {
    const tasks = basicTasks();
    expect(tasks.stats).toBeUndefined();
    expect(tasks.enqueueMany).toBeUndefined();
    expect(tasks.completeAndClaim).toBeUndefined();
    expect(tasks.completeTurnAndClaim).toBeUndefined();
    expect(tasks.completeMany).toBeUndefined();
    expect('enqueueMany' in tasks).toBe(false);
    expect(typeof tasks.enqueue).toBe('function');
    expect(typeof tasks.addDeadLetter).toBe('function');
  });
});

describe('the fallbacks', () => {
  it('refuse a batch with an invalid task before storing any, naming its index', async () => {
    const tasks = basicTasks();
    await expect(
      enqueueManyInto(tasks, [{ input: 'ok' }, { input: 'bad', maxAttempts: 0 }], 0),
    ).rejects.toMatchObject({ code: 'E_INVALID_TASK', message: /^tasks\[1\]: maxAttempts/ });
    expect(await tasks.list()).toEqual([]);
  });

  it('use a store’s fast path when it has one', async () => {
    const calls: string[] = [];
    const full = openMemoryStore().tasks;
    const spy = new Proxy(full, {
      get: (target, key) => {
        const value = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(String(key));
          return value.apply(target, args);
        };
      },
    }) as TaskStore;
    const [a, b] = await enqueueManyInto(spy, [{ input: 'a' }, { input: 'b' }], 0);
    const owner = 'runner-1';
    await spy.claim({ owner, leaseMs: 1000, limit: 1, now: 0 });
    await completeAndClaimIn(spy, a!.task.id, owner, 'ra', { owner, leaseMs: 1000, now: 1 });
    await completeManyIn(spy, [{ id: b!.task.id, result: 'rb' }], owner, 2);
    expect(calls).toEqual(['enqueueMany', 'claim', 'completeAndClaim', 'completeMany']);
  });

  it('record a session turn first, then complete and claim, without completeTurnAndClaim', async () => {
    const store = openMemoryStore();
    const tasks = withoutFastPaths(store.tasks);
    const session = await store.sessions.create(
      { userKey: 'chat:1', address: { channel: 'chat', id: '1' }, name: 'main', agent: 'a' },
      0,
    );
    const [a, b] = await enqueueManyInto(tasks, [{ input: 'a' }, { input: 'b' }], 0);
    const owner = 'runner-1';
    await tasks.claim({ owner, leaseMs: 1000, limit: 1, now: 0 });
    const turn = {
      sessionId: session.id,
      entries: [{ role: 'user' as const, content: 'a', at: 1, taskId: a!.task.id }],
      lastActivityAt: 1,
    };
    const claim = { owner, leaseMs: 1000, now: 1 };
    const step = await completeTurnAndClaimIn(
      tasks,
      store.sessions,
      a!.task.id,
      owner,
      'ra',
      turn,
      claim,
    );
    expect(step.completed).toBe(true);
    expect(step.claimed.map((t) => t.id)).toEqual([b!.task.id]);
    expect(await store.sessions.history(session.id, 10)).toEqual(turn.entries);
    // The weaker promise of the fallback: the turn is written before the completion is tried.
    const lost = await completeTurnAndClaimIn(
      tasks,
      store.sessions,
      a!.task.id,
      owner,
      'x',
      turn,
      claim,
    );
    expect(lost.completed).toBe(false);
    expect(await store.sessions.history(session.id, 10)).toHaveLength(2);
  });
});

/** A store plugin whose task store offers only the basic operations. */
function basicStore(): Plugin {
  const store = openMemoryStore();
  const tasks = withoutFastPaths(store.tasks);
  return {
    name: 'store-basic',
    provides: [StoreToken, TaskStoreToken, SessionStoreToken, StateStoreToken],
    register(ctx) {
      ctx.provide(StoreToken, {
        tasks,
        sessions: store.sessions,
        state: store.state,
        description: 'basic',
        close: async () => {},
      });
      ctx.provide(TaskStoreToken, tasks);
      ctx.provide(SessionStoreToken, store.sessions);
      ctx.provide(StateStoreToken, store.state);
      ctx.resolve(HealthRegistryToken).add({ name: 'store', check: () => ({ status: 'pass' }) });
    },
  };
}

describe('a host on a store without fast paths', () => {
  for (const batchSize of [1, 8]) {
    it(`runs its tasks (runner batchSize ${batchSize})`, async () => {
      const host = createHost({
        logger: memoryLogger().logger,
        agents: [agent('upper', (input) => String(input).toUpperCase())],
        runner: { batchSize },
        plugins: [basicStore()],
      });
      await host.start();
      try {
        const results = await host
          .resolve(TaskQueueToken)
          .enqueueMany(Array.from({ length: 20 }, (_, i) => ({ input: `task ${i}` })));
        const tasks = host.resolve(TaskStoreToken);
        const end = Date.now() + 5000;
        while ((await tasks.counts()).completed < 20 && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 5));
        }
        for (const [i, { task }] of results.entries()) {
          expect(await tasks.get(task.id)).toMatchObject({
            status: 'completed',
            result: `TASK ${i}`,
            attempts: 1,
          });
        }
      } finally {
        await host.stop('test end');
      }
    });
  }
});

describe('recordTurnIn without the store’s recordTurn', () => {
  it('sets the last activity, then appends the entries in order; a missing session gets nothing', async () => {
    const full = openMemoryStore().sessions;
    // The same store with its recordTurn hidden.
    const sessions = new Proxy(full, {
      get: (target, name) => {
        if (name === 'recordTurn') return undefined;
        const value = Reflect.get(target, name);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    expect(sessions.recordTurn).toBeUndefined();
    const session = await sessions.create(
      {
        userKey: 'telegram:1',
        address: { channel: 'telegram', id: '1' },
        name: 'main',
        agent: 'a',
      },
      1_000,
    );
    const turn = [
      { role: 'user' as const, content: 'q', at: 2_000, taskId: 't1' },
      { role: 'assistant' as const, content: 'a', at: 2_000, taskId: 't1' },
    ];
    const updated = await recordTurnIn(sessions, session.id, turn, 3_000);
    expect(updated?.lastActivityAt).toBe(3_000);
    expect(await sessions.history(session.id, 10)).toEqual(turn);
    expect(await recordTurnIn(sessions, 'nope', turn, 4_000)).toBeUndefined();
    expect(await sessions.history('nope', 10)).toEqual([]);
  });
});
