import {
  type Store,
  type StoreOpenMode,
  StoreOpenModeToken,
  StoreToken,
} from '../contracts/store.js';
import { AgentdError } from '../kernel/errors.js';
import { createKernelHost } from '../kernel/host.js';
import type { Plugin } from '../kernel/plugin.js';
import { silentLogger } from '../logging/create-logger.js';
import type { CheckedConfig } from './host-config.js';

/**
 * {@link withStore}'s options for a command that only reads: the store may check the file
 * shallowly before opening it (see `StoreOpenMode` `read`).
 */
export const READ_ONLY = { mode: 'read' } as const satisfies { mode: StoreOpenMode };

/**
 * Opens the config's store without the rest of the host and runs `work` with it. Stores are safe
 * to share between processes (SQLite: WAL and immediate transactions), so this works whether or
 * not the host is running; a running host picks up new tasks on its next poll.
 *
 * The host here is a kernel host without the built-in preset: the store plugin, the plugins it
 * depends on and the open mode, nothing else. So no runner claims work, no scheduler fires
 * slots and no session manager ends "orphaned" processes that belong to a host running right
 * now, and a built-in added later cannot slip in. Agents stay out too: they only run tasks, and
 * may need secrets (provider keys) this command does not have.
 *
 * The store opens in `inspect` mode: a damaged file fails the command with a message that says
 * how to recover, and is never repaired or replaced here (only `agentd start` restores a backup
 * on its own, with an alert). `agentd restore` passes `replace`; commands that only read pass
 * {@link READ_ONLY}.
 *
 * @example
 * ```ts
 * const count = await withStore(checked, async (store) => (await store.listTasks({})).length);
 * ```
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
  const plugins = checked.resolved.plugins.map((p) => p.plugin);
  const provides = (plugin: Plugin, key: symbol) =>
    plugin.provides?.some((t) => t.key === key) ?? false;
  const store = plugins.find((p) => provides(p, StoreToken.key));
  if (!store) {
    throw new AgentdError(
      'E_NO_STORE',
      `${checked.path} has no store plugin (add one, e.g. sqlite() from @agentd/store-sqlite)`,
    );
  }
  // The store plugin with whatever it depends on (by name or by service), transitively. A
  // dependency on a kernel service has no plugin here, and the kernel host provides it.
  const needed = new Set<Plugin>([store]);
  const queue = [store];
  while (queue.length > 0) {
    const plugin = queue.pop()!;
    for (const dep of plugin.dependsOn ?? []) {
      const found = plugins.find((p) =>
        typeof dep === 'string' ? p.name === dep : provides(p, dep.key),
      );
      if (found && !needed.has(found)) {
        needed.add(found);
        queue.push(found);
      }
    }
  }
  const host = createKernelHost(
    {
      name: checked.resolved.name,
      dataDir: checked.resolved.dataDir,
      timeouts: checked.resolved.timeouts,
      ...(checked.resolved.clock && { clock: checked.resolved.clock }),
      logger: silentLogger(),
      // Keep the config's order (and so the start order the host would use).
      plugins: [openMode, ...plugins.filter((p) => needed.has(p))],
    },
    { baseDir: checked.baseDir, presets: [] },
  );
  await host.start();
  try {
    return await work(host.resolve(StoreToken));
  } finally {
    await host.stop('cli command done');
  }
}
