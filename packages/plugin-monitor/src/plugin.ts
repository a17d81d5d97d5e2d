import {
  type Alert,
  command,
  createToken,
  HealthRegistryToken,
  type HealthResult,
  HostInfoToken,
  InboundRouterToken,
  NotifierToken,
  type Plugin,
  raiseAlert,
} from '@agentd/core';
import { StatusReportToken } from '@agentd/core/chat-commands';
import { type TimerHandle, withTimeout } from '@agentd/core/host';
import { readingsOf, systemLines, systemText } from './format.js';
import {
  type MonitorOptions,
  monitorOptionsSchema,
  type ResolvedMonitorOptions,
} from './options.js';
import { type SystemSample, sampleSystem } from './sample.js';
import { ThresholdWatch } from './thresholds.js';

/**
 * The plugin's name in a host, and the `source` of its alerts.
 *
 * @example
 * ```ts
 * host.events.on('alert', (a) => { if (a.source === MONITOR_PLUGIN_NAME) page(a); });
 * ```
 */
export const MONITOR_PLUGIN_NAME = 'monitor';

/** How long one sample may take (a hung `statfs` on a stale network mount). */
const SAMPLE_TIMEOUT_MS = 10_000;

/**
 * What the monitor offers other plugins: the latest reading, and a fresh one on demand.
 *
 * @example
 * ```ts
 * const system = ctx.tryResolve(SystemMonitorToken);
 * const sample = system?.latest() ?? (await system?.sample());
 * ```
 */
export interface SystemMonitor {
  /** The last sample taken, or undefined before the first. */
  latest(): SystemSample | undefined;
  /**
   * Takes a sample now. It raises no alert, but it does start the next CPU reading's window
   * (systeminformation measures load since its previous call).
   */
  sample(): Promise<SystemSample>;
}

/** The {@link SystemMonitor} service, provided by `monitor()`. */
export const SystemMonitorToken = createToken<SystemMonitor>('agentd.monitor');

/**
 * Watches the machine: CPU load, memory, and the file systems the host writes to, sampled with
 * systeminformation every `intervalSeconds`. A value at or above its threshold raises an alert
 * through the host's notifier (repeated every `repeatMinutes` while it stays high; `info` once
 * it is back), which reaches every channel that delivers alerts, such as a Telegram chat. The
 * `system` health check turns `warn` while a value is high, and `/system` answers on every
 * channel with the latest figures (which the built-in `/status` shows too).
 *
 * @example
 * ```ts
 * // agentd.config.ts
 * import { defineConfig } from '@agentd/core';
 * import { sqlite } from '@agentd/store-sqlite';
 * import { monitor } from '@agentd/plugin-monitor';
 *
 * export default defineConfig({
 *   plugins: [sqlite(), monitor({ thresholds: { disk: 90 }, disks: ['/', '/var/lib/agentd'] })],
 * });
 * ```
 */
export function monitor(options: MonitorOptions = {}): Plugin<ResolvedMonitorOptions> {
  let latest: SystemSample | undefined;
  let timer: TimerHandle | undefined;
  let stopped = false;
  /** Samples, raises what the sample calls for, and schedules the next; set in register. */
  let tick: () => Promise<void> = async () => {};
  let sample: () => Promise<SystemSample> = () => Promise.reject(new Error('not registered'));
  /** The paths whose file systems are watched; set in register. */
  let paths: string[] = [];
  const offs: (() => void)[] = [];

  return {
    name: MONITOR_PLUGIN_NAME,
    provides: [SystemMonitorToken],
    optionsSchema: monitorOptionsSchema,
    options,

    register(ctx) {
      const o = ctx.options;
      paths = o.disks ?? [ctx.resolve(HostInfoToken).dataDir];
      const watch = new ThresholdWatch(o.repeatMinutes * 60_000);
      // A stale network mount can hang a file-system call: a sample gives up rather than
      // stopping the monitor (or the host's start) for good.
      sample = () =>
        withTimeout(
          () => sampleSystem(paths, ctx.clock.now()),
          SAMPLE_TIMEOUT_MS,
          'sampling the system',
        );

      const raise = (alert: Omit<Alert, 'source'>) =>
        void raiseAlert(ctx.tryResolve(NotifierToken), ctx.events, {
          ...alert,
          source: MONITOR_PLUGIN_NAME,
        });

      tick = async () => {
        try {
          latest = await sample();
          for (const alert of watch.evaluate(readingsOf(latest, o), latest.at)) raise(alert);
        } catch (err) {
          ctx.logger.warn({ err }, 'could not sample the system');
        }
        if (!stopped) timer = ctx.clock.setTimeout(() => void tick(), o.intervalSeconds * 1000);
      };

      ctx.provide(SystemMonitorToken, { latest: () => latest, sample: () => sample() });
      ctx.resolve(HealthRegistryToken).add({
        name: 'system',
        check: () => systemHealth(latest, watch.over(), ctx.clock.now(), o.intervalSeconds * 1000),
      });
      offs.push(() => {
        stopped = true;
        timer?.cancel();
      });
    },

    async start(ctx) {
      // Not awaited: the first CPU reading takes half a second, which the start need not wait
      // for. Until it is in, /health says "no sample yet".
      void tick();
      // The built-in /status shows the figures too, when the host has the chat commands.
      const status = ctx.tryResolve(StatusReportToken);
      if (status) {
        offs.push(
          status.addSection({
            title: 'System',
            render: async () => systemLines(latest ?? (await sample())),
          }),
        );
      }
      if (ctx.options.command) {
        const host = ctx.resolve(HostInfoToken).name;
        offs.push(
          ctx.resolve(InboundRouterToken).use(
            command('system', async () => systemText(latest ?? (await sample()), host), {
              description: "Show this host's CPU, memory and disk use",
            }),
          ),
        );
      }
      ctx.logger.info(
        { everySeconds: ctx.options.intervalSeconds, thresholds: ctx.options.thresholds },
        `watching CPU, memory and ${paths.join(', ')}`,
      );
    },

    stop() {
      for (const off of offs.splice(0)) off();
    },
  };
}

function systemHealth(
  sample: SystemSample | undefined,
  over: string[],
  now: number,
  intervalMs: number,
): HealthResult {
  if (!sample) return { status: 'pass', output: 'no sample yet' };
  const disks = sample.disks.map((d) => `disk ${d.path} ${d.usedPercent}%`).join(', ');
  const summary = `cpu ${sample.cpuPercent}%, memory ${sample.memory.usedPercent}%${disks ? `, ${disks}` : ''}`;
  if (now - sample.at > 2 * intervalMs + SAMPLE_TIMEOUT_MS) {
    return {
      status: 'warn',
      output: `no sample for ${Math.round((now - sample.at) / 1000)} s (last: ${summary})`,
    };
  }
  return over.length > 0
    ? { status: 'warn', output: `over threshold: ${over.join(', ')} (${summary})` }
    : { status: 'pass', output: summary };
}
