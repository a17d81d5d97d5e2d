import { describe, expect, it } from 'vitest';
import { AgentdError } from '../kernel/errors.js';
import { openMemoryStore } from '../testing/memory-store.js';
import { withoutFastPaths } from '../testing/without-fast-paths.js';
import { forwardingStoreParts, type StoreParts } from './forwarding.js';

const NOW = Date.UTC(2026, 0, 1);

describe('forwardingStoreParts', () => {
  it('rejects with the reason while the store is not open, and forwards once it is', async () => {
    let open: StoreParts | undefined;
    const parts = forwardingStoreParts(() => {
      if (!open) throw new AgentdError('E_STORE_NOT_OPEN', 'opens in start()');
      return open;
    });
    await expect(parts.tasks.enqueue({ input: 1 }, NOW)).rejects.toMatchObject({
      code: 'E_STORE_NOT_OPEN',
    });
    await expect(parts.state.get('ns', 'k')).rejects.toMatchObject({ code: 'E_STORE_NOT_OPEN' });

    open = openMemoryStore();
    const { task } = await parts.tasks.enqueue({ input: 'hi' }, NOW);
    expect(await open.tasks.get(task.id)).toMatchObject({ input: 'hi' });
    await parts.state.set('ns', 'k', 42);
    expect(await open.state.get('ns', 'k')).toBe(42);
    const session = await parts.sessions.create(
      { userKey: 'u', address: { channel: 'c', id: 'u' }, name: 'main', agent: 'a' },
      NOW,
    );
    expect(await open.sessions.get(session.id)).toMatchObject({ name: 'main' });
  });

  it('offers only the optional methods its store has, so callers can test for them', async () => {
    const store = openMemoryStore();
    const parts = forwardingStoreParts(() => store, ['recordAnswer']);
    expect(typeof parts.tasks.recordAnswer).toBe('function');
    expect(parts.tasks.onWork).toBeUndefined();
    expect(parts.tasks.addDeadLetter).toBeUndefined();
    const { created } = await parts.tasks.recordAnswer!(
      { replyTo: { channel: 'c', id: '1' }, text: 'ok', idempotencyKey: 'answer:1' },
      NOW,
    );
    expect(created).toBe(true);

    // Listed but missing from the store: a clear refusal, not a TypeError.
    const bare = forwardingStoreParts(() => store, ['onWork']);
    await expect(bare.tasks.onWork!(() => {})).rejects.toMatchObject({ code: 'E_STORE' });
  });

  it('runs the fast paths through core fallbacks when the store has none', async () => {
    const store = openMemoryStore();
    const parts = forwardingStoreParts(() => ({ ...store, tasks: withoutFastPaths(store.tasks) }));
    const results = await parts.tasks.enqueueMany!([{ input: 1 }, { input: 2 }], NOW);
    expect(results.map((r) => r.created)).toEqual([true, true]);
    const [claimed] = await parts.tasks.claim({ owner: 'o', leaseMs: 60_000, limit: 1, now: NOW });
    expect(await parts.tasks.completeMany!([{ id: claimed!.id, result: 'done' }], 'o', NOW)).toBe(
      1,
    );
    expect(await store.tasks.get(claimed!.id)).toMatchObject({ status: 'completed' });
  });
});
