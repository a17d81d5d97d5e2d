import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import {
  AgentdError,
  HealthRegistryToken,
  HostInfoToken,
  NotifierToken,
  type Plugin,
  type PluginContext,
  raiseAlert,
  SessionStoreToken,
  StateStoreToken,
  type Store,
  StoreToken,
  TaskStoreToken,
} from '@agentd/core';
import type { TimerHandle } from '@agentd/core/host';
import {
  forwardingStoreParts,
  type StoreBackup,
  type StoreOpenMode,
  StoreOpenModeToken,
} from '@agentd/core/store';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import {
  type BackupInfo,
  checkIntegrity,
  createBackup,
  defaultBackupDir,
  describeBackup,
  findDamage,
  listBackups,
  type RecoveryOutcome,
  replaceDatabaseFile,
  restoreNewestGood,
  UnrecoverableDatabaseError,
} from './backup.js';
import { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';

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
  /**
   * How long a write waits for another process's lock before it fails (default 5000 ms). The
   * wait does not block the host: SQLite waits a few milliseconds in place, then the call
   * retries on timers while the event loop (HTTP, `/live`, timers) keeps running.
   */
  busyTimeoutMs?: number;
  /** `NORMAL` (default) or `FULL` (also survives power loss, slower). */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * Checkpoint the WAL from a worker thread, so that the host's writes never wait for a
   * checkpoint's disk sync (default `true`; `false` leaves checkpoints to SQLite's commits).
   */
  backgroundCheckpoints?: boolean;
  /**
   * Periodic online backups, and restore from the newest good one when the file is found corrupt
   * at start. Default `{ everyMs: 3_600_000, keep: 24, dir: '<db dir>/backups' }`; `false` turns
   * backups off (a corrupt file then stops the start with an error).
   */
  backup?: false | { everyMs?: number; keep?: number; dir?: string };
}

const DEFAULT_BACKUP = { everyMs: 3_600_000, keep: 24 } as const;

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
        } else if (key === 'backgroundCheckpoints') {
          if (typeof v === 'boolean') out.backgroundCheckpoints = v;
          else issues.push({ message: 'must be true or false', path: [key] });
        } else if (key === 'backup') {
          const backup = parseBackupOption(v, issues);
          if (backup !== undefined) out.backup = backup;
        } else {
          issues.push({
            message:
              'unknown option (known: path, busyTimeoutMs, synchronous, backgroundCheckpoints, backup)',
            path: [key],
          });
        }
      }
      return issues.length > 0 ? { issues } : { value: out };
    },
  },
};

function parseBackupOption(v: unknown, issues: Issue[]): SqlitePluginOptions['backup'] {
  if (v === false) return false;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    issues.push({ message: 'must be false or { everyMs, keep, dir }', path: ['backup'] });
    return undefined;
  }
  const out: { everyMs?: number; keep?: number; dir?: string } = {};
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'everyMs' && typeof value === 'number' && Number.isInteger(value) && value >= 1000) {
      out.everyMs = value;
    } else if (k === 'keep' && typeof value === 'number' && Number.isInteger(value) && value >= 1) {
      out.keep = value;
    } else if (k === 'dir' && typeof value === 'string' && value !== '') {
      out.dir = value;
    } else {
      const expected: Record<string, string> = {
        everyMs: 'must be an integer of at least 1000',
        keep: 'must be an integer of at least 1',
        dir: 'must be a non-empty string',
      };
      issues.push({
        message: expected[k] ?? 'unknown option (known: everyMs, keep, dir)',
        path: ['backup', k],
      });
    }
  }
  return out;
}

function toStoreBackup(info: BackupInfo): StoreBackup {
  return { location: info.path, takenAt: info.takenAt, bytes: info.bytes };
}

/** What `agentd start` and `agentd restore` can do about a damaged file, for the CLI's message. */
function recoveryAdvice(path: string, backupDir: string | undefined): string {
  const backups = backupDir ? listBackups(backupDir) : [];
  if (backups.length > 0) {
    return (
      'To recover: run "agentd start", which restores the newest intact backup itself (it keeps the ' +
      'corrupt file aside, logs an error and raises an alert), or stop the host and run "agentd restore" ' +
      `(the newest intact backup in ${backupDir}) or "agentd restore <file>". Changes made after that backup are lost.`
    );
  }
  return (
    `There is no backup${backupDir ? ` in ${backupDir}` : ' (backups are off)'}: stop the host and restore a copy ` +
    `you keep elsewhere with "agentd restore <file>", or move ${path} away to start with an empty store.`
  );
}

/**
 * Checks the file before opening it (see {@link findDamage}), and acts by `mode`:
 * - `repair` (the host): the damaged file is moved aside (never deleted) and the newest intact
 *   backup put in its place; the host logs an error at once and raises a critical alert once it
 *   is ready. Without a usable backup the start fails with a message that says what to do, and
 *   nothing is moved.
 * - `inspect` (CLI commands): fails with a message that says how to recover; nothing changes.
 * - `read` (CLI commands that only look): as `inspect`, after a shallow check (the file opens as
 *   SQLite and its schema reads) instead of `PRAGMA quick_check`, which reads every page.
 * - `replace` (`agentd restore`): returns the damage; the file stays closed and untouched.
 */
function checkBeforeOpen(
  ctx: PluginContext<SqlitePluginOptions>,
  path: string,
  backupDir: string | undefined,
  mode: StoreOpenMode,
): string | undefined {
  const damage = findDamage(path, backupDir, { shallow: mode === 'read' });
  if (damage === undefined) {
    if (existsSync(path) && statSync(path).size === 0) {
      ctx.logger.warn(
        { path },
        'the database file is empty (0 bytes) and no backup exists: it opens as a new, empty store (a crash during the very first start leaves such a file)',
      );
    }
    return undefined;
  }
  if (mode === 'inspect' || mode === 'read') {
    throw new AgentdError(
      'E_STORE_CORRUPT',
      `the store ${path} is corrupt (${damage}); this command changed nothing. ${recoveryAdvice(path, backupDir)}`,
    );
  }
  if (mode === 'replace') return damage;
  if (!backupDir) {
    throw new AgentdError(
      'E_STORE_CORRUPT',
      `the database ${path} is corrupt (${damage}); backups are off, so there is nothing to restore. Restore a copy you keep elsewhere with "agentd restore <file>", or move the file away to start with an empty store.`,
    );
  }
  let outcome: RecoveryOutcome;
  try {
    outcome = restoreNewestGood(path, backupDir, damage, ctx.clock.now());
  } catch (error) {
    if (error instanceof UnrecoverableDatabaseError)
      throw new AgentdError('E_STORE_CORRUPT', error.message);
    throw error;
  }
  const lost = `changes made after ${new Date(outcome.restoredFrom.takenAt).toISOString()} are lost`;
  const message = `the database was corrupt (${outcome.reason}); restored ${describeBackup(outcome.restoredFrom)}; ${lost}; the corrupt file is kept at ${outcome.movedTo}`;
  ctx.logger.error({ ...outcome }, message);
  // Raised once the host is ready, so that channels which deliver alerts are up to send it.
  ctx.events.once('host.ready', () => {
    void raiseAlert(ctx.tryResolve(NotifierToken), ctx.events, {
      severity: 'critical',
      source: 'store-sqlite',
      title: 'Database restored from backup',
      message,
    });
  });
  return undefined;
}

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
  /** Why the file was left closed (`replace` mode found it damaged), until a restore. */
  let damaged: string | undefined;
  let path = '';
  let backups: { dir: string; everyMs: number; keep: number } | undefined;
  let backupTimer: TimerHandle | undefined;
  const openOptions: Pick<
    SqliteStoreOptions,
    'busyTimeoutMs' | 'synchronous' | 'backgroundCheckpoints'
  > = {};
  const open = (): SqliteStore => {
    if (!store && damaged !== undefined) {
      throw new AgentdError(
        'E_STORE_CORRUPT',
        `the database ${path} is corrupt (${damaged}) and was left closed; restore a backup ("agentd restore")`,
      );
    }
    if (!store) {
      throw new AgentdError(
        'E_STORE_NOT_OPEN',
        `the store-sqlite plugin's database (${path || 'not yet configured'}) is not open: it opens in start() and closes in stop(); depend on StoreToken (or its parts) to be started after it`,
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
    'pageTasks',
  ]);
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
    // `agentd store copy`.
    exportRecords: (options) => open().exportRecords(options),
    importRecords: async (records) => open().importRecords(records),
    backup: async () => {
      if (!backups) throw new AgentdError('E_NO_BACKUPS', 'backups are turned off (backup: false)');
      return toStoreBackup(await createBackup(open().database, backups.dir, backups.keep));
    },
    listBackups: async () => (backups ? listBackups(backups.dir).map(toStoreBackup) : []),
    restore: async (location) => {
      if (!backups && !location) {
        throw new AgentdError('E_NO_BACKUPS', 'backups are turned off: name the file to restore');
      }
      const candidates = location
        ? [{ path: resolve(location), takenAt: 0, bytes: 0 }]
        : listBackups(backups!.dir);
      const chosen = candidates.find((b) => checkIntegrity(b.path).ok);
      if (!chosen) {
        throw new AgentdError(
          'E_NO_BACKUPS',
          location
            ? `${location} is not a readable, intact SQLite database`
            : `no intact backup in ${backups!.dir}`,
        );
      }
      // A file left closed because it is damaged has no connection to close.
      const current = damaged !== undefined && !store ? undefined : open();
      // Refuse work before closing: writes accepted while the close waits would land in the
      // file that is about to be moved aside.
      store = undefined;
      await current?.close();
      let replaced = false;
      try {
        const keptAside = replaceDatabaseFile(path, chosen.path);
        replaced = true;
        const restored: StoreBackup = {
          location: chosen.path,
          takenAt: chosen.takenAt || Math.round(statSync(chosen.path).mtimeMs),
          bytes: statSync(chosen.path).size,
        };
        return keptAside ? { restored, keptAside } : { restored };
      } finally {
        // Re-open what was open; a damaged file stays closed unless the backup replaced it.
        if (current || replaced) {
          store = openSqliteStore({ path, ...openOptions });
          damaged = undefined;
        }
      }
    },
  };

  /** Backs up now if the newest backup is older than the interval, then every interval. */
  const scheduleBackups = (
    ctx: PluginContext<SqlitePluginOptions>,
    b: NonNullable<typeof backups>,
  ) => {
    const take = async () => {
      const current = store;
      if (!current) return;
      try {
        const info = await createBackup(current.database, b.dir, b.keep, ctx.clock.now());
        ctx.logger.info({ backup: info.path, bytes: info.bytes }, 'database backed up');
      } catch (err) {
        ctx.logger.error({ err }, 'database backup failed');
        ctx.events.emit('alert', {
          severity: 'error',
          source: 'store-sqlite',
          title: 'Database backup failed',
          message: err instanceof Error ? err.message : String(err),
        });
      }
    };
    const next = (ms: number) => {
      backupTimer = ctx.clock.setTimeout(
        () => void take().finally(() => store && next(b.everyMs)),
        ms,
      );
    };
    const newest = listBackups(b.dir)[0];
    const age = newest ? ctx.clock.now() - newest.takenAt : Number.POSITIVE_INFINITY;
    next(Math.max(0, Math.min(b.everyMs, b.everyMs - age)));
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
      const backup = ctx.options.backup;
      backups =
        backup === false
          ? undefined
          : {
              dir: backup?.dir ? resolve(info.baseDir, backup.dir) : defaultBackupDir(path),
              everyMs: backup?.everyMs ?? DEFAULT_BACKUP.everyMs,
              keep: backup?.keep ?? DEFAULT_BACKUP.keep,
            };
      ctx.provide(StoreToken, facade);
      ctx.provide(TaskStoreToken, tasks);
      ctx.provide(SessionStoreToken, sessions);
      ctx.provide(StateStoreToken, state);
      ctx.resolve(HealthRegistryToken).add({
        name: 'store',
        check: () =>
          store
            ? store.health()
            : {
                status: 'fail',
                output: damaged
                  ? `the database ${path} is corrupt (${damaged})`
                  : `the database ${path} is not open`,
              },
      });
    },
    async start(ctx) {
      openOptions.busyTimeoutMs = ctx.options.busyTimeoutMs;
      openOptions.synchronous = ctx.options.synchronous;
      const mode = ctx.tryResolve(StoreOpenModeToken) ?? 'repair';
      // The checkpoint thread serves a host's steady writes; a CLI command's few would wait for
      // its start and stop, and SQLite's own checkpoint on commit keeps the WAL bounded.
      openOptions.backgroundCheckpoints =
        mode === 'repair' ? (ctx.options.backgroundCheckpoints ?? true) : false;
      damaged = checkBeforeOpen(ctx, path, backups?.dir, mode);
      if (damaged !== undefined) {
        ctx.logger.warn(
          { path },
          `the database is corrupt (${damaged}); left closed for a restore`,
        );
        return;
      }
      store = openSqliteStore({ path, ...openOptions });
      ctx.logger.info({ path }, `store opened: ${store.description}`);
      // A host's first `stats()` walks the open tasks' index (a few hundred ms per million open
      // tasks); the store's own writes keep its figures after that. Walk here, before the host
      // serves, rather than in its first metrics scrape. A CLI command does not need it.
      if (mode === 'repair') await store.tasks.stats(Date.now());
      if (backups) scheduleBackups(ctx, backups);
    },
    async stop() {
      backupTimer?.cancel();
      backupTimer = undefined;
      const open = store;
      store = undefined;
      await open?.close();
    },
  };
}
