import {
  AgentdError,
  HealthRegistryToken,
  type Plugin,
  SessionStoreToken,
  StateStoreToken,
  type Store,
  StoreToken,
  TaskStoreToken,
} from '@agentd/core';
import { forwardingStoreParts } from '@agentd/core/store';
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
  let reconciling: Promise<void> | undefined;
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
  // Every call goes to the open database at call time; "not open" is a rejected promise.
  const { tasks, sessions, state } = forwardingStoreParts(open, [
    'recordAnswer',
    'addDeadLetter',
    'listDeadLetters',
    'getDeadLetter',
    'settleDeadLetter',
    'countOpenDeadLetters',
    // LISTEN/NOTIFY: the runner claims at once when another host enqueues. Left out with
    // `listen: false` (PgBouncer in transaction mode): the runner polls.
    ...(options.listen === false ? [] : (['onWork'] as const)),
  ]);
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
    // `agentd store copy`.
    exportRecords: (exportOptions) => open().exportRecords(exportOptions),
    importRecords: async (records) => open().importRecords(records),
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
      const { healthTimeoutMs: _, listen: __, ...connection } = ctx.options;
      store = await openPostgresStore({
        ...connection,
        onWarning: (message) => ctx.logger.warn({ database: description }, message),
        onPoolError: (error) =>
          ctx.logger.warn(
            { err: error.message, database: description },
            'a PostgreSQL connection broke; the next query opens a new one',
          ),
      });
      ctx.logger.info({ database: description }, `store opened: ${description}`);
      // In the background: with millions of tasks the read takes a while, and the counts only
      // drift while hosts of an earlier version write (a rolling upgrade).
      const opened = store;
      reconciling = opened
        .reconcileCounts()
        .then((corrected) => {
          if (corrected > 0) {
            ctx.logger.info(
              { database: description, corrected },
              'task counts corrected for changes not counted (hosts of an earlier version during an upgrade)',
            );
          }
        })
        .catch((error: unknown) => {
          if (store !== opened) return; // stopped meanwhile
          ctx.logger.warn(
            { err: (error as Error)?.message, database: description },
            'could not reconcile the task counts; stats() may be off until the next start',
          );
        });
    },
    async stop() {
      const current = store;
      store = undefined;
      await reconciling;
      await current?.close();
    },
  };
}
