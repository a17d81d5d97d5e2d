import { createHost } from '../../preset/host.js';
import { runUntilSignal } from '../../runtime/run-until-signal.js';
import { loadCheckedConfig } from '../host-config.js';

/** The signals that stop a host (those `runUntilSignal` handles by default). */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

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
  // Loading a config takes up to a second (it imports every plugin). A stop signal in that time
  // would otherwise end the process at once, with signal's exit code and not a line said: it is
  // noted instead, and the host then stops before it starts, as a signal during start does.
  let early: NodeJS.Signals | undefined;
  const onEarlySignal = (signal: NodeJS.Signals) => {
    if (early) process.exit(130); // a second one forces, as during a stop
    early = signal;
  };
  for (const s of STOP_SIGNALS) process.on(s, onEarlySignal);
  let host: ReturnType<typeof createHost>;
  try {
    const checked = await loadCheckedConfig(options.cwd, options.config, {
      envFile: options.envFile,
    });
    host = createHost(checked.config, { baseDir: checked.baseDir });
    // A signal that came while the config ran synchronously is still waiting in the event loop
    // (libuv reads it in its next poll phase): two immediates span one, so it reaches these
    // handlers before they give way to the host's own.
    await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onEarlySignal);
  }
  if (early) {
    // The host's logger exists only once it starts: say it as the CLI's other messages do.
    process.stderr.write(
      `agentd: received ${early} while loading the config: host "${host.name}" not started\n`,
    );
    return 0;
  }
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
