import {
  AgentdError,
  type HealthResult,
  type SessionStore,
  type StateStore,
  type Store,
  type TaskStore,
} from '@agentd/core';
import type { StoreRecords } from '@agentd/core/store';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { ALL_MIGRATIONS } from './all-migrations.js';
import { isConnectionError, reportUnavailable } from './connection-errors.js';
import type { Migration, PostgresHandle } from './handle.js';
import { applyMigrations, SCHEMA_NAME } from './migrations.js';
import { PostgresSessionStore } from './session-store.js';
import { PostgresStateStore } from './state-store.js';
import { postgresStoreRecords } from './store-records.js';
import { PostgresTaskStore } from './task-store.js';

/**
 * Where and how to connect: a `url`, discrete fields, or both (fields override the URL's).
 *
 * @example
 * ```ts
 * const options: PostgresConnectionOptions = {
 *   url: 'postgres://agentd@db.internal:5432/agentd',
 *   pool: { max: 20 },
 *   ssl: { rejectUnauthorized: true },
 * };
 * ```
 */
export interface PostgresConnectionOptions {
  /** `postgres://user:password@host:port/database`; a secret (it may hold the password). */
  url?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  /** A secret: masked in logs, never in errors or health output. */
  password?: string;
  /** The schema every table is in (default `agentd`): letters, digits and `_`. */
  schema?: string;
  pool?: {
    /** Connections at most (default 10). */
    max?: number;
    /** Close a connection idle this long (default 30000 ms). */
    idleTimeoutMillis?: number;
    /** Give up connecting after this long (default 5000 ms; 0 waits forever). */
    connectionTimeoutMillis?: number;
  };
  /** TLS: `true` (verify the server), `false` (none, default) or node's options. */
  ssl?: boolean | { rejectUnauthorized?: boolean; ca?: string };
  /** Shown in `pg_stat_activity` (default `agentd`). */
  applicationName?: string;
  /**
   * Plan the hot path's statements (claims, completions) once per connection with SQL
   * `PREPARE` (default `true`). Behind PgBouncer in transaction mode, where a connection's
   * transactions run on different server connections, set `false`; left on, the store notices
   * at the first missing statement and stops preparing (logged once).
   */
  preparedStatements?: boolean;
}

/**
 * Options of {@link openPostgresStore}.
 *
 * @example
 * ```ts
 * const options: PostgresStoreOptions = { url: 'postgres://127.0.0.1/agentd', schema: 'agentd' };
 * ```
 */
export interface PostgresStoreOptions extends PostgresConnectionOptions {
  /** Apply the schema's migrations on open (default `true`). */
  migrate?: boolean;
  /** Told about errors of idle connections (a restarted server); they never crash the process. */
  onPoolError?: (error: Error) => void;
  /** Told when the store changes how it works on its own (e.g. stops preparing statements). */
  onWarning?: (message: string) => void;
  /** Source of time for state TTLs (default `Date.now`). */
  now?: () => number;
  /** The migrations to apply (default: all of the store's). For tests. */
  migrations?: readonly Migration[];
}

/** The store {@link openPostgresStore} returns: the three parts over one pool. */
export interface PostgresStore extends Store {
  readonly tasks: TaskStore;
  readonly sessions: SessionStore;
  readonly state: StateStore;
  /** The pool, the Kysely instance and the schema the parts share. */
  readonly handle: PostgresHandle;
  /** `postgres://user@host:port/database?schema=agentd`: no password. */
  readonly description: string;
  /** `select 1` within `timeoutMs` (default 1000): `pass`, or `fail` saying why (no password). */
  health(timeoutMs?: number): Promise<HealthResult>;
  /** Every record out, in batches, for `agentd store copy`. */
  exportRecords: StoreRecords['exportRecords'];
  /** Records in, as they were, in one transaction, for `agentd store copy`. */
  importRecords: StoreRecords['importRecords'];
  /**
   * Corrects the task counts behind `stats()` for changes nobody counted: a host of an earlier
   * version writing during a rolling upgrade (see docs/scaling-out.md). One read of every task,
   * never blocking other hosts; the `postgres()` plugin runs it in the background at start.
   * Resolves to how many counts (by status and priority) it corrected.
   */
  reconcileCounts(): Promise<number>;
  close(): Promise<void>;
}

/** The connection settings `pg` gets, and what may be shown of them. */
interface Resolved {
  config: pg.PoolConfig;
  description: string;
  /** Removes the password from a text (a driver's message), if it appears. */
  mask(text: string): string;
}

function optionsError(message: string): AgentdError {
  return new AgentdError('E_POSTGRES_OPTIONS', message);
}

/** Turns the options into `pg`'s pool config and a password-free description. */
export function resolveConnection(options: PostgresConnectionOptions): Resolved {
  let url: URL | undefined;
  if (options.url !== undefined) {
    try {
      url = new URL(options.url);
    } catch {
      throw optionsError(
        'url is not a valid URL (expected postgres://user:password@host:port/database)',
      );
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw optionsError(`url must start with postgres:// or postgresql://, got ${url.protocol}//`);
    }
  }
  const schema = options.schema ?? 'agentd';
  if (!SCHEMA_NAME.test(schema)) {
    throw optionsError(
      `schema must be letters, digits and _ (at most 63, not starting with a digit), got ${JSON.stringify(schema)}`,
    );
  }
  const host = options.host ?? (url?.hostname || 'localhost');
  const port = options.port ?? (url?.port ? Number(url.port) : 5432);
  const database =
    options.database ??
    (url && url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined);
  const user = options.user ?? (url?.username ? decodeURIComponent(url.username) : undefined);
  const password =
    options.password ?? (url?.password ? decodeURIComponent(url.password) : undefined);
  const config: pg.PoolConfig = {
    ...(options.url !== undefined ? { connectionString: options.url } : {}),
    host,
    port,
    ...(database !== undefined ? { database } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    max: options.pool?.max ?? 10,
    idleTimeoutMillis: options.pool?.idleTimeoutMillis ?? 30_000,
    connectionTimeoutMillis: options.pool?.connectionTimeoutMillis ?? 5000,
    application_name: options.applicationName ?? 'agentd',
  };
  if (options.ssl !== undefined) config.ssl = options.ssl;
  const who = user ? `${encodeURIComponent(user)}@` : '';
  const description = `postgres://${who}${host}:${port}/${database ?? ''}?schema=${schema}`;
  const secrets = [password, password && encodeURIComponent(password)].filter(
    (s): s is string => typeof s === 'string' && s !== '',
  );
  const mask = (text: string) => secrets.reduce((out, s) => out.split(s).join('***'), text);
  return { config, description, mask };
}

/** Why a connection failed, as a password-free sentence. */
export function unreachable(resolved: Pick<Resolved, 'description' | 'mask'>, error: unknown) {
  const reason = resolved.mask((error as Error)?.message || String(error));
  return new AgentdError(
    'E_POSTGRES_UNREACHABLE',
    `cannot use PostgreSQL at ${resolved.description}: ${reason}`,
    { cause: error },
  );
}

/**
 * Opens a pool to PostgreSQL, applies the store's migrations (once, under an advisory lock, so
 * several hosts can start together) and returns the store's parts over that pool. Fails with
 * `E_POSTGRES_UNREACHABLE` when the server cannot be reached, `E_STORE_SCHEMA_NEWER` when a
 * newer version migrated the schema, `E_POSTGRES_OPTIONS` for unusable options. Neither the
 * description nor any error holds the password.
 *
 * @example
 * ```ts
 * const store = await openPostgresStore({ url: process.env.DATABASE_URL, schema: 'agentd' });
 * await store.state.set('demo', 'hello', 'world');
 * await store.close();
 * ```
 */
export async function openPostgresStore(
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  const resolved = resolveConnection(options);
  const schema = options.schema ?? 'agentd';
  const pool = new pg.Pool(resolved.config);
  // An idle connection that breaks (a restarted server) emits 'error' on the pool; unhandled,
  // that would end the process. The next query gets a fresh connection.
  pool.on('error', (error) => options.onPoolError?.(new Error(resolved.mask(error.message))));
  // A connection checked out of the pool has no 'error' listener of the pool's: one that breaks
  // mid-query (a restart, pg_terminate_backend) while Kysely holds it would emit an unheard
  // 'error' and end the process. The query itself rejects with the error, and the pool drops the
  // broken connection when it comes back, so hearing the event is all that is needed.
  pool.on('connect', (client) => client.on('error', () => {}));
  // biome-ignore lint/suspicious/noExplicitAny: the handle's Kysely is untyped (see handle.ts).
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  // Kysely ends the pool only if it ran a query itself (its driver starts lazily): end it here.
  const end = async () => {
    await db.destroy();
    if (!pool.ended) await pool.end();
  };
  const handle: PostgresHandle = {
    pool,
    db,
    schema,
    table: (name) => `"${schema}"."${name}"`,
  };
  if (options.migrate !== false) {
    try {
      await applyMigrations(pool, schema, options.migrations ?? ALL_MIGRATIONS);
    } catch (error) {
      await end().catch(() => {});
      if (error instanceof AgentdError) {
        throw error.code === 'E_STORE_SCHEMA' && isConnectionError(error.cause)
          ? unreachable(resolved, error.cause)
          : error;
      }
      throw isConnectionError(error) ? unreachable(resolved, error) : error;
    }
  }
  // A call that fails because the database is gone says so with E_STORE_UNAVAILABLE: intake
  // then answers 503 and keeps no dead letter, and the caller retries.
  const lost = (error: unknown) =>
    `PostgreSQL at ${resolved.description} cannot be reached just now (${resolved.mask((error as Error)?.message || String(error))}); retry later`;
  const taskStore = new PostgresTaskStore(handle, {
    preparedStatements: options.preparedStatements ?? true,
    warn: (message) => options.onWarning?.(message),
  });
  const tasks = reportUnavailable(taskStore, lost);
  const sessions = reportUnavailable(new PostgresSessionStore(handle), lost);
  const records = postgresStoreRecords(handle, { tasks, sessions }, options.now ?? Date.now);
  let closed: Promise<void> | undefined;
  return {
    tasks,
    sessions,
    state: reportUnavailable(
      new PostgresStateStore(handle, options.now ? { now: options.now } : {}),
      lost,
    ),
    handle,
    description: resolved.description,
    // `agentd store copy`.
    exportRecords: (exportOptions) => records.exportRecords(exportOptions),
    importRecords: (batch) => records.importRecords(batch),
    reconcileCounts: () => taskStore.reconcileCounts(),
    async health(timeoutMs = 1000): Promise<HealthResult> {
      let timer: NodeJS.Timeout | undefined;
      const started = Date.now();
      try {
        await Promise.race([
          pool.query('select 1'),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer to select 1 within ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
        return { status: 'pass', observedValue: Date.now() - started, observedUnit: 'ms' };
      } catch (error) {
        return { status: 'fail', output: unreachable(resolved, error).message };
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      closed ??= end();
      return closed;
    },
  };
}
