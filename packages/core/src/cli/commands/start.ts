import { createHost } from '../../preset/host.js';
import { runUntilSignal } from '../../runtime/run-until-signal.js';
import { loadCheckedConfig } from '../host-config.js';

/** How often a host started through npm checks that npm is still there. */
const PARENT_CHECK_MS = 500;

/**
 * `agentd start`: loads and validates the config (nothing starts on a bad one), runs the host
 * until SIGTERM/SIGINT, and resolves with the exit code.
 *
 * Started through npm (`npx agentd start`, an npm script), the host runs as a grandchild of npm,
 * under `sh -c`: a SIGTERM sent to npm ends npm and the shell, and never reaches the host, which
 * would go on running as an orphan. So such a host also stops, exactly as on SIGTERM, when the
 * process that started it goes away.
 */
export async function startCommand(options: {
  config?: string;
  cwd: string;
  envFile?: string;
}): Promise<number> {
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
  });
  const host = createHost(checked.config, { baseDir: checked.baseDir });
  const watch = startedByNpm() ? watchParent(host.logger) : undefined;
  try {
    return await runUntilSignal(host);
  } finally {
    if (watch) clearInterval(watch);
  }
}

/** npm sets `npm_command` (`exec` for npx, `run-script`, `start`…) for what it runs. */
function startedByNpm(env: NodeJS.ProcessEnv = process.env): boolean {
  return typeof env.npm_command === 'string' && env.npm_command !== '';
}

/** Sends this process SIGTERM (the graceful stop) once its parent is gone, i.e. it was re-parented. */
function watchParent(logger: { info(obj: object, msg: string): void }): NodeJS.Timeout {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    logger.info(
      { parent },
      `the process that started agentd through npm (pid ${parent}) has exited: stopping as on SIGTERM`,
    );
    process.kill(process.pid, 'SIGTERM');
  }, PARENT_CHECK_MS);
  timer.unref();
  return timer;
}
