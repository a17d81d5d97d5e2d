import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskStatus } from '@agentd/core';
import { TASK_STATUSES } from '@agentd/core/store';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { applyMigrations, MIGRATIONS, type Migration } from './migrations.js';
import { rebuildTable } from './rebuild-table.js';
import { SqliteSessionStore } from './session-store.js';
import { SqliteTaskStore } from './task-store.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-store-migrations-'));

/** Tasks by status and priority, counted from the rows, shaped like `TaskStats.byPriority`. */
function countRows(db: Database.Database): Record<TaskStatus, number[]> {
  const byPriority = Object.fromEntries(TASK_STATUSES.map((s) => [s, [0, 0, 0, 0]])) as Record<
    TaskStatus,
    number[]
  >;
  const rows = db
    .prepare('SELECT status, priority, count(*) AS n FROM tasks GROUP BY status, priority')
    .all() as { status: TaskStatus; priority: number; n: number }[];
  for (const row of rows) byPriority[row.status][row.priority] = row.n;
  return byPriority;
}
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('migrations', () => {
  it('are applied once and recorded in agentd_migrations', () => {
    const path = join(dir, 'once.db');
    const first = openDatabase({ path });
    const recorded = first.prepare('SELECT name, applied_at FROM agentd_migrations').all();
    expect(recorded).toEqual(
      MIGRATIONS.map((m) => ({ name: m.name, applied_at: expect.any(Number) })),
    );
    expect(applyMigrations(first)).toEqual([]);
    first.close();
    const second = openDatabase({ path });
    expect(second.prepare('SELECT name, applied_at FROM agentd_migrations').all()).toEqual(
      recorded,
    );
    const prefix = second
      .prepare("SELECT value FROM meta WHERE key = 'task_id_prefix'")
      .pluck()
      .get();
    expect(prefix).toMatch(/^[a-z]{5}$/);
    second.close();
  });

  it('apply only the missing ones, in order', () => {
    const db = new Database(':memory:');
    const ran: string[] = [];
    const step = (name: string): Migration => ({
      name,
      up: (conn) => {
        ran.push(name);
        conn.exec(`CREATE TABLE t_${name} (x)`);
      },
    });
    expect(applyMigrations(db, [step('a'), step('b')])).toEqual(['a', 'b']);
    expect(applyMigrations(db, [step('a'), step('b'), step('c')])).toEqual(['c']);
    expect(ran).toEqual(['a', 'b', 'c']);
    db.close();
  });

  it('roll back entirely when one fails', () => {
    const db = new Database(':memory:');
    const good: Migration = { name: 'good', up: (conn) => conn.exec('CREATE TABLE good (x)') };
    const bad: Migration = {
      name: 'bad',
      up: (conn) => {
        conn.exec('CREATE TABLE half (x)');
        throw new Error('boom');
      },
    };
    expect(() => applyMigrations(db, [good, bad])).toThrow('boom');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables).toEqual([]);
    expect(applyMigrations(db, [good])).toEqual(['good']);
    db.close();
  });

  it('refuse a database migrated by a newer version', () => {
    const db = new Database(':memory:');
    applyMigrations(db, [{ name: 'future', up: () => {} }]);
    expect(() => applyMigrations(db, [])).toThrow(
      expect.objectContaining({
        code: 'E_STORE_SCHEMA_NEWER',
        message: expect.stringMatching(/future/),
      }),
    );
    db.close();
  });

  it('0003 and 0004 rewrite the status rule and the claim index, keeping every task, id and owed reply', async () => {
    const db = new Database(join(dir, 'upgrade.db'));
    db.pragma('foreign_keys = ON');
    const before = MIGRATIONS.filter((m) => m.name < '0003');
    applyMigrations(db, before);
    // Rows as the 0002 schema held them: a finished task owing its reply, one waiting with an
    // idempotency key, one running under a lease that has expired by T0 + 60 s.
    const T0 = 1_700_000_000_000;
    const insert = db.prepare(`INSERT INTO tasks (status, priority, run_at, session_key,
      idempotency_key, type, description, input, attempts, max_attempts, created_at, started_at,
      finished_at, result, reply_to, metadata, lease_owner, lease_expires_at)
      VALUES (?, ?, ?, ?, ?, 'manual', 'x', ?, ?, 3, ?, ?, ?, ?, ?, '{}', ?, ?)`);
    const reply = '{"channel":"chat","id":"42"}';
    const answered = insert.run(
      ...['completed', 0, T0, 's', null, '"hi"', 1, T0, T0, T0 + 1, '"hello"', reply, null, null],
    ).lastInsertRowid;
    insert.run(
      ...['pending', 1, T0, null, 'k', '{"n":1}', 0, T0, null, null, null, null, null, null],
    );
    insert.run(
      ...['running', 2, T0, null, null, '"y"', 1, T0, T0, null, null, null, 'w', T0 + 1000],
    );
    db.prepare('INSERT INTO task_replies (seq, due_at) VALUES (?, ?)').run(answered, T0 + 60_000);
    const snapshot = () => ({
      tasks: db.prepare('SELECT * FROM tasks ORDER BY seq').all(),
      replies: db.prepare('SELECT * FROM task_replies').all(),
      indexes: db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'tasks'")
        .pluck()
        .all()
        .sort(),
    });
    const old = snapshot();
    expect(old.replies).toHaveLength(1);

    expect(
      applyMigrations(
        db,
        MIGRATIONS.filter((m) => m.name < '0005'),
      ),
    ).toEqual(['0003_tasks_status_check', '0004_tasks_open_index']);

    expect(old.indexes).toEqual([
      'tasks_idempotency',
      'tasks_leases',
      'tasks_pending',
      'tasks_session_open',
    ]);
    expect(snapshot()).toEqual({
      ...old,
      indexes: ['tasks_idempotency', 'tasks_open', 'tasks_session_open'],
    });
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const definition = db
      .prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'tasks'")
      .pluck()
      .get();
    expect(definition).toContain("status = 'pending' OR status = 'running'");
    expect(definition).not.toContain('status IN');
    // The rule still holds, the outbox still follows its task, and the store works on the
    // rebuilt table: the finished task reads back, the waiting one is claimed, the expired
    // lease is recovered.
    expect(() => db.prepare("UPDATE tasks SET status = 'done'").run()).toThrow(/CHECK/);
    expect(applyMigrations(db)).toEqual([
      '0005_process_owners',
      '0006_dead_letters',
      '0007_task_counts',
      '0008_task_counts_batch_tallies',
      '0009_tasks_held',
      '0010_task_counts_off_hot_path',
      '0011_task_counts_inserts_in_code',
      '0012_task_counts_status_changes_in_code',
    ]);
    const store = new SqliteTaskStore(db);
    const prefix = db.prepare("SELECT value FROM meta WHERE key = 'task_id_prefix'").pluck().get();
    expect((await store.get(`${prefix}${Number(answered).toString(36)}`))?.result).toBe('hello');
    const [claimed] = await store.claim({ owner: 'v', leaseMs: 1000, now: T0 + 60_000 });
    expect(claimed?.idempotencyKey).toBe('k');
    expect((await store.recoverExpired(T0 + 60_000)).requeued).toHaveLength(1);
    db.prepare('DELETE FROM tasks').run();
    expect(db.prepare('SELECT count(*) FROM task_replies').pluck().get()).toBe(0);
    db.close();
  });

  it('0005 adds the lease process and session owner columns, keeping running leases and live sessions', async () => {
    const db = new Database(join(dir, 'owners.db'));
    applyMigrations(
      db,
      MIGRATIONS.filter((m) => m.name < '0005'),
    );
    const T0 = 1_700_000_000_000;
    db.prepare(`INSERT INTO tasks (status, priority, run_at, type, description, input, attempts,
      max_attempts, created_at, started_at, metadata, lease_owner, lease_expires_at)
      VALUES ('running', 2, ?, 'manual', 'x', '"y"', 1, 3, ?, ?, '{}', 'old-host', ?)`).run(
      T0,
      T0,
      T0,
      T0 + 30_000,
    );
    db.prepare(`INSERT INTO sessions (id, user_key, address, name, agent, status, active,
      idle_timeout_ms, last_activity_at, created_at, resource, metadata)
      VALUES ('s1', 'chat:1', '{"channel":"chat","id":"1"}', 'main', 'cli', 'live', 1, 600000, ?, ?,
      '{"pid":1}', '{}')`).run(T0, T0);
    expect(applyMigrations(db)).toEqual([
      '0005_process_owners',
      '0006_dead_letters',
      '0007_task_counts',
      '0008_task_counts_batch_tallies',
      '0009_tasks_held',
      '0010_task_counts_off_hot_path',
      '0011_task_counts_inserts_in_code',
      '0012_task_counts_status_changes_in_code',
    ]);
    const tasks = new SqliteTaskStore(db);
    expect(await tasks.listLeases()).toEqual([
      { taskId: expect.any(String), owner: 'old-host', expiresAt: T0 + 30_000, process: null },
    ]);
    expect(await new SqliteSessionStore(db).get('s1')).toMatchObject({
      status: 'live',
      resource: { pid: 1 },
      owner: null,
    });
    db.close();
  });

  it('0009 lets tasks be held, keeping every task, its counts and the counting triggers', async () => {
    const path = join(dir, 'held.db');
    const db = new Database(path);
    applyMigrations(
      db,
      MIGRATIONS.filter((m) => m.name < '0009'),
    );
    const T0 = 1_700_000_000_000;
    const insert =
      db.prepare(`INSERT INTO tasks (status, priority, run_at, type, description, input,
      max_attempts, created_at, metadata) VALUES (?, ?, ?, 'reminder', 'x', '"y"', 3, ?, '{}')`);
    insert.run('pending', 1, T0 + 60_000, T0);
    insert.run('completed', 2, T0, T0);
    expect(() => db.prepare("UPDATE tasks SET status = 'held'").run()).toThrow(/CHECK/);
    expect(applyMigrations(db)).toEqual([
      '0009_tasks_held',
      '0010_task_counts_off_hot_path',
      '0011_task_counts_inserts_in_code',
      '0012_task_counts_status_changes_in_code',
    ]);
    const tasks = new SqliteTaskStore(db);
    expect(await tasks.counts()).toMatchObject({ pending: 1, completed: 1, held: 0 });
    const [reminder] = await tasks.list({ status: 'pending' });
    expect(await tasks.hold(reminder!.id)).toEqual({ ...reminder, status: 'held' });
    // The hold moved the count (the store's code does, since 0012).
    expect(await tasks.counts()).toMatchObject({ pending: 0, held: 1, completed: 1 });
    expect(() => db.prepare("UPDATE tasks SET status = 'done'").run()).toThrow(/CHECK/);
    db.close();

    // Held survives a restart: a new connection reads it held, and never claims it.
    const reopened = openDatabase({ path });
    const again = new SqliteTaskStore(reopened);
    expect((await again.get(reminder!.id))?.status).toBe('held');
    expect(await again.claim({ owner: 'o', leaseMs: 1000, now: T0 + 120_000 })).toEqual([]);
    expect((await again.release(reminder!.id))?.status).toBe('pending');
    const [claimed] = await again.claim({ owner: 'o', leaseMs: 1000, now: T0 + 120_000 });
    expect(claimed).toMatchObject({ id: reminder!.id, runAt: T0 + 60_000, priority: 1 });
    reopened.close();
  });

  it('0010 upgrades a file at the 0009 schema: same figures, and the hot path writes no count', async () => {
    const path = join(dir, 'hot-path.db');
    const old = new Database(path);
    applyMigrations(
      old,
      MIGRATIONS.filter((m) => m.name < '0010'),
    );
    const T0 = 1_700_000_000_000;
    const insert =
      old.prepare(`INSERT INTO tasks (status, priority, run_at, type, description, input,
      max_attempts, created_at, metadata, lease_owner, lease_expires_at)
      VALUES (?, ?, ?, 'manual', 'x', '"y"', 3, ?, '{}', ?, ?)`);
    // Every status at every priority, a different number of each (1 to 24 tasks).
    let k = 0;
    for (const status of TASK_STATUSES) {
      for (let priority = 0; priority < 4; priority++) {
        k++;
        for (let i = 0; i < k; i++) {
          const lease = status === 'running' ? ['old-host', T0 + 60_000] : [null, null];
          insert.run(status, priority, T0 + i, T0, ...lease);
        }
      }
    }
    const before = countRows(old);
    // 0007's counts, as that schema kept them: one row per status and priority.
    const oldCounts = old
      .prepare('SELECT status, priority, n FROM task_counts WHERE n <> 0')
      .all() as { status: TaskStatus; priority: number; n: number }[];
    expect(oldCounts).toHaveLength(TASK_STATUSES.length * 4);
    for (const row of oldCounts) expect(row.n).toBe(before[row.status][row.priority]);
    old.close();

    const db = openDatabase({ path });
    expect(
      db.prepare("SELECT name FROM agentd_migrations WHERE name LIKE '0010%'").pluck().all(),
    ).toEqual(['0010_task_counts_off_hot_path']);
    const store = new SqliteTaskStore(db);
    expect(await store.stats(T0 + 1)).toEqual({ byPriority: before, oldestRunnableAt: T0 });
    // The three hot statuses are one count per priority now, the others as before.
    const counts = () =>
      db.prepare('SELECT status, priority, n FROM task_counts WHERE n <> 0 ORDER BY 1, 2').all();
    const group = { status: 'pending|running|completed', priority: 3 };
    expect(counts()).toContainEqual({
      ...group,
      n: before.pending[3]! + before.running[3]! + before.completed[3]!,
    });
    expect(counts()).toContainEqual({ status: 'failed', priority: 0, n: before.failed[0] });
    expect(counts()).not.toContainEqual(expect.objectContaining({ status: 'completed' }));
    // Claims, completions, a retry and a lease recovery leave task_counts as it is ...
    const untouched = counts();
    const claim = { owner: 'me', leaseMs: 1000, now: T0 + 10 };
    const [a, b] = await store.claim({ ...claim, limit: 2 });
    await store.complete(a!.id, 'me', null, T0 + 10);
    const retry = { now: T0 + 10, retryAt: T0 + 20 };
    await store.fail(b!.id, 'me', { name: 'E', message: 'again' }, retry);
    const [c] = await store.claim({ ...claim, now: T0 + 30 });
    await store.completeAndClaim(c!.id, 'me', null, { ...claim, now: T0 + 30 });
    expect((await store.recoverExpired(T0 + 120_000)).requeued.length).toBeGreaterThan(0);
    expect(counts()).toEqual(untouched);
    // ... and every figure still equals a count of the rows.
    expect((await store.stats(T0 + 200_000)).byPriority).toEqual(countRows(db));
    // Leaving the group moves the counts: a cancellation, a hold, a delete.
    const [first, second] = await store.list({ status: 'pending', limit: 2 });
    await store.cancel(first!.id, T0 + 200_000);
    await store.hold(second!.id);
    db.prepare("DELETE FROM tasks WHERE status = 'completed' AND priority = 1").run();
    expect(counts()).not.toEqual(untouched);
    expect((await store.stats(T0 + 200_000)).byPriority).toEqual(countRows(db));
    db.close();
  });

  it('0011 upgrades a file at the 0010 schema: counts kept, inserts counted without a trigger', async () => {
    const path = join(dir, 'inserts-in-code.db');
    const old = new Database(path);
    applyMigrations(
      old,
      MIGRATIONS.filter((m) => m.name < '0011'),
    );
    const T0 = 1_700_000_000_000;
    // Rows inserted by hand under 0010: its trigger counts them.
    const insert =
      old.prepare(`INSERT INTO tasks (status, priority, run_at, type, description, input,
      max_attempts, created_at, metadata) VALUES (?, ?, ?, 'manual', 'x', '"y"', 3, ?, '{}')`);
    insert.run('pending', 1, T0, T0);
    insert.run('failed', 3, T0, T0);
    old.close();

    const db = openDatabase({ path });
    const objects = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE name = 'task_counts_insert' OR name = 'task_counts_deferred'",
      )
      .all();
    expect(objects).toEqual([]);
    const store = new SqliteTaskStore(db);
    expect((await store.stats(T0)).byPriority).toEqual(countRows(db));
    // Every way this package inserts a task counts it: one, a batch, an answer.
    await store.enqueue({ input: 'one', priority: 0 }, T0);
    await store.enqueueMany(
      [{ input: 'a', priority: 3 }, { input: 'b' }, { input: 'c', idempotencyKey: 'k' }],
      T0,
    );
    await store.recordAnswer(
      { replyTo: { channel: 'c', id: '1' }, text: 'hi', idempotencyKey: 'a' },
      T0,
    );
    const byPriority = countRows(db);
    expect(byPriority.pending).toEqual([1, 1, 2, 1]);
    expect(byPriority.completed).toEqual([0, 0, 1, 0]);
    expect((await store.stats(T0)).byPriority).toEqual(byPriority);
    db.close();
  });

  it('0012 upgrades a file at the 0011 schema: counts kept, status changes counted without a trigger', async () => {
    const path = join(dir, 'status-in-code.db');
    const old = new Database(path);
    applyMigrations(
      old,
      MIGRATIONS.filter((m) => m.name < '0012'),
    );
    old.close();
    const db = openDatabase({ path });
    const triggers = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
      .pluck()
      .all();
    expect(triggers).toEqual(['task_counts_delete']);
    const store = new SqliteTaskStore(db);
    const T0 = 1_700_000_000_000;
    const owner = 'runner';
    const exact = async (at: number) =>
      expect((await store.stats(at)).byPriority).toEqual(countRows(db));
    const enqueued = await store.enqueueMany(
      Array.from({ length: 8 }, (_, i) => ({
        input: i,
        priority: (i % 4) as 0 | 1 | 2 | 3,
        maxAttempts: 1,
        replyTo: { channel: 'c', id: String(i) },
      })),
      T0,
    );
    const ids = enqueued.map((r) => r.task.id);
    // Hold, hold again (no change), release, hold: held moves in and out of the count.
    await store.hold(ids[0]!);
    await store.hold(ids[0]!);
    await store.hold(ids[1]!);
    await store.release(ids[1]!);
    await exact(T0);
    // Cancel a held, a pending and a running task.
    await store.cancel(ids[0]!, T0);
    await store.cancel(ids[2]!, T0);
    const claimed = await store.claim({ owner, leaseMs: 1000, now: T0, limit: 4 });
    expect(claimed).toHaveLength(4);
    await store.cancel(claimed[0]!.id, T0);
    await exact(T0);
    // A failure for good, a completion, a lease recovered into a failure (one attempt each).
    await store.fail(claimed[1]!.id, owner, { name: 'Error', message: 'x' }, { now: T0 });
    await store.complete(claimed[2]!.id, owner, 'done', T0);
    await exact(T0);
    const recovered = await store.recoverExpired(T0 + 5000);
    expect(recovered.failed).toEqual([claimed[3]!.id]);
    await exact(T0 + 5000);
    // A row the claim cannot read is failed by the claim; the other pending ones run.
    const seqs = db.prepare("SELECT seq FROM tasks WHERE status = 'pending'").pluck().all();
    expect(seqs).toHaveLength(2);
    db.prepare('UPDATE tasks SET input = ? WHERE seq = ?').run('{not json', seqs[0]);
    const runnable = await store.claim({ owner, leaseMs: 1000, now: T0 + 6000, limit: 10 });
    expect(runnable).toHaveLength(1);
    expect(countRows(db).failed.reduce((a, b) => a + b, 0)).toBe(3);
    await exact(T0 + 6000);
    db.close();
  });

  it('refuse to rebuild a table while foreign keys are enforced', () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    db.exec('CREATE TABLE t (x)');
    expect(() => rebuildTable(db, 't', (sql) => sql)).toThrow(/foreign_keys off/);
    db.close();
  });

  it('roll back when migrating leaves a reference dangling', () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    const parent: Migration = {
      name: 'a',
      up: (conn) => conn.exec('CREATE TABLE p (id INTEGER PRIMARY KEY)'),
    };
    const orphan: Migration = {
      name: 'b',
      up: (conn) =>
        conn.exec('CREATE TABLE c (p INTEGER REFERENCES p (id)); INSERT INTO c VALUES (7)'),
    };
    expect(() => applyMigrations(db, [parent, orphan])).toThrow(
      expect.objectContaining({ code: 'E_STORE_SCHEMA', message: expect.stringMatching(/c .*p/) }),
    );
    expect(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all()).toEqual(
      [],
    );
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });
});
