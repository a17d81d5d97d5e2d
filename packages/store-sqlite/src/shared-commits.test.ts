import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { StoreFaults } from './faults.js';
import { SharedCommits } from './shared-commits.js';
import { openSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-shared-commits-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh file with one table, and the WAL frames written so far (each commit appends its pages). */
function freshDatabase() {
  const path = join(dir, `db-${++n}.db`);
  const db = openDatabase({ path });
  db.pragma('wal_autocheckpoint = 0');
  db.exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL CHECK (v <> ''))");
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const walFrames = () => Math.max(0, (statSync(`${path}-wal`).size - 32) / (pageSize + 24));
  const put = db.prepare('INSERT INTO kv (k, v) VALUES (?, ?)');
  const commits = new SharedCommits(db, new StoreFaults(db, 2000));
  return { path, db, walFrames, put, commits };
}

describe('SharedCommits', () => {
  it('commits the writes of one turn together, each resolving once they are on disk', async () => {
    const { path, db, walFrames, put, commits } = freshDatabase();
    await commits.write('kv.put', () => put.run('first', 'v'));
    const before = walFrames();
    const writes = Array.from({ length: 20 }, (_, i) =>
      commits.write('kv.put', () => put.run(`k${i}`, 'v')),
    );
    // Queued, not run: nothing is visible before the commit.
    expect(db.prepare('SELECT count(*) AS c FROM kv').get()).toEqual({ c: 1 });
    const results = await Promise.all(writes);
    expect(results.every((r) => r.changes === 1)).toBe(true);
    // Another connection sees all twenty once the calls resolved.
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare('SELECT count(*) AS c FROM kv').get()).toEqual({ c: 21 });
    reader.close();
    // One commit of the table's and its key's pages (two frames), not twenty.
    expect(walFrames() - before).toBe(2);
    db.close();
  });

  it('commits alone what is written alone, and each turn separately', async () => {
    const { db, walFrames, put, commits } = freshDatabase();
    const before = walFrames();
    await commits.write('kv.put', () => put.run('a', 'v'));
    const oneCommit = walFrames() - before;
    await commits.write('kv.put', () => put.run('b', 'v'));
    expect(oneCommit).toBeGreaterThan(0);
    expect(walFrames() - before).toBe(2 * oneCommit);
    db.close();
  });

  it('a write that fails leaves the others of its turn committed, and rejects alone', async () => {
    const { db, put, commits } = freshDatabase();
    const good = commits.write('kv.put', () => put.run('a', 'v'));
    const bad = commits.write('kv.put', () => put.run('b', ''));
    const alsoGood = commits.write('kv.put', () => put.run('c', 'v'));
    await expect(bad).rejects.toThrow(/CHECK constraint/);
    await expect(good).resolves.toMatchObject({ changes: 1 });
    await expect(alsoGood).resolves.toMatchObject({ changes: 1 });
    expect(db.prepare('SELECT k FROM kv ORDER BY k').pluck().all()).toEqual(['a', 'c']);
    db.close();
  });

  it("waits out another connection's write lock, then commits every write", async () => {
    const { path, db, put, commits } = freshDatabase();
    db.pragma('busy_timeout = 5');
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const writes = [0, 1, 2].map((i) => commits.write('kv.put', () => put.run(`k${i}`, 'v')));
    setTimeout(() => other.exec('COMMIT'), 100);
    await Promise.all(writes);
    expect(db.prepare('SELECT count(*) AS c FROM kv').get()).toEqual({ c: 3 });
    other.close();
    db.close();
  });

  it("writes what is queued when the store closes within the writes' turn", async () => {
    const path = join(dir, `db-${++n}.db`);
    const store = openSqliteStore({ path });
    const set = store.state.set('ns', 'k', 'v');
    await store.close();
    await set;
    const again = openSqliteStore({ path });
    expect(await again.state.get('ns', 'k')).toBe('v');
    await again.close();
  });
});
