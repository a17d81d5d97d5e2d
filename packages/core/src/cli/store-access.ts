import {
  type Store,
  type StoreOpenMode,
  StoreOpenModeToken,
  StoreToken,
} from '../contracts/store.js';
import { AgentdError } from '../kernel/errors.js';
import { createHost, withBuiltinPlugins } from '../kernel/host.js';
import type { Plugin } from '../kernel/plugin.js';
import { orderPlugins } from '../kernel/plugin-graph.js';
import { silentLogger } from '../logging/create-logger.js';
import type { CheckedConfig } from './host-config.js';

/**
 * Opens the config's store without the rest of the host (no channels, no runner) and runs `work`
 * with it. Stores are safe to share between processes (SQLite: WAL and immediate transactions),
 * so this works whether or not the host is running; a running host picks up new tasks on its
 * next poll.
 *
 * The store opens in `inspect` mode: a damaged file fails the command with a message that says
 * how to recover, and is never repaired or replaced here (only `agentd start` restores a backup
 * on its own, with an alert). `agentd restore` passes `replace`.
 */
export async function withStore<T>(
  checked: CheckedConfig,
  work: (store: Store) => Promise<T>,
  options: { mode?: StoreOpenMode } = {},
): Promise<T> {
  const mode = options.mode ?? 'inspect';
  const openMode: Plugin = {
    name: 'cli-store-open-mode',
    provides: [StoreOpenModeToken],
    register: (ctx) => ctx.provide(StoreOpenModeToken, mode),
  };
  const all = orderPlugins(withBuiltinPlugins(checked.resolved));
  const storeEntry = all.find((p) => p.plugin.provides?.some((t) => t.key === StoreToken.key));
  if (!storeEntry) {
    throw new AgentdError(
      'E_NO_STORE',
      `${checked.path} has no store plugin (add one, e.g. sqlite() from @agentd/store-sqlite)`,
    );
  }
  // The store plugin with whatever it depends on, in start order.
  const needed = new Set<string>([storeEntry.plugin.name]);
  for (const entry of [...all].reverse()) {
    if (!needed.has(entry.plugin.name)) continue;
    for (const dep of entry.plugin.dependsOn ?? []) if (typeof dep === 'string') needed.add(dep);
  }
  const host = createHost(
    {
      ...checked.config,
      logger: silentLogger(),
      // Only the store: no runner claiming work, no scheduler firing slots, and no session
      // manager ending "orphaned" processes that belong to a host running right now.
      runner: false,
      sessions: false,
      failover: undefined,
      budgets: undefined,
      // Agents only run tasks, and may need secrets (provider keys) this command does not have.
      agents: undefined,
      defaultAgent: undefined,
      schedules: undefined,
      heartbeat: undefined,
      reminders: undefined,
      plugins: [openMode, ...all.filter((p) => needed.has(p.plugin.name)).map((p) => p.plugin)],
    },
    { baseDir: checked.baseDir },
  );
  await host.start();
  try {
    return await work(host.resolve(StoreToken));
  } finally {
    await host.stop('cli command done');
  }
}
