import { createToken } from './token.js';

/** Lifecycle states of a host. */
export type HostState = 'created' | 'starting' | 'ready' | 'stopping' | 'stopped' | 'failed';

/** Facts about the running host, for plugins (a default file location, status output). */
export interface HostInfo {
  readonly name: string;
  /** Absolute directory for plugins' files (default `.agentd` beside the config). */
  readonly dataDir: string;
  /** Directory of the config file (or the working directory). */
  readonly baseDir: string;
  /**
   * Unique per process start: `${name}:${pid}:${startTime}:${random}@${machineTag}` (see
   * `newOwnerId`); the runner's lease owner and the owner of the sessions this host runs, so
   * another host can tell whether this process still runs.
   */
  readonly instanceId: string;
  readonly state: HostState;
  /** Epoch ms when the host became ready, or null. */
  readonly readyAt: number | null;
  /** Plugin names in start order. */
  readonly plugins: readonly string[];
}

export const HostInfoToken = createToken<HostInfo>('agentd.host');
