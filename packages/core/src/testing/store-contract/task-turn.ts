import { describe, expect, it } from 'vitest';
import type { HistoryEntry, SessionTurn } from '../../contracts/session.js';
import type { Store } from '../../contracts/store.js';
import { completeTurnAndClaimIn } from '../../store-kit/fast-paths.js';
import {
  ADDRESS,
  type ContractFactory,
  type ContractSuiteOptions,
  MINUTE,
  T0,
  useSubject,
} from './shared.js';

/**
 * A task's completion with its session run's end (`TaskStore.completeTurnAndClaim`, through
 * core's `completeTurnAndClaimIn`), in the store contract: it spans the task and the session
 * store, so it runs over the whole store. A store without the fast path passes through core's
 * fallback, which records the turn first; a store with it records the turn only with the
 * completion that holds, in the same transaction.
 *
 * @example
 * ```ts
 * describeTaskTurnContract('sqlite', () => openSqliteStore({ path: freshFile() }), { close: (s) => s.close() });
 * ```
 */
export function describeTaskTurnContract(
  name: string,
  createStore: ContractFactory<Store>,
  options: ContractSuiteOptions<Store> = {},
): void {
  describe(`Store contract: ${name}: a completion with its session turn`, () => {
    const subject = useSubject(createStore, options);
    const lease = { owner: 'runner-1', leaseMs: MINUTE };
    /** Completes task `id` with result 'ok' as runner-1, with `turn`, claiming at `now`. */
    const finish = (store: Store, id: string, turn: SessionTurn, now: number) =>
      completeTurnAndClaimIn(store.tasks, store.sessions, id, 'runner-1', 'ok', turn, {
        ...lease,
        now,
      });

    async function setUp() {
      const store = subject.current;
      const session = await store.sessions.create(
        { userKey: 'telegram:1', address: ADDRESS, name: 'main', agent: 'claude' },
        T0,
      );
      await store.sessions.appendHistory(session.id, { role: 'user', content: 'before', at: T0 });
      const key = `session:${session.id}`;
      const [a, b] = (
        await store.tasks.enqueueMany!(
          [
            { input: 'a', sessionKey: key },
            { input: 'b', sessionKey: key },
          ],
          T0,
        )
      ).map((r) => r.task);
      const turnOf = (taskId: string, at: number) => ({
        sessionId: session.id,
        entries: [
          { role: 'user', content: `q ${taskId}`, at, taskId },
          { role: 'assistant', content: `a ${taskId}`, at, taskId },
        ] satisfies HistoryEntry[],
        lastActivityAt: at,
      });
      return { store, session, a: a!, b: b!, turnOf };
    }

    it('completes, records the turn and claims the session’s next task, in one call', async () => {
      const { store, session, a, b, turnOf } = await setUp();
      const [claimed] = await store.tasks.claim({ ...lease, now: T0 + 1 });
      expect(claimed?.id).toBe(a.id);
      const turn = turnOf(a.id, T0 + 5);
      const step = await finish(store, a.id, turn, T0 + 5);
      expect(step.completed).toBe(true);
      // The session's next task is claimable once its previous one completed.
      expect(step.claimed.map((t) => t.id)).toEqual([b.id]);
      expect(await store.tasks.get(a.id)).toMatchObject({ status: 'completed', result: 'ok' });
      expect(await store.sessions.history(session.id, 10)).toEqual([
        { role: 'user', content: 'before', at: T0 },
        ...turn.entries,
      ]);
      expect((await store.sessions.get(session.id))?.lastActivityAt).toBe(T0 + 5);
    });

    it('completes and claims when the session is gone, recording nothing for it', async () => {
      const { store, a, turnOf } = await setUp();
      await store.tasks.claim({ ...lease, now: T0 + 1 });
      const turn = { ...turnOf(a.id, T0 + 5), sessionId: 'no-such-session' };
      const step = await finish(store, a.id, turn, T0 + 5);
      expect(step.completed).toBe(true);
      expect(await store.sessions.history('no-such-session', 10)).toEqual([]);
    });

    it('records the turn only with a completion that holds (with the fast path)', async () => {
      const { store, session, a, b, turnOf } = await setUp();
      // Without it, core records the turn first (see completeTurnAndClaimIn).
      if (!store.tasks.completeTurnAndClaim) return;
      await store.tasks.claim({ ...lease, now: T0 + 1 });
      // Another owner's completion does not hold: no turn, no activity; the claim still happens
      // (nothing claimable: the session's task a still runs).
      const lost = await store.tasks.completeTurnAndClaim(
        a.id,
        'intruder',
        'stolen',
        turnOf(a.id, T0 + 5),
        { owner: 'intruder', leaseMs: MINUTE, now: T0 + 5 },
      );
      expect(lost).toEqual({ completed: false, claimed: [] });
      expect(await store.sessions.history(session.id, 10)).toHaveLength(1);
      expect((await store.sessions.get(session.id))?.lastActivityAt).toBe(T0);
      // A malformed entry is refused before anything is written: the task still runs.
      await expect(
        store.tasks.completeTurnAndClaim(
          a.id,
          'runner-1',
          'ok',
          {
            sessionId: session.id,
            entries: [{ role: 'narrator' as never, content: 'x', at: T0 }],
            lastActivityAt: T0 + 6,
          },
          { ...lease, now: T0 + 6 },
        ),
      ).rejects.toThrow();
      expect((await store.tasks.get(a.id))?.status).toBe('running');
      expect(await store.sessions.history(session.id, 10)).toHaveLength(1);
      const done = await store.tasks.completeTurnAndClaim(
        a.id,
        'runner-1',
        'ok',
        turnOf(a.id, T0 + 7),
        { ...lease, now: T0 + 7 },
      );
      expect(done.completed).toBe(true);
      expect(done.claimed.map((t) => t.id)).toEqual([b.id]);
      // Completed already: a second call records no second turn.
      const again = await store.tasks.completeTurnAndClaim(
        a.id,
        'runner-1',
        'ok',
        turnOf(a.id, T0 + 8),
        { ...lease, now: T0 + 8 },
      );
      expect(again.completed).toBe(false);
      expect((await store.sessions.history(session.id, 10)).map((e) => e.content)).toEqual([
        'before',
        `q ${a.id}`,
        `a ${a.id}`,
      ]);
      expect((await store.sessions.get(session.id))?.lastActivityAt).toBe(T0 + 7);
    });
  });
}
