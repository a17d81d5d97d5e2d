import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkIntegrity,
  createBackup,
  findDamage,
  listBackups,
  recoverCorruptDatabase,
  UnrecoverableDatabaseError,
} from './backup.js';
import { openSqliteStore } from './sqlite-store.js';

let dir: string;
let dbPath: string;
let backups: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agentd-backup-'));
  dbPath = join(dir, 'agentd.db');
  backups = join(dir, 'backups');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function storeWithTasks(n: number) {
  const store = openSqliteStore({ path: dbPath });
  await store.tasks.enqueueMany(
    Array.from({ length: n }, (_, i) => ({ input: `task ${i} ${'x'.repeat(500)}`, agent: 'a' })),
    Date.now(),
  );
  return store;
}

function corrupt(path: string, how: 'truncate' | 'garbage-pages' | 'garbage-header'): void {
  if (how === 'truncate') {
    truncateSync(path, 4096 * 3 + 100);
    return;
  }
  const fd = openSync(path, 'r+');
  const junk = Buffer.alloc(how === 'garbage-header' ? 100 : 4096 * 4, 0xa5);
  writeSync(fd, junk, 0, junk.length, how === 'garbage-header' ? 0 : 4096 * 2);
  closeSync(fd);
}

describe('findDamage', () => {
  it('tells a file this process cannot read from a damaged one: no advice to move it away', async () => {
    const store = await storeWithTasks(10);
    await store.close();
    expect(findDamage(dbPath)).toBeUndefined();
    corrupt(dbPath, 'garbage-header');
    expect(findDamage(dbPath)).toMatch(/not a database/);
    // What SQLite cannot read at all for want of access (here a folder where the file should
    // be: an I/O error; a read-only folder or mount gives SQLITE_READONLY or SQLITE_CANTOPEN)
    // is not damage: moving it away or restoring a backup would not mend it.
    const folder = join(dir, 'a-folder.db');
    mkdirSync(folder);
    expect(() => findDamage(folder)).toThrow(
      expect.objectContaining({
        code: 'E_STORE_ACCESS',
        message: expect.stringMatching(
          /^cannot open the store .*a-folder\.db: .*\(SQLITE_IOERR\w*\)\. This is not damage/,
        ),
      }),
    );
    expect(() => findDamage(folder)).not.toThrow(/corrupt|move/);
  });
});

describe('checkIntegrity', () => {
  it('shallow: refuses a file that is not a store, and passes a damaged page the full check finds', async () => {
    const store = await storeWithTasks(200);
    await store.close();
    expect(checkIntegrity(dbPath, { shallow: true })).toEqual({ ok: true });
    corrupt(dbPath, 'garbage-pages');
    expect(checkIntegrity(dbPath)).toMatchObject({ ok: false });
    // The schema still reads: the cheap check cannot see a page it does not read.
    expect(checkIntegrity(dbPath, { shallow: true })).toEqual({ ok: true });
    corrupt(dbPath, 'garbage-header');
    expect(checkIntegrity(dbPath, { shallow: true })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not a database/),
    });
  });
});

describe('backups', () => {
  it('takes online backups while the store is open and keeps only the newest', async () => {
    const store = await storeWithTasks(10);
    const t0 = Date.parse('2026-11-26T06:00:00Z');
    for (let i = 0; i < 4; i++) await createBackup(store.database, backups, 2, t0 + i * 3600_000);
    const list = listBackups(backups);
    expect(list.map((b) => new Date(b.takenAt).toISOString())).toEqual([
      '2026-11-26T09:00:00.000Z',
      '2026-11-26T08:00:00.000Z',
    ]);
    expect(readdirSync(backups).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(checkIntegrity(list[0]!.path)).toEqual({ ok: true });
    const copy = openSqliteStore({ path: list[0]!.path });
    expect((await copy.tasks.counts()).pending).toBe(10);
    await copy.close();
    await store.close();
  });

  for (const how of ['truncate', 'garbage-pages', 'garbage-header'] as const) {
    it(`restores the newest good backup over a corrupt file (${how}) and keeps the corrupt file aside`, async () => {
      const store = await storeWithTasks(200);
      await createBackup(store.database, backups, 24, Date.parse('2026-11-26T05:00:00Z'));
      await store.tasks.enqueue({ input: 'after the backup', agent: 'a' }, Date.now());
      await store.close();
      corrupt(dbPath, how);
      expect(checkIntegrity(dbPath).ok).toBe(false);

      const outcome = recoverCorruptDatabase(dbPath, backups);
      expect(outcome?.restoredFrom.takenAt).toBe(Date.parse('2026-11-26T05:00:00Z'));
      expect(existsSync(outcome!.movedTo)).toBe(true);
      expect(outcome!.reason).not.toBe('');
      const restored = openSqliteStore({ path: dbPath });
      // Everything up to the backup is back; what came after it is what was lost.
      expect((await restored.tasks.counts()).pending).toBe(200);
      await restored.close();
    });
  }

  it('takes backups started at the same moment side by side, each complete', async () => {
    const store = await storeWithTasks(200);
    const at = Date.parse('2026-11-26T05:00:00Z');
    const taken = await Promise.all(
      [1, 2, 3].map(() => createBackup(store.database, backups, 24, at)),
    );
    expect(taken.map((b) => b.takenAt).sort()).toEqual([at, at + 1, at + 2]);
    // Nothing half-written is left behind, and every backup is a whole database.
    expect(readdirSync(backups).filter((name) => name.endsWith('.partial'))).toEqual([]);
    for (const backup of taken) expect(checkIntegrity(backup.path)).toEqual({ ok: true });
    expect(listBackups(backups)).toHaveLength(3);
    await store.close();
  });

  it('removes half-written backups a crash left behind, once they are an hour old', async () => {
    const store = await storeWithTasks(10);
    mkdirSync(backups, { recursive: true });
    const stale = join(backups, 'agentd-crashed.partial');
    const fresh = join(backups, 'agentd-running.partial');
    writeFileSync(stale, 'half');
    writeFileSync(fresh, 'half');
    const hourAgo = (Date.now() - 3_700_000) / 1000;
    utimesSync(stale, hourAgo, hourAgo);
    await createBackup(store.database, backups, 24);
    expect(existsSync(stale)).toBe(false);
    // Another process may still be writing this one.
    expect(existsSync(fresh)).toBe(true);
    await store.close();
  });

  it('skips corrupt backups and refuses (changing nothing) when no good backup exists', async () => {
    const store = await storeWithTasks(50);
    await createBackup(store.database, backups, 24, Date.parse('2026-11-26T05:00:00Z'));
    await store.close();
    corrupt(listBackups(backups)[0]!.path, 'garbage-header');
    corrupt(dbPath, 'garbage-header');
    expect(() => recoverCorruptDatabase(dbPath, backups)).toThrow(UnrecoverableDatabaseError);
    expect(() => recoverCorruptDatabase(dbPath, backups)).toThrow(
      /is corrupt .* and there is no good backup/,
    );
    expect(readdirSync(dir).filter((f) => f.includes('.replaced-'))).toEqual([]);
  });

  it('leaves a healthy or missing database alone', async () => {
    expect(recoverCorruptDatabase(dbPath, backups)).toBeUndefined();
    const store = await storeWithTasks(1);
    await store.close();
    expect(recoverCorruptDatabase(dbPath, backups)).toBeUndefined();
  });
});
