import { createHost } from '../../kernel/host.js';
import { runUntilSignal } from '../../runtime/run-until-signal.js';
import { loadCheckedConfig } from '../host-config.js';

/**
 * `agentd start`: loads and validates the config (nothing starts on a bad one), runs the host
 * until SIGTERM/SIGINT, and resolves with the exit code.
 */
export async function startCommand(options: { config?: string; cwd: string }): Promise<number> {
  const checked = await loadCheckedConfig(options.cwd, options.config);
  const host = createHost(checked.config, { baseDir: checked.baseDir });
  return runUntilSignal(host);
}
