import { createToken } from '../kernel/token.js';
import type { SessionStore } from './session.js';
import type { StateStore } from './state.js';
import type { StoreRecords } from './store-records.js';
import type { TaskStore } from './task.js';

/** A backup a store took of itself. */
export interface StoreBackup {
  /** Where it is (a file path, an object key): what `restore` takes. */
  location: string;
  /** Epoch ms. */
  takenAt: number;
  bytes: number;
}

/**
 * A complete storage backend: what a store plugin (`@agentd/store-sqlite`, later PostgreSQL)
 * provides. The kernel registers its three parts under their own tokens too, so most code
 * depends only on the part it uses.
 */
export interface Store {
  readonly tasks: TaskStore;
  readonly sessions: SessionStore;
  readonly state: StateStore;
  /** A short description for status output, e.g. `sqlite:/srv/agentd/agentd.db`. */
  readonly description: string;
  /** Releases files, pools and timers. Idempotent. */
  close(): Promise<void>;
  /** Takes a consistent backup now, where the store can (the CLI's `agentd backup`). */
  backup?(): Promise<StoreBackup>;
  /** The backups kept, newest first. */
  listBackups?(): Promise<StoreBackup[]>;
  /**
   * Replaces all data with a backup (the newest good one when `location` is omitted), keeping
   * the data it replaces aside. Only while no host uses the store (the CLI's `agentd restore`).
   */
  restore?(location?: string): Promise<{ restored: StoreBackup; keptAside?: string }>;
  /** Every record out, in batches, for `agentd store copy` (see {@link StoreRecords}). */
  exportRecords?: StoreRecords['exportRecords'];
  /** Records in, as they were, for `agentd store copy` (see {@link StoreRecords}). */
  importRecords?: StoreRecords['importRecords'];
}

export const StoreToken = createToken<Store>('agentd.store');

/**
 * How a store plugin treats a damaged file when it opens:
 * - `repair` (the host, `agentd start`): restore the newest intact backup, keep the damaged file
 *   aside, log an error and raise an alert.
 * - `inspect` (the CLI's commands that only look or add): never change the file; a damaged store
 *   fails the command with a message that says how to recover.
 * - `replace` (`agentd restore`): leave a damaged file closed and untouched, so `restore` can
 *   put a backup in its place.
 * - `read` (the CLI's commands that only look: `tasks`, `status`, `schedules`): as `inspect`,
 *   but the check before opening may be a shallow one (a file that is not a store at all still
 *   fails; a store need not scan every page, which costs seconds at a million tasks, to list
 *   twenty rows). A store without a cheaper check treats it as `inspect`.
 *
 * A host without this token opens its store in `repair` mode.
 *
 * @example
 * ```ts
 * const mode = ctx.tryResolve(StoreOpenModeToken) ?? 'repair';
 * ```
 */
export type StoreOpenMode = 'repair' | 'inspect' | 'replace' | 'read';

export const StoreOpenModeToken = createToken<StoreOpenMode>('agentd.store.open-mode');
