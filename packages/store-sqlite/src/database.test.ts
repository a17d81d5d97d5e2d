import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, WAL_SIZE_LIMIT_BYTES } from './database.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-database-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('openDatabase', () => {
  it('opens a file in WAL mode with the pragmas the store relies on', () => {
    const db = openDatabase({ path: join(dir, 'nested', 'pragmas.db') });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('journal_size_limit', { simple: true })).toBe(WAL_SIZE_LIMIT_BYTES);
    } finally {
      db.close();
    }
  });

  it('cuts a WAL grown past the limit back when SQLite starts it over', () => {
    const path = join(dir, 'wal-limit.db');
    const db = openDatabase({ path });
    try {
      // One transaction larger than the limit: 18,000 rows of a page each, about 72 MiB of WAL.
      db.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE filler (data BLOB NOT NULL)');
      const insert = db.prepare('INSERT INTO filler (data) VALUES (?)');
      const burst = db.transaction(() => {
        for (let i = 0; i < 18_000; i++) insert.run(Buffer.alloc(4000, i % 256));
      });
      burst();
      const grown = statSync(`${path}-wal`).size;
      expect(grown).toBeGreaterThan(WAL_SIZE_LIMIT_BYTES);

      // Once every frame is in the file, the next write starts the WAL over, and its commit
      // truncates the file to the limit.
      const [checkpoint] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number }[];
      expect(checkpoint?.busy).toBe(0);
      db.prepare('DELETE FROM filler WHERE rowid = 1').run();
      expect(statSync(`${path}-wal`).size).toBeLessThanOrEqual(WAL_SIZE_LIMIT_BYTES);
    } finally {
      db.close();
    }
  });

  it('leaves an in-memory database in memory', () => {
    const db = openDatabase({ path: ':memory:' });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('memory');
    } finally {
      db.close();
    }
  });
});
