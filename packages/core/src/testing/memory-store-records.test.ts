import { describe, expect, it } from 'vitest';
import type { StoreRecord } from '../contracts/store-records.js';
import type { Task } from '../contracts/task.js';
import { renumberHistory } from '../store-kit/records.js';
import { openMemoryStore } from './memory-store.js';

const T0 = 1_700_000_000_000;
const ALICE = { channel: 'telegram', id: '42' };
const withoutId = ({ id: _, ...rest }: Task) => rest;

async function filled() {
  const store = openMemoryStore({ now: () => T0 });
  const t = store.tasks;
  await t.enqueue({ input: 'later', runAt: T0 + 60_000, idempotencyKey: 'k:later' }, T0);
  await t.enqueue({ input: 'chat', sessionKey: 's:1', replyTo: ALICE }, T0 + 1);
  await t.enqueue({ input: 'next in s:1', sessionKey: 's:1' }, T0 + 2);
  const done = await t.enqueue({ input: 'done', replyTo: ALICE, idempotencyKey: 'k:done' }, T0 + 3);
  const claimed = await t.claim({ owner: 'a', leaseMs: 1000, limit: 5, now: T0 + 10 });
  await t.complete(claimed.find((c) => c.input === 'done')!.id, 'a', 'ok', T0 + 11);
  await t.addDeadLetter(
    { channel: 'x', key: 'x:1', code: 'E_INVALID_INPUT', reason: 'r', raw: '' },
    T0,
  );
  const s = await store.sessions.create(
    { userKey: 'u', address: ALICE, name: 'main', agent: 'a' },
    T0,
  );
  await store.sessions.activate('u', s.id);
  await store.sessions.appendHistory(s.id, {
    role: 'user',
    content: 'hi',
    at: T0,
    taskId: done.task.id,
  });
  await store.state.set('scheduler', 'slot', 7);
  await store.state.set('cooldown', 'disk', 1, { ttlMs: 60_000 });
  return { store, sessionId: s.id };
}

async function copy(
  from: ReturnType<typeof openMemoryStore>,
  to: ReturnType<typeof openMemoryStore>,
) {
  const taskIds = new Map<string, string>();
  for await (const batch of from.exportRecords({ batchSize: 2 })) {
    const renumbered = batch.map(
      (r): StoreRecord =>
        r.kind === 'session' ? { ...r, history: renumberHistory(r.history, taskIds) } : r,
    );
    for (const [a, b] of (await to.importRecords(renumbered)).taskIds) taskIds.set(a, b);
  }
}

describe('the memory store as a source and target of agentd store copy', () => {
  it('exports every record in order and imports them as they were, with new task ids', async () => {
    const { store: source, sessionId } = await filled();
    const kinds: string[] = [];
    for await (const batch of source.exportRecords({ batchSize: 2 })) {
      expect(batch.length).toBeLessThanOrEqual(2);
      kinds.push(...batch.map((r) => r.kind));
    }
    expect(kinds).toEqual([
      'task',
      'task',
      'task',
      'task',
      'deadLetter',
      'session',
      'state',
      'state',
    ]);

    const target = openMemoryStore({ now: () => T0 });
    await copy(source, target);
    const all = { limit: 100, order: 'oldest' as const };
    expect((await target.tasks.list(all)).map(withoutId)).toEqual(
      (await source.tasks.list(all)).map(withoutId),
    );
    expect(await target.tasks.countOwedReplies()).toBe(1);
    expect(await target.sessions.get(sessionId)).toEqual(await source.sessions.get(sessionId));
    const [entry] = await target.sessions.history(sessionId, 10);
    expect(entry!.taskId).toBe((await target.tasks.findByIdempotencyKey('k:done'))!.id);
    expect(await target.state.get('scheduler', 'slot')).toBe(7);
    expect(await target.state.get('cooldown', 'disk')).toBe(1);
    expect(await target.tasks.listDeadLetters({})).toHaveLength(1);
    // The copy's claims keep the rules: the running task of s:1 holds its sibling back.
    expect(
      (await target.tasks.claim({ owner: 'b', leaseMs: 1000, limit: 5, now: T0 + 60_001 })).map(
        (t) => t.input,
      ),
    ).toEqual(['later']);
  });

  it('adds nothing twice by key, and brings a second running task of a session in pending', async () => {
    const { store: source } = await filled();
    const target = openMemoryStore({ now: () => T0 });
    await copy(source, target);
    await copy(source, target);
    const tasks = await target.tasks.list({ limit: 100 });
    // Two keyed tasks once, two keyless ones twice.
    expect(tasks).toHaveLength(6);
    expect((await target.tasks.counts()).running).toBe(1);
    expect(await target.tasks.listDeadLetters({})).toHaveLength(1);
    expect(
      await target.sessions.listByStatus(['idle', 'live', 'suspended', 'archived']),
    ).toHaveLength(1);
    expect(await target.state.list('scheduler')).toEqual([{ key: 'slot', value: 7 }]);
  });
});
