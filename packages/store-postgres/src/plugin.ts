import {
  AgentdError,
  HealthRegistryToken,
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
import { completeAndClaimIn, completeManyIn, enqueueManyInto } from '@agentd/core/store';
import { type PostgresPluginOptions, postgresOptionsSchema } from './options.js';
import { openPostgresStore, type PostgresStore, resolveConnection } from './store.js';

const DEFAULT_HEALTH_TIMEOUT_MS = 800;

/**
 * The PostgreSQL store as a plugin: provides {@link StoreToken} and its three parts
 * ({@link TaskStoreToken}, {@link SessionStoreToken}, {@link StateStoreToken}), like `sqlite()`,
 * from one database that several hosts share. `start` opens the pool and applies the
 * migrations (once, under an advisory lock, when several hosts start together); it fails with
 * `E_POSTGRES_UNREACHABLE` when the server cannot be reached.
 *
 * Once started, losing the database never crashes the host: store calls reject while it is
 * gone, broken idle connections are logged and replaced, and the `store` health check reports
 * `fail` with the reason (never the password) until the database answers again.
 *
 * @example
 * ```ts
 * // agentd.config.ts
 * import { defineConfig } from '@agentd/core';
 * import { postgres } from '@agentd/store-postgres';
 *
 * export default defineConfig({
 *   plugins: [postgres({ url: '${DATABASE_URL}', pool: { max: 10 } })],
 * });
 * ```
 */
export function postgres(options: PostgresPluginOptions = {}): Plugin<PostgresPluginOptions> {
  let store: PostgresStore | undefined;
  let description = 'postgres (not configured yet)';
  const open = (): PostgresStore => {
    if (!store) {
      throw new AgentdError(
        'E_STORE_NOT_OPEN',
        `the store-postgres plugin's database (${description}) is not open: it opens in start() and closes in stop(); depend on StoreToken (or its parts) to be started after it`,
      );
    }
    return store;
  };
  const optional = <K extends keyof TaskStore>(name: K): NonNullable<TaskStore[K]> => {
    const method = open().tasks[name];
    if (typeof method !== 'function') {
      throw new AgentdError('E_STORE', `the PostgreSQL task store has no ${String(name)}()`);
    }
    return method.bind(open().tasks) as NonNullable<TaskStore[K]>;
  };

  // async, so "not open" becomes a rejected promise like any other store failure.
  const tasks: TaskStore = {
    enqueue: async (task, now) => open().tasks.enqueue(task, now),
    enqueueMany: async (list, now) => enqueueManyInto(open().tasks, list, now),
    claim: async (request) => open().tasks.claim(request),
    renewLease: async (id, owner, expiresAt) => open().tasks.renewLease(id, owner, expiresAt),
    complete: async (id, owner, result, now) => open().tasks.complete(id, owner, result, now),
    completeAndClaim: async (id, owner, result, claim) =>
      completeAndClaimIn(open().tasks, id, owner, result, claim),
    completeMany: async (items, owner, now) => completeManyIn(open().tasks, items, owner, now),
    fail: async (id, owner, error, opts) => open().tasks.fail(id, owner, error, opts),
    cancel: async (id, now) => open().tasks.cancel(id, now),
    get: async (id) => open().tasks.get(id),
    findByIdempotencyKey: async (key) => open().tasks.findByIdempotencyKey(key),
    list: async (query) => open().tasks.list(query),
    counts: async () => open().tasks.counts(),
    recoverExpired: async (now, opts) => open().tasks.recoverExpired(now, opts),
    recordLeaseProcess: async (id, owner, process) =>
      open().tasks.recordLeaseProcess(id, owner, process),
    listLeases: async () => open().tasks.listLeases(),
    nextRunAt: async (now) => open().tasks.nextRunAt(now),
    // LISTEN/NOTIFY: the runner claims at once when another host enqueues.
    onWork: async (listener, opts) => optional('onWork')(listener, opts),
    prune: async (opts) => open().tasks.prune(opts),
    claimReplies: async (request) => open().tasks.claimReplies(request),
    countOwedReplies: async () => open().tasks.countOwedReplies(),
    recordReply: async (id, outcome) => open().tasks.recordReply(id, outcome),
    recordAnswer: async (answer, now) => optional('recordAnswer')(answer, now),
    addDeadLetter: async (letter, now) => optional('addDeadLetter')(letter, now),
    listDeadLetters: async (query) => optional('listDeadLetters')(query),
    getDeadLetter: async (id) => optional('getDeadLetter')(id),
    settleDeadLetter: async (id, status, now) => optional('settleDeadLetter')(id, status, now),
    countOpenDeadLetters: async () => optional('countOpenDeadLetters')(),
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
      return description;
    },
    // The plugin owns the pool: stop() closes it. A consumer's close() must not pull the store
    // from under every other plugin, so it does nothing.
    close: async () => {},
  };

  return {
    name: 'store-postgres',
    provides: [StoreToken, TaskStoreToken, SessionStoreToken, StateStoreToken],
    optionsSchema: postgresOptionsSchema,
    options,
    // `password` is secret by its name already; a URL may hold the password too.
    secretOptions: ['url', 'password'],
    register(ctx) {
      description = resolveConnection(ctx.options).description;
      ctx.provide(StoreToken, facade);
      ctx.provide(TaskStoreToken, tasks);
      ctx.provide(SessionStoreToken, sessions);
      ctx.provide(StateStoreToken, state);
      const timeoutMs = ctx.options.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
      ctx.resolve(HealthRegistryToken).add({
        name: 'store',
        check: () =>
          store
            ? store.health(timeoutMs)
            : { status: 'fail', output: `the database ${description} is not open` },
      });
    },
    async start(ctx) {
      const { healthTimeoutMs: _, ...connection } = ctx.options;
      store = await openPostgresStore({
        ...connection,
        onPoolError: (error) =>
          ctx.logger.warn(
            { err: error.message, database: description },
            'a PostgreSQL connection broke; the next query opens a new one',
          ),
      });
      ctx.logger.info({ database: description }, `store opened: ${description}`);
    },
    async stop() {
      const current = store;
      store = undefined;
      await current?.close();
    },
  };
}
