import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonValue, NewTask } from '@agentd/core';
import { afterAll, describe, expect, it } from 'vitest';
import { BUSY_WAIT_IN_PLACE_MS } from './faults.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-store-sqlite-'));
let n = 0;
const freshPath = () => join(dir, `db-${++n}.db`);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 0, 1);
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (e: unknown) => (e as { code?: unknown }).code,
  );

async function withStore(
  fn: (store: ReturnType<typeof openSqliteStore>) => Promise<void>,
  options: Partial<SqliteStoreOptions> = {},
) {
  const store = openSqliteStore({ path: freshPath(), ...options });
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

describe('openSqliteStore', () => {
  it('sets the pragmas multi-process use relies on', async () => {
    await withStore(async (store) => {
      const db = store.database;
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      // SQLite waits for another process's lock only briefly in place; longer waits happen on
      // timers (see the busy-lock test in store-faults.test.ts), so the event loop keeps running.
      expect(db.pragma('busy_timeout', { simple: true })).toBe(BUSY_WAIT_IN_PLACE_MS);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    });
    await withStore(
      async (store) => {
        expect(store.database.pragma('synchronous', { simple: true })).toBe(2); // FULL
        expect(store.database.pragma('busy_timeout', { simple: true })).toBe(BUSY_WAIT_IN_PLACE_MS);
      },
      { synchronous: 'FULL', busyTimeoutMs: 250 },
    );
  });

  it('creates missing directories and describes itself by absolute path', async () => {
    const path = join(dir, 'nested', 'deeper', 'agentd.db');
    const store = openSqliteStore({ path });
    expect(store.description).toBe(`sqlite:${path}`);
    expect(store.path).toBe(path);
    await store.close();
  });

  it('works in memory', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const { task } = await store.tasks.enqueue({ input: 'x' }, T0);
    expect((await store.tasks.get(task.id))?.input).toBe('x');
    expect(store.description).toBe('sqlite::memory:');
    await store.close();
  });

  it('claims more tasks in one call than SQLite takes parameters in one statement', async () => {
    const store = openSqliteStore({ path: join(dir, 'wide-claim.db') });
    const n = 33_000;
    await store.tasks.enqueueMany(
      Array.from({ length: n }, (_, i) => ({ input: i })),
      T0,
    );
    const claimed = await store.tasks.claim({ owner: 'w', leaseMs: 60_000, now: T0, limit: n });
    expect(claimed).toHaveLength(n);
    expect(claimed.map((t) => t.input)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect((await store.tasks.counts()).running).toBe(n);
    await store.close();
  });

  it('rejects bad options', () => {
    const bad: unknown[] = [
      {},
      { path: '' },
      { path: 'x.db', busyTimeoutMs: -1 },
      { path: 'x.db', synchronous: 'OFF' },
      { path: 'x.db', maxPayloadBytes: 0 },
    ];
    for (const options of bad) {
      expect(() => openSqliteStore(options as SqliteStoreOptions)).toThrow(
        expect.objectContaining({ code: 'E_STORE_OPTIONS' }),
      );
    }
  });

  it('keeps tasks and their ids across reopening; ids of another file are unknown', async () => {
    const path = freshPath();
    const first = openSqliteStore({ path });
    const { task } = await first.tasks.enqueue(
      { input: 'durable', replyTo: { channel: 'c', id: '1' } },
      T0,
    );
    await first.close();
    const second = openSqliteStore({ path });
    expect(await second.tasks.get(task.id)).toEqual(task);
    const { task: next } = await second.tasks.enqueue({ input: 'next' }, T0);
    expect(next.id.slice(0, 5)).toBe(task.id.slice(0, 5));
    await second.close();
    await withStore(async (other) => {
      await other.tasks.enqueue({ input: 'other' }, T0);
      expect(await other.tasks.get(task.id)).toBeUndefined();
    });
  });

  it('rejects calls after close', async () => {
    const store = openSqliteStore({ path: freshPath() });
    await store.close();
    await expect(store.tasks.enqueue({ input: 'x' }, T0)).rejects.toThrow(/not open/);
  });
});

describe('SqliteTaskStore specifics', () => {
  it('keeps a batch whole when reading one of its tasks enqueues others', async () => {
    await withStore(async (store) => {
      let nested: Promise<unknown> | undefined;
      const sneaky = {
        get input() {
          // Runs while the batch is validated and written, inside its transaction.
          nested ??= Promise.all([
            store.tasks.enqueueMany([{ input: 'inner 1' }, { input: 'inner 2' }], T0),
            store.tasks.enqueue({ input: 'inner 3' }, T0),
          ]);
          return 'outer 3';
        },
      } as NewTask;
      const batch: NewTask[] = Array.from({ length: 40 }, (_, i) => ({ input: `outer ${i}` }));
      batch[3] = sneaky;
      const results = await store.tasks.enqueueMany(batch, T0);
      await nested;
      expect(results.map((r) => r.task.input)).toEqual(batch.map((_, i) => `outer ${i}`));
      for (const r of results) expect(await store.tasks.get(r.task.id)).toEqual(r.task);
      const stored = (await store.tasks.list({ limit: 100 })).map((t) => t.input);
      expect(stored).toHaveLength(43);
      expect(stored).toEqual(expect.arrayContaining(['inner 1', 'inner 2', 'inner 3']));
    });
  });

  it('stores every column of a batch whether its rows share the value or not', async () => {
    // A batch binds a column once per 16 rows when those rows agree on it (task-insert.ts):
    // chunk c of 16 tasks varies the columns of c's bits within the chunk and keeps the others
    // constant (a value of its own), so 48 chunks make 48 masks, past the statements kept
    // (the rest go in with every column bound per row). Chunks where c % 7 === 0 repeat one
    // input, so some chunks agree on every column. Two keyed tasks cut the batch where they are.
    await withStore(async (store) => {
      const batch: NewTask[] = [];
      for (let c = 0; c < 48; c++) {
        for (let r = 0; r < 16; r++) {
          const varies = (bit: number) => ((c >> bit) & 1) === 1;
          const pick = <T>(bit: number, same: T, other: T) => (varies(bit) && r % 2 ? other : same);
          batch.push({
            input: c % 7 === 0 ? { same: c } : { c, r },
            priority: pick(0, (c % 4) as 0 | 1 | 2 | 3, 3),
            runAt: pick(1, T0 + c, T0 + 1000 + r),
            sessionKey: pick(2, c % 3 ? undefined : `s${c}`, `s${c}-${r}`),
            type: pick(3, `type-${c}`, 'other'),
            agent: pick(4, c % 5 ? 'noop' : undefined, `agent-${r}`),
            description: pick(5, c % 2 ? undefined : `about ${c}`, `row ${r}`),
            maxAttempts: pick(0, 1 + (c % 3), 9),
            replyTo: pick(2, c % 2 ? undefined : { channel: 'cli', id: `${c}` }, {
              channel: 'x',
              id: `${r}`,
            }),
            metadata: pick<Record<string, JsonValue> | undefined>(
              1,
              c % 3 ? undefined : { chunk: c },
              { row: r },
            ),
          });
        }
      }
      batch.splice(100, 0, { input: 'keyed 1', idempotencyKey: 'k1' });
      batch.splice(517, 0, { input: 'keyed 2', idempotencyKey: 'k2', priority: 0 });
      const results = await store.tasks.enqueueMany(batch, T0);
      expect(results).toHaveLength(batch.length);
      const seqs = results.map((r) => Number.parseInt(r.task.id.slice(5), 36)); // five-letter prefix
      // Ids in input order, one apart: each chunk's rows went in in order.
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1] as number) + 1);
      for (const [i, { task, created }] of results.entries()) {
        expect(created).toBe(true);
        expect(await store.tasks.get(task.id)).toEqual(task);
        const given = batch[i] as NewTask;
        expect(task).toMatchObject({
          input: given.input,
          priority: given.priority ?? 2,
          runAt: given.runAt ?? T0,
          sessionKey: given.sessionKey ?? null,
          type: given.type ?? 'manual',
          agent: given.agent ?? null,
          maxAttempts: given.maxAttempts ?? 3,
          replyTo: given.replyTo ?? null,
          metadata: given.metadata ?? {},
          createdAt: T0,
          status: 'pending',
        });
        if (given.description !== undefined) expect(task.description).toBe(given.description);
      }
      const byPriority = [0, 0, 0, 0];
      for (const t of batch) (byPriority[t.priority ?? 2] as number)++;
      const stats = await store.tasks.stats(T0);
      expect(stats.byPriority.pending).toEqual(byPriority);
    });
  });

  it('counts what batches insert exactly: keys taken, nested batches, batches rolled back', async () => {
    await withStore(async (store) => {
      type CountRow = { status: string; priority: number; n: number };
      const byRows = () =>
        store.database
          .prepare(
            'SELECT status, priority, count(*) AS n FROM tasks GROUP BY status, priority ORDER BY 1, 2',
          )
          .all() as CountRow[];
      const outOfRange = (priority: number) => ({ input: 'bad', priority }) as unknown as NewTask;
      // What stats() reads (task_counts for the rarer statuses, the open-tasks index for
      // pending and running, completed as the rest), as rows like byRows'.
      const byCounts = async () => {
        const { byPriority } = await store.tasks.stats(T0);
        return Object.entries(byPriority)
          .flatMap(([status, ns]) => ns.map((n, priority) => ({ status, priority, n })))
          .filter((r) => r.n !== 0)
          .sort((a, b) => a.status.localeCompare(b.status) || a.priority - b.priority);
      };
      const mixed = (tag: string, size: number): NewTask[] =>
        Array.from({ length: size }, (_, i) => ({
          input: `${tag} ${i}`,
          priority: (i % 4) as 0 | 1 | 2 | 3,
          ...(i % 10 === 0 ? { idempotencyKey: `key ${i % 30}` } : {}),
        }));
      await store.tasks.enqueueMany(mixed('first', 100), T0);
      // The same keys again: those tasks exist and are not counted twice.
      await store.tasks.enqueueMany(mixed('second', 50), T0);
      // A nested batch that fails rolls back its rows, and its tallies with them.
      const failing = {
        get input() {
          void store.tasks
            .enqueueMany([{ input: 'kept?', priority: 1 }, outOfRange(9)], T0)
            .catch(() => undefined);
          void store.tasks.enqueue({ input: 'inner single', priority: 0 }, T0);
          void store.tasks.enqueueMany([{ input: 'inner batch', priority: 3 }], T0);
          return 'outer';
        },
      } as NewTask;
      await store.tasks.enqueueMany([...mixed('third', 20), failing, ...mixed('fourth', 20)], T0);
      // A batch that fails as a whole writes nothing, counts included.
      const bad = store.tasks.enqueueMany([...mixed('fifth', 40), outOfRange(7)], T0);
      expect(await codeOf(bad)).toBe('E_INVALID_TASK');
      // A single enqueue and a status change after the batches.
      await store.tasks.enqueue({ input: 'single', priority: 3 }, T0);
      // A single enqueue whose key is taken, and an answer recorded twice, count once each.
      await store.tasks.enqueue({ input: 'again', priority: 1, idempotencyKey: 'key 0' }, T0);
      const answer = { replyTo: { channel: 'c', id: '1' }, text: 'hi', idempotencyKey: 'a' };
      await store.tasks.recordAnswer(answer, T0);
      await store.tasks.recordAnswer(answer, T0);
      const [claimed] = await store.tasks.claim({ owner: 'me', leaseMs: 1000, now: T0 });
      await store.tasks.complete(claimed?.id as string, 'me', null, T0);
      const rows = byRows();
      expect(await byCounts()).toEqual(rows);
      // first: 90 without a key and 3 distinct keys; second: 45 without a key, its keys taken;
      // third and fourth: 18 each, the outer task, the inner single and inner batch tasks (the
      // failing nested batch kept nothing); the single enqueue; the answer.
      expect(rows.reduce((sum, r) => sum + r.n, 0)).toBe(93 + 45 + (36 + 3) + 1 + 1);
      const stats = await store.tasks.stats(T0);
      expect(stats.byPriority.completed).toEqual([1, 0, 1, 0]);
      // Counted by the code that inserts: no insert trigger (migration 0011).
      expect(
        store.database
          .prepare(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'task_counts_insert'",
          )
          .pluck()
          .get(),
      ).toBe(0);
    });
  });

  it('honours a custom payload cap', async () => {
    await withStore(
      async (store) => {
        await store.tasks.enqueue({ input: 'a'.repeat(90) }, T0);
        const error = await store.tasks
          .enqueue({ input: 'a'.repeat(200) }, T0)
          .catch((e: Error) => e);
        expect(error).toMatchObject({ code: 'E_INVALID_TASK' });
        expect((error as Error).message).toMatch(/is 204 bytes, over the cap of 100 bytes/);
      },
      { maxPayloadBytes: 100 },
    );
  });

  it('rejects malformed fields with E_INVALID_TASK', async () => {
    await withStore(async (store) => {
      const bad: unknown[] = [
        null,
        { input: 'x', idempotencyKey: '' },
        { input: 'x', sessionKey: 42 },
        { input: 'x', type: '' },
        { input: 'x', agent: '' },
        { input: 'x', description: 7 },
        { input: 'x', metadata: [1] },
        { input: 'x', replyTo: { channel: 'c' } },
        { input: 'x', replyTo: { channel: 'c', id: '1', thread: 2 } },
      ];
      for (const task of bad) {
        expect(await codeOf(store.tasks.enqueue(task as NewTask, T0))).toBe('E_INVALID_TASK');
      }
      const error = await store.tasks
        .enqueueMany([{ input: 'ok' }, { input: 'x', priority: 7 as 0 }], T0)
        .catch((e: Error) => e);
      expect((error as Error).message).toMatch(/^tasks\[1\]: priority/);
    });
  });

  it('cuts a long text description without splitting a surrogate pair', async () => {
    await withStore(async (store) => {
      const { task } = await store.tasks.enqueue({ input: `${'a'.repeat(198)}🦀🦀🦀` }, T0);
      expect(task.description).toBe(`${'a'.repeat(198)}🦀…`);
      expect((await store.tasks.get(task.id))?.description).toBe(task.description);
    });
  });

  it('rejects a non-JSON result and invalid claims', async () => {
    await withStore(async (store) => {
      const { task } = await store.tasks.enqueue({ input: 'x' }, T0);
      expect(
        await codeOf(store.tasks.claim({ owner: 'o', leaseMs: 1000, limit: 0, now: T0 })),
      ).toBe('E_INVALID_CLAIM');
      expect(await codeOf(store.tasks.claim({ owner: '', leaseMs: 1000, now: T0 }))).toBe(
        'E_INVALID_CLAIM',
      );
      expect(await codeOf(store.tasks.claim({ owner: 'o', leaseMs: 0, now: T0 }))).toBe(
        'E_INVALID_CLAIM',
      );
      await store.tasks.claim({ owner: 'o', leaseMs: 1000, now: T0 });
      const result = { n: 10n } as unknown as JsonValue;
      expect(await codeOf(store.tasks.complete(task.id, 'o', result, T0))).toBe('E_INVALID_RESULT');
      expect((await store.tasks.get(task.id))?.status).toBe('running');
    });
  });

  it('records a malformed error as a TaskError instead of failing', async () => {
    await withStore(async (store) => {
      const { task } = await store.tasks.enqueue({ input: 'x' }, T0);
      await store.tasks.claim({ owner: 'o', leaseMs: 1000, now: T0 });
      const failed = await store.tasks.fail(task.id, 'o', new RangeError('too far'), { now: T0 });
      expect(failed?.error).toEqual({ name: 'RangeError', message: 'too far' });
    });
  });
});

describe('SqliteStateStore specifics', () => {
  it('expires values by the injected clock', async () => {
    let now = T0;
    await withStore(
      async (store) => {
        await store.state.set('ns', 'k', 'v', { ttlMs: 1000 });
        now = T0 + 999;
        expect(await store.state.get('ns', 'k')).toBe('v');
        expect(await store.state.compareAndSet('ns', 'k', 'v', 'w')).toBe(true);
        // compareAndSet writes a value without a TTL.
        now = T0 + 5000;
        expect(await store.state.get('ns', 'k')).toBe('w');
        await store.state.set('ns', 'gone', 1, { ttlMs: 10 });
        now += 10;
        expect(await store.state.get('ns', 'gone')).toBeUndefined();
        expect(await store.state.compareAndSet('ns', 'gone', 1, 2)).toBe(false);
      },
      { now: () => now },
    );
  });

  it('purges expired rows as it writes', async () => {
    let now = T0;
    await withStore(
      async (store) => {
        for (let i = 0; i < 10; i++)
          await store.state.set('seen', `id-${i}`, true, { ttlMs: 1000 });
        now = T0 + 120_000;
        await store.state.set('seen', 'fresh', true, { ttlMs: 1000 });
        expect(store.database.prepare('SELECT count(*) FROM state').pluck().get()).toBe(1);
      },
      { now: () => now },
    );
  });

  it('rejects a bad TTL', async () => {
    await withStore(async (store) => {
      expect(await codeOf(store.state.set('ns', 'k', 1, { ttlMs: 0 }))).toBe('E_INVALID_STATE');
      expect(await codeOf(store.state.set('ns', 'k', 1, { ttlMs: Number.NaN }))).toBe(
        'E_INVALID_STATE',
      );
    });
  });
});

describe('SqliteSessionStore specifics', () => {
  const base = { userKey: 'u', address: { channel: 'c', id: '1' }, agent: 'a' };

  it('finds the newest non-archived session of a repeated name', async () => {
    await withStore(async (store) => {
      const old = await store.sessions.create({ ...base, name: 'work' }, T0);
      await store.sessions.update(old.id, { status: 'archived' });
      const current = await store.sessions.create({ ...base, name: 'work' }, T0 + 1);
      expect((await store.sessions.findByName('u', 'work'))?.id).toBe(current.id);
      await store.sessions.update(current.id, { status: 'archived' });
      expect((await store.sessions.findByName('u', 'work'))?.id).toBe(current.id);
    });
  });

  it('rejects history for an unknown session and invalid fields', async () => {
    await withStore(async (store) => {
      expect(
        await codeOf(store.sessions.appendHistory('nope', { role: 'user', content: 'x', at: T0 })),
      ).toBe('E_UNKNOWN_SESSION');
      expect(await codeOf(store.sessions.create({ ...base, name: '' }, T0))).toBe(
        'E_INVALID_SESSION',
      );
      expect(
        await codeOf(store.sessions.create({ ...base, name: 'n', idleTimeoutMs: 0 }, T0)),
      ).toBe('E_INVALID_SESSION');
      const s = await store.sessions.create({ ...base, name: 'n' }, T0);
      const bad = { status: 'asleep' } as unknown as Parameters<typeof store.sessions.update>[1];
      expect(await codeOf(store.sessions.update(s.id, bad))).toBe('E_INVALID_SESSION');
    });
  });
});
