import { createToken } from '../kernel/token.js';
import type { SessionStore } from './session.js';
import type { StateStore } from './state.js';
import type { TaskStore } from './task.js';

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
}

export const StoreToken = createToken<Store>('agentd.store');
