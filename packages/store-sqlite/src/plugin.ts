import { isAbsolute, join, resolve } from 'node:path';
import {
  AgentdError,
  HostInfoToken,
  type JsonValue,
  type Plugin,
  type SessionStore,
  SessionStoreToken,
  type StateStore,
  StateStoreToken,
  type Store,
  StoreToken,
  type TaskStore,
  TaskStoreToken,
} from '@agentd/core';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

/**
 * Options of the {@link sqlite} plugin.
 *
 * @example
 * ```ts
 * sqlite({ path: './data/agentd.db', busyTimeoutMs: 10_000 } satisfies SqlitePluginOptions);
 * ```
 */
export interface SqlitePluginOptions {
  /** Database file; relative to the config's directory. Default `<dataDir>/agentd.db`. */
  path?: string;
  /** How long a writer waits for another process's lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** `NORMAL` (default) or `FULL` (also survives power loss, slower). */
  synchronous?: 'NORMAL' | 'FULL';
}

type Issue = StandardSchemaV1.Issue;

/**
 * Checks the plugin's options when the config is validated. Hand-written to the Standard Schema
 * interface so this package needs no validation library; unknown keys are reported, since a
 * misspelt `pth` would otherwise silently put the database somewhere else.
 *
 * @example
 * ```ts
 * await sqliteOptionsSchema['~standard'].validate({ path: 1 });
 * // { issues: [{ message: 'must be a non-empty string', path: ['path'] }] }
 * ```
 */
export const sqliteOptionsSchema: StandardSchemaV1<unknown, SqlitePluginOptions> = {
  '~standard': {
    version: 1,
    vendor: 'agentd',
    validate(value: unknown): StandardSchemaV1.Result<SqlitePluginOptions> {
      if (value === undefined || value === null) return { value: {} };
      if (typeof value !== 'object' || Array.isArray(value)) {
        return { issues: [{ message: 'options must be an object' }] };
      }
      const input = value as Record<string, unknown>;
      const issues: Issue[] = [];
      const out: SqlitePluginOptions = {};
      for (const key of Object.keys(input)) {
        const v = input[key];
        if (v === undefined) continue;
        if (key === 'path') {
          if (typeof v === 'string' && v !== '') out.path = v;
          else issues.push({ message: 'must be a non-empty string', path: [key] });
        } else if (key === 'busyTimeoutMs') {
          if (typeof v === 'number' && Number.isInteger(v) && v >= 0) out.busyTimeoutMs = v;
          else issues.push({ message: 'must be an integer of at least 0', path: [key] });
        } else if (key === 'synchronous') {
          if (v === 'NORMAL' || v === 'FULL') out.synchronous = v;
          else issues.push({ message: "must be 'NORMAL' or 'FULL'", path: [key] });
        } else {
          issues.push({
            message: 'unknown option (known: path, busyTimeoutMs, synchronous)',
            path: [key],
          });
        }
      }
      return issues.length > 0 ? { issues } : { value: out };
    },
  },
};

/**
 * The embedded default store as a plugin: provides {@link StoreToken} and its three parts
 * ({@link TaskStoreToken}, {@link SessionStoreToken}, {@link StateStoreToken}) from one SQLite
 * file, by default `<dataDir>/agentd.db`.
 *
 * Services must exist once `register` ends, but `register` may do no I/O. So `register`
 * provides thin forwarders, and `start` opens the file behind them; plugins that depend on
 * the store start after it, so they only ever see an open store. Opening on first resolve
 * (`provideFactory`) was not chosen: a resolve in another plugin's `register` would then do
 * the I/O, and an error in opening would surface in that plugin instead of this one. A call
 * before `start` or after `stop` fails with `E_STORE_NOT_OPEN`.
 *
 * @example
 * ```ts
 * // agentd.config.ts
 * import { defineConfig } from '@agentd/core';
 * import { sqlite } from '@agentd/store-sqlite';
 *
 * export default defineConfig({ plugins: [sqlite({ path: './data/agentd.db' })] });
 * ```
 */
export function sqlite(options: SqlitePluginOptions = {}): Plugin<SqlitePluginOptions> {
  let store: SqliteStore | undefined;
  let path = '';
  const open = (): SqliteStore => {
    if (!store) {
      throw new AgentdError(
        'E_STORE_NOT_OPEN',
        `the store-sqlite plugin's database (${path || 'not yet configured'}) is not open: it opens in start() and closes in stop(); depend on StoreToken (or its parts) to be started after it`,
      );
    }
    return store;
  };

  // async, so "not open" becomes a rejected promise like any other store failure.
  const tasks: TaskStore = {
    enqueue: async (task, now) => open().tasks.enqueue(task, now),
    enqueueMany: async (list, now) => open().tasks.enqueueMany(list, now),
    claim: async (request) => open().tasks.claim(request),
    renewLease: async (id, owner, expiresAt) => open().tasks.renewLease(id, owner, expiresAt),
    complete: async (id, owner, result, now) => open().tasks.complete(id, owner, result, now),
    completeAndClaim: async (id, owner, result, claim) =>
      open().tasks.completeAndClaim(id, owner, result, claim),
    completeMany: async (items, owner, now) => open().tasks.completeMany(items, owner, now),
    fail: async (id, owner, error, opts) => open().tasks.fail(id, owner, error, opts),
    cancel: async (id, now) => open().tasks.cancel(id, now),
    get: async (id) => open().tasks.get(id),
    findByIdempotencyKey: async (key) => open().tasks.findByIdempotencyKey(key),
    list: async (query) => open().tasks.list(query),
    counts: async () => open().tasks.counts(),
    recoverExpired: async (now) => open().tasks.recoverExpired(now),
    nextRunAt: async (now) => open().tasks.nextRunAt(now),
  };
  const sessions: SessionStore = {
    create: async (session, now) => open().sessions.create(session, now),
    get: async (id) => open().sessions.get(id),
    findActive: async (userKey) => open().sessions.findActive(userKey),
    findByName: async (userKey, name) => open().sessions.findByName(userKey, name),
    listByUser: async (userKey, opts) => open().sessions.listByUser(userKey, opts),
    listByStatus: async (statuses) => open().sessions.listByStatus(statuses),
    update: async (id, patch) => open().sessions.update(id, patch),
    activate: async (userKey, id) => open().sessions.activate(userKey, id),
    appendHistory: async (id, entry) => open().sessions.appendHistory(id, entry),
    history: async (id, limit) => open().sessions.history(id, limit),
  };
  const state: StateStore = {
    get: async <T extends JsonValue>(namespace: string, key: string) =>
      open().state.get<T>(namespace, key),
    set: async (namespace, key, value, opts) => open().state.set(namespace, key, value, opts),
    delete: async (namespace, key) => open().state.delete(namespace, key),
    compareAndSet: async (namespace, key, expected, next) =>
      open().state.compareAndSet(namespace, key, expected, next),
    list: async (namespace, prefix) => open().state.list(namespace, prefix),
  };
  const facade: Store = {
    tasks,
    sessions,
    state,
    get description() {
      return `sqlite:${path}`;
    },
    // The plugin owns the file: stop() closes it. A consumer's close() must not pull the store
    // from under every other plugin, so it does nothing.
    close: async () => {},
  };

  return {
    name: 'store-sqlite',
    provides: [StoreToken, TaskStoreToken, SessionStoreToken, StateStoreToken],
    optionsSchema: sqliteOptionsSchema,
    options,
    register(ctx) {
      const info = ctx.resolve(HostInfoToken);
      const given = ctx.options.path;
      path = given
        ? isAbsolute(given)
          ? given
          : resolve(info.baseDir, given)
        : join(info.dataDir, 'agentd.db');
      ctx.provide(StoreToken, facade);
      ctx.provide(TaskStoreToken, tasks);
      ctx.provide(SessionStoreToken, sessions);
      ctx.provide(StateStoreToken, state);
    },
    start(ctx) {
      store = openSqliteStore({
        path,
        busyTimeoutMs: ctx.options.busyTimeoutMs,
        synchronous: ctx.options.synchronous,
      });
      ctx.logger.info({ path }, `store opened: ${store.description}`);
    },
    async stop() {
      const open = store;
      store = undefined;
      await open?.close();
    },
  };
}
