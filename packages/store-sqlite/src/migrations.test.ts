import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { applyMigrations, MIGRATIONS, type Migration } from './migrations.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-store-migrations-'));
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
});
