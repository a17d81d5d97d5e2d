import type { Host, StopResult } from '../kernel/host.js';

/** Options for {@link runUntilSignal}. */
export interface RunUntilSignalOptions {
  /** Signals that begin a graceful stop (default SIGTERM, SIGINT, SIGHUP). */
  signals?: readonly NodeJS.Signals[];
  /** Called when a second signal arrives during the stop; default exits with 130. */
  onForce?: (signal: NodeJS.Signals) => void;
}

/**
 * Starts `host`, waits for a stop signal, stops it gracefully and resolves with the exit code:
 * 0 for a clean stop, 1 for a failed start or stop. A second signal during the stop forces an
 * immediate exit. Needs no TTY, so it behaves the same under systemd, launchd and Docker.
 * A failed start rejects (with the host already cleaned up), so the caller can print why.
 *
 * @example
 * ```ts
 * const host = createHost(config);
 * process.exitCode = await runUntilSignal(host);
 * ```
 */
export async function runUntilSignal(
  host: Host,
  options: RunUntilSignalOptions = {},
): Promise<number> {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT', 'SIGHUP'];
  const onForce =
    options.onForce ??
    ((signal: NodeJS.Signals) => {
      host.logger.fatal(
        { signal },
        'second signal: exiting without waiting for the stop to finish',
      );
      process.exit(130);
    });
  let stopping: Promise<StopResult> | undefined;
  let stopRequested!: (result: Promise<StopResult>) => void;
  const stopped = new Promise<StopResult>((resolve) => {
    stopRequested = resolve;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return onForce(signal);
    host.logger.info(
      { signal },
      `received ${signal}: stopping gracefully (send it again to force)`,
    );
    stopping = host.stop(signal);
    stopRequested(stopping);
  };
  // Keeps the process alive while the host runs, even when no plugin holds an open handle.
  const keepAlive = setInterval(() => {}, 1 << 30);
  for (const s of signals) process.on(s, onSignal);
  try {
    try {
      await host.start();
    } catch (error) {
      // A signal during start aborts it: that is a requested stop, not a failure to report.
      if (stopping) return (await stopping).ok ? 0 : 1;
      throw error;
    }
    return (await stopped).ok ? 0 : 1;
  } finally {
    clearInterval(keepAlive);
    for (const s of signals) process.off(s, onSignal);
  }
}
