import {
  type Alert,
  ChannelRegistryToken,
  command,
  createToken,
  HealthRegistryToken,
  type HealthResult,
  HostInfoToken,
  InboundRouterToken,
  NotifierToken,
  type Plugin,
  raiseAlert,
  SecretMaskerToken,
  StateStoreToken,
  TaskStoreToken,
} from '@agentd/core';
import { StatusReportToken } from '@agentd/core/chat-commands';
import { BudgetGuardToken } from '@agentd/core/failover';
import { machineTag, type TimerHandle, withTimeout } from '@agentd/core/host';
import { type RoleCampaign, RolesToken } from '@agentd/core/roles';
import { systemLines, systemText } from './format.js';
import { Heartbeat } from './heartbeat.js';
import { MetricsRegistryToken } from './metrics.js';
import {
  type MonitorOptions,
  monitorOptionsSchema,
  type ResolvedMonitorOptions,
} from './options.js';
import { resolveRules } from './rules/default-rules.js';
import type { RuleInstance } from './rules/rule-engine.js';
import { RuleEvaluator } from './rules/rule-evaluator.js';
import { BuiltinSignals } from './rules/signals.js';
import { type SystemSample, sampleSystem } from './sample.js';

/**
 * The plugin's name in a host, and the `source` of its alerts.
 *
 * @example
 * ```ts
 * host.events.on('alert', (a) => { if (a.source === MONITOR_PLUGIN_NAME) page(a); });
 * ```
 */
export const MONITOR_PLUGIN_NAME = 'monitor';

/** How long the first sample's alerts wait to learn whether this host raises them. */
const ALERT_ROLE_WAIT_MS = 1_000;

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
 * Watches the host: CPU load, memory and the file systems it writes to (sampled with
 * systeminformation every `intervalSeconds`), and alert rules over built-in signals (a stalled
 * runner, the error rate, the queue, budgets, circuits, channels, restarts) and the Prometheus
 * metrics of `metrics()`. A rule that fires raises an alert through the host's notifier
 * (repeated while it fires; an `info` notice once it resolves), which reaches every channel that
 * delivers alerts, such as a Telegram chat. With `heartbeat`, it pings a dead man's switch
 * (healthchecks.io, Uptime Kuma, Better Stack) that alerts when the host goes quiet. The `system`
 * and `alert-rules` health checks turn `warn` while a rule fires, and `/system` answers on every
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
  /** The rules' evaluation in flight, which stop waits for (it reads the store). */
  let evaluating: Promise<void> | undefined;
  let sample: () => Promise<SystemSample> = () => Promise.reject(new Error('not registered'));
  /** The paths whose file systems are watched; set in register. */
  let paths: string[] = [];
  const offs: (() => void)[] = [];
  let signals: BuiltinSignals | undefined;
  let evaluator: RuleEvaluator | undefined;
  let heartbeat: Heartbeat | undefined;
  /**
   * Processes on one machine watch the same CPU, memory and disks: with roles (hosts sharing a
   * store), only the holder of this machine's alert role raises alerts. The others keep
   * sampling and evaluating (health, `/system`, and the same repeat timing when they take over).
   */
  let alertRole: RoleCampaign | undefined;
  /** Settles once this host knows whether it holds the alert role (a host alone: at once). */
  let alertRoleKnown: Promise<void> = Promise.resolve();

  return {
    name: MONITOR_PLUGIN_NAME,
    provides: [SystemMonitorToken],
    // Read when present: the store's queue, budgets, restarts. (metrics() lists this plugin in
    // its own `after`, so its registry is read lazily, at evaluation.)
    after: [TaskStoreToken, StateStoreToken, BudgetGuardToken, RolesToken],
    optionsSchema: monitorOptionsSchema,
    options,
    // The heartbeat URL: whoever has it can ping (or silence) the dead man's switch.
    secretOptions: ['url'],

    register(ctx) {
      const o = ctx.options;
      const hostInfo = ctx.resolve(HostInfoToken);
      paths = o.disks ?? [hostInfo.dataDir];
      // A stale network mount can hang a file-system call: a sample gives up rather than
      // stopping the monitor (or the host's start) for good.
      sample = () =>
        withTimeout(
          async () => {
            const at = ctx.clock.now();
            return o.sampler ? { ...(await o.sampler(paths)), at } : sampleSystem(paths, at);
          },
          SAMPLE_TIMEOUT_MS,
          'sampling the system',
        );
      signals = new BuiltinSignals({
        clock: ctx.clock,
        events: ctx.events,
        logger: ctx.logger,
        hostName: hostInfo.name,
        tasks: () => ctx.tryResolve(TaskStoreToken),
        state: () => ctx.tryResolve(StateStoreToken),
        budgets: () => ctx.tryResolve(BudgetGuardToken),
        channels: () => ctx.tryResolve(ChannelRegistryToken),
        health: () => ctx.tryResolve(HealthRegistryToken),
        system: () => latest,
      });
      evaluator = new RuleEvaluator(
        resolveRules(o).rules,
        signals,
        () => ctx.tryResolve(MetricsRegistryToken),
        ctx.logger,
        { state: () => ctx.tryResolve(StateStoreToken), key: `rules:${hostInfo.name}` },
      );
      const rules = evaluator;
      const systemRules = new Set(
        rules.rules.filter((r) => r.signal?.startsWith('system_')).map((r) => r.name),
      );
      const instanceName = (i: RuleInstance) => (i.series ? `${i.rule}:${i.series}` : i.rule);

      const raise = (alert: Omit<Alert, 'source'>) => {
        if (alertRole && !alertRole.held) return;
        void raiseAlert(ctx.tryResolve(NotifierToken), ctx.events, {
          ...alert,
          source: MONITOR_PLUGIN_NAME,
        });
      };

      tick = async () => {
        try {
          latest = await sample();
        } catch (err) {
          ctx.logger.warn({ err }, 'could not sample the system');
        }
        await alertRoleKnown;
        // A sample can take half a second: the host may have stopped meanwhile, and the rules
        // read the store, which closes after this plugin stops.
        if (stopped) return;
        evaluating = (async () => {
          try {
            for (const alert of await rules.evaluate(ctx.clock.now())) raise(alert);
          } catch (err) {
            ctx.logger.warn({ err }, 'could not evaluate the alert rules');
          }
        })();
        await evaluating;
        evaluating = undefined;
        if (!stopped) timer = ctx.clock.setTimeout(() => void tick(), o.intervalSeconds * 1000);
      };

      ctx.provide(SystemMonitorToken, { latest: () => latest, sample: () => sample() });
      ctx.resolve(HealthRegistryToken).add({
        name: 'system',
        check: () =>
          systemHealth(
            latest,
            rules.engine
              .instances()
              .filter((i) => i.state === 'firing' && systemRules.has(i.rule))
              .map(instanceName),
            ctx.clock.now(),
            o.intervalSeconds * 1000,
          ),
      });
      ctx.resolve(HealthRegistryToken).add({
        name: 'alert-rules',
        check: () => {
          const firing = rules.engine.instances().filter((i) => i.state === 'firing');
          return firing.length === 0
            ? { status: 'pass', observedValue: rules.rules.length, observedUnit: 'rules' }
            : {
                status: 'warn',
                output: `firing: ${firing.map(instanceName).join(', ')}`,
                observedValue: firing.length,
                observedUnit: 'firing',
              };
        },
      });
      if (o.heartbeat) {
        const masker = ctx.tryResolve(SecretMaskerToken);
        masker?.add(o.heartbeat.url);
        heartbeat = new Heartbeat(o.heartbeat, {
          clock: ctx.clock,
          logger: ctx.logger,
          health: () => ctx.tryResolve(HealthRegistryToken),
          mask: (text) => (masker ? masker.mask(text) : text),
        });
      }
      offs.push(() => {
        stopped = true;
        timer?.cancel();
        heartbeat?.stop();
        signals?.stop();
      });
    },

    async start(ctx) {
      const roles = ctx.tryResolve(RolesToken);
      if (roles) {
        const campaign = roles.campaign(`${MONITOR_PLUGIN_NAME}:alerts@${machineTag()}`);
        alertRole = campaign;
        // A host alone holds it at once; the first sample's alerts wait for that (not the start).
        alertRoleKnown = campaign.acquired(AbortSignal.timeout(ALERT_ROLE_WAIT_MS)).then(
          () => {},
          () => {},
        );
        offs.push(() => void campaign.resign());
      }
      evaluator?.checkSources();
      await signals?.start();
      await evaluator?.load();
      if (heartbeat) {
        const beat = heartbeat;
        beat.start();
        // Pings start once every plugin is up: a check of a plugin still starting is no failure.
        offs.push(ctx.events.on('host.ready', () => beat.begin()));
      }
      // Once the host is ready, not during its start: the first reading takes half a second
      // (never awaited), and systeminformation's import and its CPU reading's synchronous child
      // process (`cat /proc/stat`) would hold up the plugins starting after this one. Until it
      // is in, /health says "no sample yet".
      offs.push(ctx.events.on('host.ready', () => void tick()));
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
        {
          everySeconds: ctx.options.intervalSeconds,
          thresholds: ctx.options.thresholds,
          rules: evaluator?.rules.map((r) => r.name),
        },
        `watching CPU, memory and ${paths.join(', ')}, with ${evaluator?.rules.length ?? 0} alert rules`,
      );
    },

    async stop() {
      for (const off of offs.splice(0)) off();
      await evaluating;
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
