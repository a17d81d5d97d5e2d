import { describe, expect, it } from 'vitest';
import { HealthRegistryToken } from '../contracts/health.js';
import { StoreToken } from '../contracts/store.js';
import { TaskQueueToken } from '../contracts/task.js';
import { createHost } from '../preset/host.js';
import { agent } from '../runtime/function-agent.js';
import { memoryLogger } from './memory-logger.js';
import { memoryStore, openMemoryStore } from './memory-store.js';

describe('openMemoryStore', () => {
  it('keeps separate data per store', async () => {
    const a = openMemoryStore();
    const b = openMemoryStore();
    const { task } = await a.tasks.enqueue({ input: 'x' }, 0);
    expect(await b.tasks.get(task.id)).toBeUndefined();
    expect(await a.tasks.get(task.id)).toEqual(task);
  });
});

describe('memoryStore', () => {
  it('runs a host’s tasks and shares its store with the test', async () => {
    const store = openMemoryStore();
    const host = createHost({
      logger: memoryLogger().logger,
      agents: [agent('echo', (input) => `echo: ${String(input)}`)],
      plugins: [memoryStore({ store })],
    });
    await host.start();
    try {
      const { task } = await host.resolve(TaskQueueToken).enqueue({ input: 'hi' });
      const end = Date.now() + 5000;
      while ((await store.tasks.get(task.id))?.status !== 'completed' && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(await store.tasks.get(task.id)).toMatchObject({
        status: 'completed',
        result: 'echo: hi',
      });
      expect(host.resolve(StoreToken)).toBe(store);
      expect((await host.resolve(HealthRegistryToken).run()).checks.store?.status).toBe('pass');
    } finally {
      await host.stop('test end');
    }
  });

  it('refuses unknown options when the host starts', async () => {
    const host = createHost({
      logger: memoryLogger().logger,
      plugins: [memoryStore({ path: 'x' } as never)],
    });
    await expect(host.start()).rejects.toMatchObject({
      issues: [expect.stringMatching(/unknown option "path"/)],
    });
    await host.stop('test end');
  });
});
