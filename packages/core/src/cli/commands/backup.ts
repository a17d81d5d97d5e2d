import { AgentdError } from '../../kernel/errors.js';
import { formatTime } from '../format.js';
import { loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';
import { withStore } from '../store-access.js';

interface ConfigOptions {
  config?: string;
  cwd: string;
  envFile?: string;
}

/** `agentd backup [--list]`: takes a consistent backup of the store now, or lists the backups kept. */
export async function backupCommand(
  io: CliIO,
  options: ConfigOptions & { list?: boolean },
): Promise<number> {
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
    storeOnly: true,
  });
  return withStore(checked, async (store) => {
    if (options.list) {
      const backups = (await store.listBackups?.()) ?? [];
      if (backups.length === 0) io.out('no backups yet');
      for (const b of backups)
        io.out(`${formatTime(b.takenAt)}  ${String(b.bytes).padStart(12)} bytes  ${b.location}`);
      return 0;
    }
    if (!store.backup)
      throw new AgentdError('E_NO_BACKUPS', `${store.description} cannot back itself up`);
    const b = await store.backup();
    io.out(`backed up ${store.description} to ${b.location} (${b.bytes} bytes)`);
    return 0;
  });
}

/**
 * `agentd restore [file]`: replaces the store's data with a backup (the newest intact one by
 * default), keeping the current data aside. Stop the host first: a running host keeps its own
 * connection to the old data.
 */
export async function restoreCommand(
  io: CliIO,
  file: string | undefined,
  options: ConfigOptions,
): Promise<number> {
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
    storeOnly: true,
  });
  return withStore(
    checked,
    async (store) => {
      if (!store.restore)
        throw new AgentdError('E_NO_BACKUPS', `${store.description} cannot restore backups`);
      const { restored, keptAside } = await store.restore(file);
      io.out(
        `restored ${restored.location} (taken ${formatTime(restored.takenAt)}) into ${store.description}`,
      );
      if (keptAside) io.out(`the data it replaced is kept at ${keptAside}`);
      return 0;
    },
    { mode: 'replace' },
  );
}
