import type { JsonValue, StateStore } from '@agentd/core';
import {
  checkStateName,
  parseJson,
  type StateSetOptions,
  stateExpiresAt,
  stateValueText,
} from '@agentd/core/store';
import type { PostgresHandle } from './handle.js';

/**
 * Options of {@link PostgresStateStore}.
 *
 * @example
 * ```ts
 * new PostgresStateStore(handle, { now: () => clock.now() });
 * ```
 */
export interface PostgresStateStoreOptions {
  /** Source of time for TTLs (default `Date.now`); tests pass a fake one. */
  now?: () => number;
}

// Expired rows are invisible at once; deleting them is housekeeping, done at most this often.
const PURGE_EVERY_MS = 60_000;
const LIVE = '(expires_at is null or expires_at > $3)';

/**
 * The PostgreSQL {@link StateStore}. Values are kept as canonical JSON text, so
 * `compareAndSet` is one conditional statement comparing text: atomic across every host on the
 * database (the building block of "only one host fires this schedule slot"). A value with a TTL
 * is invisible from the moment it expires.
 *
 * @example
 * ```ts
 * const store = await openPostgresStore({ url: process.env.DATABASE_URL });
 * await store.state.set('telegram', 'offset', 1234);
 * await store.state.compareAndSet('cron', 'daily@2026-01-01', undefined, 'host-a'); // true once
 * ```
 */
export class PostgresStateStore implements StateStore {
  readonly #handle: PostgresHandle;
  readonly #table: string;
  readonly #now: () => number;
  #lastPurge = 0;

  constructor(handle: PostgresHandle, options: PostgresStateStoreOptions = {}) {
    this.#handle = handle;
    this.#table = handle.table('state');
    this.#now = options.now ?? Date.now;
  }

  #query<R extends object = Record<string, unknown>>(sql: string, params: unknown[]) {
    return this.#handle.pool.query<R>(sql, params);
  }

  async get<T extends JsonValue = JsonValue>(
    namespace: string,
    key: string,
  ): Promise<T | undefined> {
    const { rows } = await this.#query<{ value: string }>(
      `select value from ${this.#table} where namespace = $1 and key = $2 and ${LIVE}`,
      [namespace, key, this.#now()],
    );
    return rows[0] && parseJson<T>(rows[0].value);
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
    await this.#query(
      `insert into ${this.#table} (namespace, key, value, expires_at) values ($1, $2, $3, $4)
       on conflict (namespace, key) do update set value = excluded.value, expires_at = excluded.expires_at`,
      [namespace, key, stateValueText(value), expiresAt],
    );
    if (now - this.#lastPurge >= PURGE_EVERY_MS) {
      this.#lastPurge = now;
      await this.#query(`delete from ${this.#table} where expires_at <= $1`, [now]);
    }
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    const { rows } = await this.#query<{ live: boolean }>(
      `delete from ${this.#table} where namespace = $1 and key = $2 returning ${LIVE} as live`,
      [namespace, key, this.#now()],
    );
    return rows[0]?.live === true;
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
      // "Expected absent" also matches an expired row, which is absent to every reader.
      const result = await this.#query(
        `insert into ${this.#table} as s (namespace, key, value, expires_at) values ($1, $2, $4, null)
         on conflict (namespace, key) do update set value = excluded.value, expires_at = null
         where s.expires_at is not null and s.expires_at <= $3`,
        [namespace, key, now, value],
      );
      return result.rowCount === 1;
    }
    const result = await this.#query(
      `update ${this.#table} set value = $4, expires_at = null
       where namespace = $1 and key = $2 and value = $5 and ${LIVE}`,
      [namespace, key, now, value, stateValueText(expected)],
    );
    return result.rowCount === 1;
  }

  async list(namespace: string, prefix = ''): Promise<{ key: string; value: JsonValue }[]> {
    // Keys are in the "C" collation: those with the prefix are one range of the primary key.
    const { rows } = await this.#query<{ key: string; value: string }>(
      `select key, value from ${this.#table}
       where namespace = $1 and key >= $2 and starts_with(key, $2) and ${LIVE}
       order by key`,
      [namespace, prefix, this.#now()],
    );
    return rows.map((row) => ({ key: row.key, value: parseJson(row.value) }));
  }
}
