import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskStats } from '@agentd/core/store';
import type BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { OpenTaskTally } from './open-task-tally.js';
import { openSqliteStore } from './sqlite-store.js';
import { SqliteTaskStore } from './task-store.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-task-stats-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
const T0 = Date.UTC(2026, 0, 1);

describe('SqliteTaskStore.stats', () => {
  it('walks the open tasks again after any write, by this connection or another, and not while nothing changed', async () => {
    const path = join(dir, 'walks.db');
    const db = openDatabase({ path });
    const store = new SqliteTaskStore(db);
    await store.enqueueMany(
      Array.from({ length: 30 }, (_, i) => ({ input: i, priority: (i % 4) as 0 | 1 | 2 | 3 })),
      T0,
    );
    const first = await store.stats(T0);
    expect(first.byPriority.pending).toEqual([8, 8, 7, 7]);
    // Nothing changed: the same figures (from the kept walk).
    expect(await store.stats(T0)).toEqual(first);
    // This connection writes: a claim and a completion, then a raw delete of a pending task.
    const [claimed] = await store.claim({ owner: 'me', leaseMs: 1000, now: T0, limit: 1 });
    expect((await store.stats(T0)).byPriority.running).toEqual([1, 0, 0, 0]);
    await store.complete(claimed!.id, 'me', null, T0);
    const afterOwn = await store.stats(T0);
    expect(afterOwn.byPriority.running).toEqual([0, 0, 0, 0]);
    expect(afterOwn.byPriority.completed).toEqual([1, 0, 0, 0]);
    expect(afterOwn.byPriority.pending).toEqual([7, 8, 7, 7]);
    // Another connection (another process would be the same) claims the next two tasks.
    const other = openDatabase({ path });
    const [a, b] = await new SqliteTaskStore(other).claim({
      owner: 'them',
      leaseMs: 1000,
      now: T0,
      limit: 2,
    });
    expect([a?.priority, b?.priority]).toEqual([0, 0]);
    const afterOther = await store.stats(T0);
    expect(afterOther.byPriority.running).toEqual([2, 0, 0, 0]);
    expect(afterOther.byPriority.pending).toEqual([5, 8, 7, 7]);
    other.close();
    // A write this store did not make, on its own connection, is seen too.
    db.prepare("DELETE FROM tasks WHERE status = 'pending' AND priority = 3").run();
    expect((await store.stats(T0)).byPriority.pending).toEqual([5, 8, 7, 0]);
    // Inside an open transaction that rolls back: the figures read inside are not kept.
    db.exec('BEGIN');
    db.prepare("DELETE FROM tasks WHERE status = 'pending' AND priority = 2").run();
    expect((await store.stats(T0)).byPriority.pending).toEqual([5, 8, 0, 0]);
    db.exec('ROLLBACK');
    expect((await store.stats(T0)).byPriority.pending).toEqual([5, 8, 7, 0]);
    db.close();
  });
});

/** Tasks by status and priority, counted from the rows: what stats() must say. */
function countedRows(db: BetterSqlite3.Database): TaskStats['byPriority'] {
  const { byPriority } = emptyFigures();
  const rows = db
    .prepare('SELECT status, priority, count(*) AS n FROM tasks GROUP BY status, priority')
    .all() as { status: keyof TaskStats['byPriority']; priority: 0 | 1 | 2 | 3; n: number }[];
  for (const row of rows) byPriority[row.status][row.priority] = row.n;
  return byPriority;
}

function emptyFigures(): Pick<TaskStats, 'byPriority'> {
  const zeros = () => [0, 0, 0, 0] as [number, number, number, number];
  return {
    byPriority: {
      pending: zeros(),
      running: zeros(),
      held: zeros(),
      completed: zeros(),
      failed: zeros(),
      cancelled: zeros(),
    },
  } as Pick<TaskStats, 'byPriority'>;
}

describe('SqliteTaskStore.stats with open tasks moving', () => {
  it("stays exact after every kind of the store's own writes without walking the open tasks again", async () => {
    const store = openSqliteStore({ path: join(dir, 'moves.db') });
    const db = store.database;
    const tasks = store.tasks;
    const tally = OpenTaskTally.of(db);
    const to = { channel: 'test', id: '1' };
    await tasks.enqueueMany(
      Array.from({ length: 40 }, (_, i) => ({ input: i, priority: (i % 4) as 0 | 1 | 2 | 3 })),
      T0,
    );
    const first = await tasks.stats(T0);
    expect(first.byPriority).toEqual(countedRows(db));
    const walks = tally.walks;
    const steps: [string, () => Promise<unknown>][] = [];
    const step = (name: string, write: () => Promise<unknown>) => steps.push([name, write]);
    const claimOne = async (owner = 'me', leaseMs = 60_000) => {
      const [task] = await tasks.claim({ owner, leaseMs, now: T0, limit: 1 });
      return task!;
    };
    step('enqueue', () => tasks.enqueue({ input: 'one', priority: 3 }, T0));
    step('enqueue, idempotency hit', () =>
      tasks
        .enqueue({ input: 'dup', priority: 1, idempotencyKey: 'k' }, T0)
        .then(() => tasks.enqueue({ input: 'dup', priority: 1, idempotencyKey: 'k' }, T0)),
    );
    step('enqueueMany with a hit and new keys', () =>
      tasks.enqueueMany(
        [
          { input: 'a', priority: 2 },
          { input: 'dup', priority: 1, idempotencyKey: 'k' },
          { input: 'b', priority: 0, idempotencyKey: 'k2' },
        ],
        T0,
      ),
    );
    step('claim of several', () =>
      tasks.claim({ owner: 'me', leaseMs: 60_000, now: T0, limit: 5 }),
    );
    step('complete without a result', async () =>
      tasks.complete((await claimOne()).id, 'me', null, T0),
    );
    step('complete owing a reply', async () => {
      const { task } = await tasks.enqueue({ input: 'ask', priority: 0, replyTo: to }, T0);
      await tasks.claim({ owner: 'me', leaseMs: 60_000, now: T0, limit: 50 });
      await tasks.complete(task.id, 'me', 'an answer', T0);
    });
    step('completeMany', async () => {
      const running = await tasks.list({ status: 'running', limit: 3 });
      await tasks.completeMany(
        running.map((t) => ({ id: t.id, result: null })),
        'me',
        T0,
      );
    });
    step('completeAndClaim', async () => {
      const [running] = await tasks.list({ status: 'running', limit: 1 });
      await tasks.completeAndClaim(running!.id, 'me', null, {
        owner: 'me',
        leaseMs: 60_000,
        now: T0,
        limit: 2,
      });
    });
    step('fail with a retry', async () => {
      const [running] = await tasks.list({ status: 'running', limit: 1 });
      await tasks.fail(
        running!.id,
        'me',
        { name: 'E', message: 'again' },
        { now: T0, retryAt: T0 },
      );
    });
    step('fail for good', async () => {
      const [running] = await tasks.list({ status: 'running', limit: 1 });
      await tasks.fail(running!.id, 'me', { name: 'E', message: 'no' }, { now: T0 });
    });
    step('renew and record the lease process', async () => {
      const [running] = await tasks.list({ status: 'running', limit: 1 });
      await tasks.renewLease(running!.id, 'me', T0 + 120_000);
      await tasks.recordLeaseProcess(running!.id, 'me', { pid: 1 });
    });
    step('hold, hold again, release, release again', async () => {
      await tasks.enqueueMany(
        [
          { input: 'h1', priority: 1 },
          { input: 'h2', priority: 3 },
        ],
        T0,
      );
      const [pending] = await tasks.list({ status: 'pending', limit: 1 });
      await tasks.hold(pending!.id);
      await tasks.hold(pending!.id);
      const [other] = await tasks.list({ status: 'pending', limit: 1 });
      await tasks.hold(other!.id);
      await tasks.release(pending!.id);
      await tasks.release(pending!.id);
    });
    step('cancel pending, held and running', async () => {
      const [pending] = await tasks.list({ status: 'pending', limit: 1 });
      const [held] = await tasks.list({ status: 'held', limit: 1 });
      const [running] = await tasks.list({ status: 'running', limit: 1 });
      await tasks.cancel(pending!.id, T0);
      await tasks.cancel(held!.id, T0);
      await tasks.cancel(running!.id, T0);
      await tasks.cancel(running!.id, T0);
    });
    step('recover expired leases, back to pending and failed for good', async () => {
      await tasks.enqueue({ input: 'once', priority: 2, maxAttempts: 1, replyTo: to }, T0);
      await tasks.claim({ owner: 'short', leaseMs: 1, now: T0, limit: 50 });
      return tasks.recoverExpired(T0 + 10);
    });
    step('recover the leases of a runner gone', async () => {
      await claimOne('gone');
      return tasks.recoverExpired(T0, { owners: ['gone'] });
    });
    step('replies claimed and settled', async () => {
      const owed = await tasks.claimReplies({ now: T0 + 60_000, leaseMs: 1000 });
      expect(owed.length).toBeGreaterThan(0);
      for (const reply of owed) await tasks.recordReply(reply.task.id, { retryAt: T0 + 61_000 });
      const again = await tasks.claimReplies({ now: T0 + 62_000, leaseMs: 1000 });
      expect(again.length).toBeGreaterThanOrEqual(owed.length);
      for (const reply of again) await tasks.recordReply(reply.task.id, { sent: true });
    });
    step('an answer recorded, twice', async () => {
      const answer = { replyTo: to, text: 'hi', idempotencyKey: 'a1' };
      await tasks.recordAnswer(answer, T0);
      await tasks.recordAnswer(answer, T0);
    });
    step('a dead letter added and settled', async () => {
      const { letter } = await tasks.addDeadLetter(
        { channel: 'test', code: 'E_X', reason: 'bad', raw: '{' },
        T0,
      );
      await tasks.settleDeadLetter(letter.id, 'discarded', T0);
    });
    step('sessions and state written on the same connection', async () => {
      const session = await store.sessions.create(
        { userKey: 'u', address: to, name: 'main', agent: 'a' },
        T0,
      );
      await store.sessions.appendHistory(session.id, { role: 'user', content: 'x', at: T0 });
      await store.state.set('ns', 'k', 1);
      await store.state.compareAndSet('ns', 'k', 1, 2);
      await store.state.delete('ns', 'k');
    });
    step('prune of finished tasks', () =>
      tasks.prune({ before: T0 + 1, statuses: ['completed', 'failed', 'cancelled'], limit: 3 }),
    );
    const seen = new Set<string>();
    for (const [name, write] of steps) {
      await write();
      const stats = await tasks.stats(T0);
      const rows = countedRows(db);
      expect({ name, figures: stats.byPriority }).toEqual({ name, figures: rows });
      expect({ name, walks: tally.walks }).toEqual({ name, walks });
      for (const [status, n] of Object.entries(rows)) if (n.some((x) => x > 0)) seen.add(status);
    }
    // The queue did move: every status was reached on the way.
    expect([...seen].sort()).toEqual(
      ['cancelled', 'completed', 'failed', 'held', 'pending', 'running'].sort(),
    );
    await store.close();
  });

  it("walks again when another connection writes, when a write rolls back, and inside a caller's transaction", async () => {
    const path = join(dir, 'others.db');
    const store = openSqliteStore({ path });
    const db = store.database;
    const tasks = store.tasks;
    const tally = OpenTaskTally.of(db);
    await tasks.enqueueMany(
      Array.from({ length: 20 }, (_, i) => ({ input: i, priority: (i % 4) as 0 | 1 | 2 | 3 })),
      T0,
    );
    await tasks.stats(T0);
    let walks = tally.walks;
    const expectExact = async (walked: boolean) => {
      expect((await tasks.stats(T0)).byPriority).toEqual(countedRows(db));
      if (walked) walks++;
      expect(tally.walks).toBe(walks);
    };
    // Another process's store (a second connection) claims: only data_version shows it.
    const other = openSqliteStore({ path });
    await other.tasks.claim({ owner: 'them', leaseMs: 60_000, now: T0, limit: 3 });
    await expectExact(true);
    // Our own claim after theirs is counted, and a completion of a task they claimed (ours
    // does not know its priority) makes the next read walk rather than guess.
    const [theirs] = await tasks.list({ status: 'running', limit: 1 });
    await tasks.claim({ owner: 'me', leaseMs: 60_000, now: T0, limit: 1 });
    await expectExact(false);
    await tasks.complete(theirs!.id, 'them', null, T0);
    await expectExact(true);
    await other.close();
    // A write of the store that fails rolls back: none of its moves is applied, and changes it
    // made before failing (rolled back, still in total_changes) make the next read walk. (A
    // batch may refuse its bad task before writing anything: then there is nothing to walk for.)
    const totalChanges = db.prepare('SELECT total_changes()').pluck();
    const before = totalChanges.get();
    await expect(
      tasks.enqueueMany([{ input: 1 }, { input: 2, priority: 9 as 0 }], T0),
    ).rejects.toThrow();
    await expectExact(totalChanges.get() !== before);
    // One that wrote rows first (a full multi-row insert of 16 before the bad task) walks.
    const written = totalChanges.get();
    await expect(
      tasks.enqueueMany(
        [...Array.from({ length: 20 }, (_, i) => ({ input: i })), { input: 'x', priority: 9 as 0 }],
        T0,
      ),
    ).rejects.toThrow();
    expect(totalChanges.get()).not.toBe(written);
    await expectExact(true);
    // A write on the store's connection that the store did not make.
    db.prepare(
      "UPDATE tasks SET status = 'running' WHERE status = 'pending' AND priority = 1",
    ).run();
    await expectExact(true);
    // The store's write inside a caller's transaction that rolls back.
    db.exec('BEGIN IMMEDIATE');
    await tasks.claim({ owner: 'me', leaseMs: 60_000, now: T0, limit: 2 });
    db.exec('ROLLBACK');
    await expectExact(true);
    await store.close();
  });
});
