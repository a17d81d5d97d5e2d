import type { JsonValue, StateStore } from '@agentd/core';
import {
  checkStateName,
  parseJson,
  type StateSetOptions,
  stateExpiresAt,
  stateValueText,
} from '@agentd/core/store';
import type BetterSqlite3 from 'better-sqlite3';
import { StoreFaults } from './faults.js';
import { OpenTaskTally, writeMovingNoTask } from './open-task-tally.js';
import type { SharedCommits } from './shared-commits.js';

/**
 * Options of {@link SqliteStateStore}.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * new SqliteStateStore(db, { now: () => clock.now() });
 * ```
 */
export interface StateStoreOptions {
  /** Source of time for TTLs (default `Date.now`); tests pass a fake one. */
  now?: () => number;
  /** Where store faults are recorded, shared with the store's other parts (default: its own). */
  faults?: StoreFaults;
  /**
   * Where `set` queues its write to share a commit with others of the same turn (default: none,
   * each write commits alone).
   */
  commits?: SharedCommits;
}

// Expired rows are invisible at once; deleting them is housekeeping, done at most this often.
const PURGE_EVERY_MS = 60_000;

/**
 * The SQLite {@link StateStore}. Values are kept as canonical JSON, so `compareAndSet` is one
 * conditional statement comparing text, atomic across processes. A value with a TTL is
 * invisible from the moment it expires.
 *
 * @example
 * ```ts
 * const state = new SqliteStateStore(openDatabase({ path: 'agentd.db' }));
 * await state.set('telegram', 'offset', 1234);
 * await state.compareAndSet('cron', 'daily@2026-01-01', undefined, 'host-a'); // true once
 * ```
 */
export class SqliteStateStore implements StateStore {
  readonly #now: () => number;
  #lastPurge = 0;
  readonly #get: BetterSqlite3.Statement;
  readonly #set: BetterSqlite3.Statement;
  readonly #delete: BetterSqlite3.Statement;
  readonly #insertIfAbsent: BetterSqlite3.Statement;
  readonly #replaceIfEqual: BetterSqlite3.Statement;
  readonly #list: BetterSqlite3.Statement;
  readonly #purge: BetterSqlite3.Statement;

  readonly #faults: StoreFaults;
  readonly #commits: SharedCommits | undefined;
  readonly #tally: OpenTaskTally;

  constructor(db: BetterSqlite3.Database, options: StateStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#faults = options.faults ?? new StoreFaults(db, 5000);
    this.#commits = options.commits;
    this.#tally = OpenTaskTally.of(db);
    const live = '(expires_at IS NULL OR expires_at > @now)';
    this.#get = db.prepare(
      `SELECT value FROM state WHERE namespace = @namespace AND key = @key AND ${live}`,
    );
    this.#set = db.prepare(
      `INSERT INTO state (namespace, key, value, expires_at) VALUES (@namespace, @key, @value, @expiresAt)
       ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    );
    this.#delete = db.prepare(
      `DELETE FROM state WHERE namespace = @namespace AND key = @key RETURNING ${live} AS live`,
    );
    // "Expected absent" also matches an expired row, which is absent to every reader.
    this.#insertIfAbsent = db.prepare(
      `INSERT INTO state (namespace, key, value, expires_at) VALUES (@namespace, @key, @value, NULL)
       ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = NULL
       WHERE state.expires_at IS NOT NULL AND state.expires_at <= @now`,
    );
    this.#replaceIfEqual = db.prepare(
      `UPDATE state SET value = @value, expires_at = NULL
       WHERE namespace = @namespace AND key = @key AND value = @expected AND ${live}`,
    );
    this.#list = db.prepare(
      `SELECT key, value FROM state WHERE namespace = @namespace AND key >= @prefix AND ${live}
       ORDER BY key`,
    );
    this.#purge = db.prepare('DELETE FROM state WHERE expires_at <= ?');
  }

  async get<T extends JsonValue = JsonValue>(
    namespace: string,
    key: string,
  ): Promise<T | undefined> {
    const row = this.#get.get({ namespace, key, now: this.#now() }) as
      | { value: string }
      | undefined;
    return row && parseJson<T>(row.value);
  }

  async set(
    namespace: string,
    key: string,
    value: JsonValue,
    options: StateSetOptions = {},
  ): Promise<void> {
    checkStateName(namespace, 'namespace');
    checkStateName(key, 'key');
    const now = this.#now();
    const expiresAt = stateExpiresAt(now, options.ttlMs);
    const params = { namespace, key, value: stateValueText(value), expiresAt };
    const set = () => this.#set.run(params);
    await (this.#commits ? this.#commits.write('state.set', set) : this.#write('state.set', set));
    if (now - this.#lastPurge >= PURGE_EVERY_MS) {
      this.#lastPurge = now;
      await this.#write('state.set', () => this.#purge.run(now));
    }
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    const params = { namespace, key, now: this.#now() };
    const row = (await this.#write('state.delete', () => this.#delete.get(params))) as
      | { live: number }
      | undefined;
    return row?.live === 1;
  }

  /** Runs a write; waits out another process's lock and records store faults (see StoreFaults). */
  #write<T>(operation: string, write: () => T): Promise<T> {
    return writeMovingNoTask(this.#tally, this.#faults, operation, write);
  }

  async compareAndSet(
    namespace: string,
    key: string,
    expected: JsonValue | undefined,
    next: JsonValue,
  ): Promise<boolean> {
    checkStateName(namespace, 'namespace');
    checkStateName(key, 'key');
    const value = stateValueText(next);
    const now = this.#now();
    if (expected === undefined) {
      const params = { namespace, key, value, now };
      const info = await this.#write('state.compareAndSet', () => this.#insertIfAbsent.run(params));
      return info.changes === 1;
    }
    const params = { namespace, key, value, now, expected: stateValueText(expected) };
    const info = await this.#write('state.compareAndSet', () => this.#replaceIfEqual.run(params));
    return info.changes === 1;
  }

  async list(namespace: string, prefix = ''): Promise<{ key: string; value: JsonValue }[]> {
    const out: { key: string; value: JsonValue }[] = [];
    // Keys with the prefix are contiguous in key order from `prefix` on: stop at the first
    // that lacks it, instead of computing an upper bound that is exact for every character.
    for (const row of this.#list.iterate({ namespace, prefix, now: this.#now() }) as Iterable<{
      key: string;
      value: string;
    }>) {
      if (!row.key.startsWith(prefix)) break;
      out.push({ key: row.key, value: parseJson(row.value) });
    }
    return out;
  }
}
