import { createToken } from '../kernel/token.js';
import type { SessionStore } from './session.js';
import type { StateStore } from './state.js';
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
}

export const StoreToken = createToken<Store>('agentd.store');
