import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-store-faults-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;
const freshPath = () => join(dir, `faults-${++n}.db`);
const owner = 'runner-1';

/** Another process holding the file's write lock for `holdMs`; resolves once it holds it. */
async function holdLock(path: string, holdMs: number): Promise<{ released: Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      fileURLToPath(new URL('./test-fixtures/hold-lock.mjs', import.meta.url)),
      path,
      String(holdMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const released = new Promise<void>((resolve, reject) => {
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`lock holder exited ${code}`)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('locked')) resolve();
    });
    child.on('exit', () => reject(new Error(`lock holder exited before locking: ${out}`)));
  });
  return { released };
}

/** The longest gap between ticks of a 10 ms interval while `work` runs: event-loop blocking. */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last - 10);
    last = now;
  }, 10);
  try {
    const result = await work();
    return { result, stallMs };
  } finally {
    clearInterval(timer);
  }
}

describe('another process holding the write lock', () => {
  it('does not block the event loop: HTTP answers at once, and the waiting write succeeds after the lock is released', async () => {
    const path = freshPath();
    const store = openSqliteStore({ path, busyTimeoutMs: 15_000 });
    // A real HTTP endpoint in this process, standing in for the host's /live.
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const ping = () =>
      new Promise<number>((resolve, reject) => {
        const started = performance.now();
        request({ host: '127.0.0.1', port, path: '/live' }, (res) => {
          res.resume();
          res.on('end', () => resolve(performance.now() - started));
        })
          .on('error', reject)
          .end();
      });
    try {
      const lock = await holdLock(path, 5000);
      const lockedAt = Date.now();
      const { result, stallMs } = await longestStall(async () => {
        const write = store.tasks.enqueue({ input: 'waited for the lock' }, Date.now());
        const pings: number[] = [];
        while (Date.now() - lockedAt < 4000) {
          pings.push(await ping());
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return { task: (await write).task, pings };
      });
      await lock.released;
      // The write waited for the lock (about 5 s) without holding up anything else.
      expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(4500);
      expect(result.pings.length).toBeGreaterThan(20);
      // Blocking would hold every request for the whole 5 s lock. Without it, requests answer in
      // a few ms; the bounds leave room for a machine loaded by other test runs.
      const sorted = [...result.pings].sort((a, b) => a - b);
      expect(sorted[Math.floor(sorted.length * 0.9)]).toBeLessThan(100);
      expect(sorted.at(-1)).toBeLessThan(1000);
      expect(stallMs).toBeLessThan(1000);
      expect(await store.tasks.get(result.task.id)).toMatchObject({ input: 'waited for the lock' });
      expect(store.health()).toMatchObject({ status: 'pass' });
    } finally {
      server.close();
      await store.close();
    }
  }, 30_000);

  it('a lock held past busyTimeoutMs fails the write with SQLITE_BUSY and the health check until a write succeeds', async () => {
    const path = freshPath();
    const store = openSqliteStore({ path, busyTimeoutMs: 300 });
    try {
      const lock = await holdLock(path, 1500);
      const started = Date.now();
      await expect(store.tasks.enqueue({ input: 'too late' }, Date.now())).rejects.toMatchObject({
        code: 'SQLITE_BUSY',
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(store.health()).toMatchObject({
        status: 'fail',
        output: expect.stringMatching(/writes are failing .*tasks\.enqueue: SQLITE_BUSY/),
      });
      await lock.released;
      await store.tasks.enqueue({ input: 'in time' }, Date.now());
      expect(store.health()).toMatchObject({ status: 'pass' });
    } finally {
      await store.close();
    }
  }, 20_000);
});

describe('a full disk (max_page_count)', () => {
  it('fails writes with SQLITE_FULL, reports it in the health check, and recovers once writes fit again', async () => {
    const store = openSqliteStore({ path: freshPath() });
    try {
      await store.tasks.enqueue({ input: 'fits' }, Date.now());
      const db = store.database;
      const pages = db.pragma('page_count', { simple: true }) as number;
      // The database may not grow past its current size: SQLite answers SQLITE_FULL, as on a
      // full disk (max_page_count holds for this connection only).
      db.pragma(`max_page_count = ${pages}`);
      const big = { input: 'x'.repeat(200_000) };
      await expect(store.tasks.enqueue(big, Date.now())).rejects.toMatchObject({
        code: 'SQLITE_FULL',
      });
      expect(store.health()).toMatchObject({
        status: 'fail',
        output: expect.stringMatching(/tasks\.enqueue: SQLITE_FULL: database or disk is full/),
      });
      // Reads and claims that write nothing do not clear it: only a write that succeeds does.
      expect(await store.tasks.counts()).toMatchObject({ pending: 1 });
      expect(store.health().status).toBe('fail');

      db.pragma(`max_page_count = ${pages + 10_000}`);
      await store.tasks.enqueue(big, Date.now());
      expect(store.health()).toMatchObject({ status: 'pass' });
    } finally {
      await store.close();
    }
  });
});

/** Writes text that is not JSON into a task's column through a second connection. */
function damage(path: string, seq: number, col: string, text: string): void {
  const other = new Database(path);
  try {
    other.prepare(`UPDATE tasks SET ${col} = ? WHERE seq = ?`).run(text, seq);
  } finally {
    other.close();
  }
}

const lastSeq = (store: SqliteStore) =>
  store.database.prepare('SELECT max(seq) FROM tasks').pluck().get() as number;

describe('a task row that cannot be read', () => {
  it('ends failed with an error naming the column (not its content), and every other task runs', async () => {
    const path = freshPath();
    const store = openSqliteStore({ path });
    try {
      const now = Date.now();
      const first = (await store.tasks.enqueue({ input: 'first' }, now)).task;
      const bad = (
        await store.tasks.enqueue(
          { input: 'secret sk-proj-abc', replyTo: { channel: 'telegram', id: '42' } },
          now + 1,
        )
      ).task;
      const badSeq = lastSeq(store);
      damage(path, badSeq, 'input', '{"text": sk-proj-abc');
      const last = (await store.tasks.enqueue({ input: 'last' }, now + 2)).task;

      const ran: string[] = [];
      for (let i = 0; i < 5; i++) {
        const claimed = await store.tasks.claim({ owner, leaseMs: 30_000, now: now + 10 });
        for (const task of claimed) {
          ran.push(task.input as string);
          await store.tasks.complete(task.id, owner, null, now + 10);
        }
      }
      expect(ran).toEqual(['first', 'last']);
      expect(store.health()).toMatchObject({ status: 'pass' });

      const failed = await store.tasks.get(bad.id);
      expect(failed).toMatchObject({ status: 'failed', input: null });
      expect(failed?.error?.name).toBe('UnreadableTask');
      expect(failed?.error?.message).toMatch(/"input" column does not hold valid JSON/);
      expect(failed?.error?.message).not.toContain('sk-proj');
      // The row itself is kept as it was, for inspection.
      expect(
        store.database.prepare('SELECT input FROM tasks WHERE seq = ?').pluck().get(badSeq),
      ).toBe('{"text": sk-proj-abc');
      // Listing still works, and the failure is owed to whoever asked.
      expect((await store.tasks.list()).map((t) => t.id)).toEqual([last.id, bad.id, first.id]);
      const owed = await store.tasks.claimReplies({ now: now + 120_000, leaseMs: 30_000 });
      expect(owed.map((r) => r.task.id)).toEqual([bad.id]);
      expect(owed[0]?.task.error?.name).toBe('UnreadableTask');
    } finally {
      await store.close();
    }
  });

  it('in a batch claim and in completeAndClaim, only the unreadable row is held back', async () => {
    const path = freshPath();
    const store = openSqliteStore({ path });
    try {
      const now = Date.now();
      const created = await store.tasks.enqueueMany(
        Array.from({ length: 6 }, (_, i) => ({ input: `t${i}`, metadata: { i } })),
        now,
      );
      const ids = created.map((r) => r.task.id);
      const seqs = store.database
        .prepare('SELECT seq FROM tasks ORDER BY seq')
        .pluck()
        .all() as number[];
      damage(path, seqs[1]!, 'metadata', '{not json');
      damage(path, seqs[4]!, 'input', '');
      const batch = await store.tasks.claim({ owner, leaseMs: 30_000, now: now + 1, limit: 3 });
      expect(batch.map((t) => t.input)).toEqual(['t0', 't2']);
      const next = await store.tasks.completeAndClaim(batch[0]!.id, owner, 'ok', {
        owner,
        leaseMs: 30_000,
        now: now + 2,
        limit: 3,
      });
      expect(next.completed).toBe(true);
      expect(next.claimed.map((t) => t.input)).toEqual(['t3', 't5']);
      const byId = await Promise.all([ids[1]!, ids[4]!].map((id) => store.tasks.get(id)));
      expect(byId.map((t) => [t?.status, t?.error?.message.match(/"(\w+)" column/)?.[1]])).toEqual([
        ['failed', 'metadata'],
        ['failed', 'input'],
      ]);
    } finally {
      await store.close();
    }
  });
});

describe('claims that keep failing', () => {
  it('warn, then fail the health check, and pass again once a claim succeeds', async () => {
    const path = freshPath();
    const store = openSqliteStore({ path });
    try {
      await store.tasks.enqueue({ input: 'waits' }, Date.now());
      // Another connection drops the index every claim reads through: each claim now fails
      // inside SQLite, a failure no row-level handling can absorb.
      const other = new Database(path);
      const indexSql = other
        .prepare("SELECT sql FROM sqlite_master WHERE name = 'tasks_open'")
        .pluck()
        .get() as string;
      other.exec('DROP INDEX tasks_open');
      const claim = () => store.tasks.claim({ owner, leaseMs: 30_000, now: Date.now() });
      await expect(claim()).rejects.toThrow(/tasks_open/);
      expect(store.health()).toMatchObject({ status: 'warn' });
      await expect(claim()).rejects.toThrow();
      await expect(claim()).rejects.toThrow();
      expect(store.health()).toMatchObject({
        status: 'fail',
        output: expect.stringMatching(/claiming tasks failed 3x in a row .*no task can start/),
      });
      other.exec(indexSql);
      other.close();
      expect((await claim()).map((t) => t.input)).toEqual(['waits']);
      expect(store.health()).toMatchObject({ status: 'pass' });
    } finally {
      await store.close();
    }
  });
});
