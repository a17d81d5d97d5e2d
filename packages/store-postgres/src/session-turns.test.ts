import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from './store.js';
import { createTestSchema, probePostgres, TEST_POSTGRES_URL } from './test-database.js';

// completeTurnAndClaim: a session run's end written with its task's completion. Concurrent
// calls share one transaction (the claim group); each turn is recorded exactly when its own
// completion holds, with or without prepared statements.

const postgres = await probePostgres();
const T0 = 1_700_000_000_000;
const lease = { owner: 'runner-1', leaseMs: 60_000 };

describe.skipIf(!postgres.available)('PostgreSQL store: completions with session turns', () => {
  const opened: { store: PostgresStore; drop: () => Promise<void> }[] = [];
  afterEach(async () => {
    for (const { store, drop } of opened.splice(0)) {
      await store.close();
      await drop();
    }
  });

  async function open(preparedStatements: boolean, warnings: string[]): Promise<PostgresStore> {
    const { schema, drop } = await createTestSchema();
    const store = await openPostgresStore({
      url: TEST_POSTGRES_URL,
      schema,
      pool: { max: 4 },
      preparedStatements,
      onWarning: (message) => warnings.push(message),
    });
    opened.push({ store, drop });
    return store;
  }

  for (const preparedStatements of [true, false]) {
    it(`records each holding completion's turn, in one shared write (prepared: ${preparedStatements})`, async () => {
      const warnings: string[] = [];
      const store = await open(preparedStatements, warnings);
      const sessions = await Promise.all(
        ['a', 'b', 'c', 'd'].map((id) =>
          store.sessions.create(
            { userKey: `chat:${id}`, address: { channel: 'chat', id }, name: 'main', agent: 'x' },
            T0,
          ),
        ),
      );
      const tasks = (
        await store.tasks.enqueueMany!(
          sessions.map((s) => ({ input: s.userKey, sessionKey: `session:${s.id}` })),
          T0,
        )
      ).map((r) => r.task);
      expect(await store.tasks.claim({ ...lease, limit: 4, now: T0 + 1 })).toHaveLength(4);
      const turnOf = (i: number, content: string) => ({
        sessionId: sessions[i]!.id,
        entries: [
          { role: 'user' as const, content: `q${i}`, at: T0 + 5, taskId: tasks[i]!.id },
          { role: 'assistant' as const, content, at: T0 + 5, taskId: tasks[i]!.id },
        ],
        lastActivityAt: T0 + 5,
      });
      const now = { ...lease, now: T0 + 5 };
      const complete = store.tasks.completeTurnAndClaim!.bind(store.tasks);
      const results = await Promise.all([
        complete(tasks[0]!.id, 'runner-1', 'r0', turnOf(0, 'a0'), now),
        // Not this owner's: no completion, no turn.
        complete(tasks[1]!.id, 'intruder', 'r1', turnOf(1, 'a1'), now),
        complete(tasks[2]!.id, 'runner-1', 'r2', turnOf(2, 'a2'), now),
        // A NUL cannot be stored in the history: the completion is, the turn is not.
        complete(tasks[3]!.id, 'runner-1', 'r3', turnOf(3, 'a\u0000'), now),
      ]);
      expect(results.map((r) => r.completed)).toEqual([true, false, true, true]);
      for (const [i, expected] of [['q0', 'a0'], [], ['q2', 'a2'], []].entries()) {
        const history = await store.sessions.history(sessions[i]!.id, 10);
        expect(history.map((e) => e.content)).toEqual(expected);
        if (expected.length > 0) expect(history[0]?.taskId).toBe(tasks[i]!.id);
        const session = await store.sessions.get(sessions[i]!.id);
        expect(session?.lastActivityAt).toBe(expected.length > 0 ? T0 + 5 : T0);
      }
      expect((await store.tasks.get(tasks[3]!.id))?.status).toBe('completed');
      expect(warnings.some((w) => w.includes('NUL'))).toBe(true);
      // The four shared one transaction: the completed tasks' rows have one writer.
      const { rows } = await store.handle.pool.query<{ n: string }>(
        `SELECT count(DISTINCT xmin::text) AS n FROM ${store.handle.table('tasks')}
         WHERE status = 'completed'`,
      );
      expect(Number(rows[0]?.n)).toBe(1);
    });
  }
  // The shared transaction fails in its claim (here a trigger refuses one task's claim, as a
  // session-key race that outlived its retries or a deadlock would): the run that ended must
  // still be completed, with its turn, exactly once, and the claim comes back empty.
  for (const withTurn of [true, false]) {
    it(`completes ${withTurn ? 'with its turn ' : ''}alone when the claim half of the shared write fails`, async () => {
      const store = await open(true, []);
      const { schema } = store.handle;
      await store.handle.pool.query(
        `CREATE FUNCTION "${schema}".refuse_claim() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.status = 'running' AND NEW.description = 'refused' THEN
             RAISE EXCEPTION 'test: this claim is refused';
           END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER refuse_claim BEFORE UPDATE ON ${store.handle.table('tasks')}
           FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse_claim()`,
      );
      const session = await store.sessions.create(
        { userKey: 'chat:a', address: { channel: 'chat', id: 'a' }, name: 'main', agent: 'x' },
        T0,
      );
      const { task } = await store.tasks.enqueue(
        { input: 'q', sessionKey: `session:${session.id}` },
        T0,
      );
      expect(await store.tasks.claim({ ...lease, limit: 1, now: T0 + 1 })).toHaveLength(1);
      const refused = (await store.tasks.enqueue({ description: 'refused' }, T0 + 2)).task;
      const turn = {
        sessionId: session.id,
        entries: [
          { role: 'user' as const, content: 'q', at: T0 + 5, taskId: task.id },
          { role: 'assistant' as const, content: 'a', at: T0 + 5, taskId: task.id },
        ],
        lastActivityAt: T0 + 5,
      };
      const now = { ...lease, limit: 1, now: T0 + 5 };
      const outcome = withTurn
        ? await store.tasks.completeTurnAndClaim!(task.id, 'runner-1', 'done', turn, now)
        : await store.tasks.completeAndClaim!(task.id, 'runner-1', 'done', now);
      expect(outcome).toEqual({ completed: true, claimed: [] });
      const stored = await store.tasks.get(task.id);
      expect([stored?.status, stored?.result]).toEqual(['completed', 'done']);
      expect((await store.tasks.get(refused.id))?.status).toBe('pending');
      const history = await store.sessions.history(session.id, 10);
      expect(history.map((e) => e.content)).toEqual(withTurn ? ['q', 'a'] : []);
      expect((await store.sessions.get(session.id))?.lastActivityAt).toBe(withTurn ? T0 + 5 : T0);
      // Completed once: a second completion of the same run does not hold.
      expect(await store.tasks.complete(task.id, 'runner-1', 'again', T0 + 6)).toBe(false);
      expect((await store.tasks.counts()).completed).toBe(1);
    });
  }
});
