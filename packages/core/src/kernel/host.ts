import type { KernelConfig } from '../config/host-config.js';
import {
  type ResolvedConfig,
  type ResolvedPlugin,
  validateKernelConfig,
} from '../config/validate-config.js';
import { AgentRegistryToken } from '../contracts/agent.js';
import { ChannelRegistryToken, InboundRouterToken } from '../contracts/channel.js';
import { type Clock, ClockToken } from '../contracts/clock.js';
import { HealthRegistryToken } from '../contracts/health.js';
import { type Logger, LoggerToken } from '../contracts/logger.js';
import { NotifierToken } from '../contracts/notifier.js';
import { TaskQueueToken, TaskStoreToken } from '../contracts/task.js';
import { createLogger, maskingLogger, silentLogger } from '../logging/create-logger.js';
import { SecretMasker, SecretMaskerToken } from '../logging/secret-masker.js';
import { ServiceContainer } from './container.js';
import { AgentdError, HostStartError } from './errors.js';
import { EventBus } from './events.js';
import { type HostInfo, HostInfoToken, type HostState } from './host-info.js';
import { DefaultInboundRouter } from './inbound-router.js';
import { IntakeGate } from './intake.js';
import { IntakeGuard, IntakeGuardToken } from './intake-guard.js';
import { newOwnerId } from './owner.js';
import type { PluginContext } from './plugin.js';
import { orderPlugins } from './plugin-graph.js';
import { type Preset, withPresetPlugins } from './preset.js';
import {
  DefaultAgentRegistry,
  DefaultChannelRegistry,
  DefaultHealthRegistry,
} from './registries.js';
import { systemClock } from './system-clock.js';
import { errorMessage, withTimeout } from './timeout.js';
import type { Token } from './token.js';
import { EventBusToken, IntakeGateToken } from './tokens.js';

/** A plugin hook that failed while the host stopped. */
export interface StopFailure {
  plugin: string;
  phase: 'drain' | 'stop';
  error: string;
}

/** How a stop went. `ok` is false when a drain deadline passed or any hook failed. */
export interface StopResult {
  ok: boolean;
  reason: string;
  failures: StopFailure[];
  /** Work still in flight when the drain deadline passed. */
  abandoned: number;
}

/** Options for {@link createKernelHost} (and `createHost`). */
export interface CreateHostOptions {
  /** Directory relative paths resolve against (the config file's directory). */
  baseDir?: string;
  /** Environment for `${VAR}` interpolation (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /**
   * Presets: config keys they read and the plugins they add after the config's own. The kernel
   * applies none by default; `createHost` from `@agentd/core` applies the built-in preset unless
   * this is given (`presets: []` is a host of the config's plugins only).
   */
  presets?: readonly Preset[];
}

/** A composed host. Create with {@link createHost}. */
export interface Host {
  readonly name: string;
  readonly state: HostState;
  readonly events: EventBus;
  /** Available once `start()` began; before that, a logger that prints nothing. */
  readonly logger: Logger;
  /** Plugin names in start order (empty until start). */
  readonly plugins: readonly string[];
  /** Registers, then starts, every plugin; resolves once the host is ready. */
  start(): Promise<void>;
  /** Closes intake, drains work in flight, stops every plugin in reverse order. Idempotent. */
  stop(reason?: string): Promise<StopResult>;
  /** A service of this host (after start). */
  resolve<T>(token: Token<T>): T;
  /** A service of this host, or undefined. */
  tryResolve<T>(token: Token<T>): T | undefined;
}

/** Services every host has before any plugin registers. */
export const KERNEL_SERVICES: readonly Token<unknown>[] = [
  LoggerToken,
  ClockToken,
  EventBusToken,
  IntakeGateToken,
  HostInfoToken,
  ChannelRegistryToken,
  AgentRegistryToken,
  HealthRegistryToken,
  InboundRouterToken,
  SecretMaskerToken,
  IntakeGuardToken,
];

/**
 * Creates a host from a config and the presets in `options` (none by default: only the config's
 * plugins). Nothing runs until `start()`, which validates the config (and every plugin's
 * options), adds the presets' plugins, orders plugins by their dependencies, registers them,
 * starts them (each within its timeout) and then opens intake: the readiness barrier.
 * Applications use `createHost`, which is this with the built-in preset.
 *
 * @example
 * ```ts
 * import { createKernelHost } from '@agentd/core/host';
 * import { sqlite } from '@agentd/store-sqlite';
 *
 * // Just the store: no runner, no scheduler, no sessions.
 * const host = createKernelHost({ name: 'store-only', plugins: [sqlite()] });
 * await host.start();
 * await host.stop('done');
 * ```
 */
export function createKernelHost(config: KernelConfig, options: CreateHostOptions = {}): Host {
  return new KernelHost(config, options);
}

class KernelHost implements Host {
  readonly container = new ServiceContainer();
  readonly gate = new IntakeGate();
  readonly #abort = new AbortController();
  #state: HostState = 'created';
  #logger: Logger = silentLogger();
  // Created once, so subscriptions made before start() (host.events.on('host.ready', ...)) count.
  readonly #events = new EventBus(() => this.#logger);
  #resolved: ResolvedConfig | undefined;
  /** The config's secrets, masked wherever the host writes text out. */
  #masker = new SecretMasker();
  #order: ResolvedPlugin[] = [];
  /** Plugins whose `start` was called, in start order. */
  #started: ResolvedPlugin[] = [];
  #contexts = new Map<string, PluginContext>();
  #phase: 'idle' | 'register' | 'run' = 'idle';
  #readyAt: number | null = null;
  #starting: Promise<void> | undefined;
  #stopping: Promise<StopResult> | undefined;
  /** How the clean-up after a failed (or aborted) start went. */
  #failedStart: StopResult | undefined;
  readonly #instanceId: string;

  constructor(
    private readonly config: KernelConfig,
    private readonly options: CreateHostOptions,
  ) {
    this.#instanceId = newOwnerId(config.name ?? 'agentd');
  }

  get name(): string {
    return this.#resolved?.name ?? this.config.name ?? 'agentd';
  }
  get state(): HostState {
    return this.#state;
  }
  get events(): EventBus {
    return this.#events;
  }
  get logger(): Logger {
    return this.#logger;
  }
  get plugins(): readonly string[] {
    return this.#order.map((p) => p.plugin.name);
  }

  resolve<T>(token: Token<T>): T {
    return this.container.resolve(token, `host "${this.name}"`);
  }
  tryResolve<T>(token: Token<T>): T | undefined {
    return this.container.tryResolve(token);
  }

  start(): Promise<void> {
    if (this.#state !== 'created') {
      return Promise.reject(
        new AgentdError('E_HOST_STATE', `host "${this.name}" was already started`),
      );
    }
    this.#state = 'starting';
    this.#starting = this.#start().catch(async (error: unknown) => {
      this.#state = 'failed';
      // A stop asked for during start aborts it: that is no failure. Anything else is said at
      // error level, so what alerts on log levels sees a host that cannot start (a crash loop).
      if (!this.#abort.signal.aborted) {
        this.#logger.error({ err: error }, `host "${this.name}" failed to start`);
      }
      this.#failedStart = await this.#shutdown(`start failed: ${errorMessage(error)}`);
      this.#state = 'failed';
      throw error;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const startedAt = Date.now();
    const baseDir = this.options.baseDir ?? process.cwd();
    const presets = this.options.presets ?? [];
    const resolved = await validateKernelConfig(this.config, {
      env: this.options.env,
      baseDir,
      presets,
    });
    this.#resolved = resolved;
    this.#masker = new SecretMasker(resolved.secrets);
    this.#logger = this.#makeLogger(resolved);
    const clock = resolved.clock ?? systemClock;
    this.#provideKernelServices(clock, baseDir);
    this.#order = orderPlugins(withPresetPlugins(resolved, presets), KERNEL_SERVICES);
    this.#logger.info({ plugins: this.plugins }, `starting host "${resolved.name}"`);

    this.#phase = 'register';
    for (const entry of this.#order) {
      const ctx = this.#contextFor(entry, clock);
      try {
        await withTimeout(
          () => entry.plugin.register?.(ctx),
          resolved.timeouts.startMs,
          `plugin "${entry.plugin.name}" register`,
        );
      } catch (error) {
        throw new HostStartError(
          'E_PLUGIN_REGISTER',
          `plugin "${entry.plugin.name}" failed to register: ${errorMessage(error)}`,
          { cause: error },
        );
      }
      for (const token of entry.plugin.provides ?? []) {
        if (!this.container.has(token)) {
          throw new HostStartError(
            'E_PLUGIN_REGISTER',
            `plugin "${entry.plugin.name}" declares it provides "${token.name}" but did not provide it in register()`,
          );
        }
      }
    }
    this.#phase = 'run';
    this.#applyDefaultAgent(resolved.defaultAgent);

    for (const entry of this.#order) {
      if (this.#abort.signal.aborted)
        throw new HostStartError(
          'E_START_ABORTED',
          `start aborted: ${String(this.#abort.signal.reason)}`,
        );
      const { plugin } = entry;
      const limit = plugin.timeouts?.startMs ?? resolved.timeouts.startMs;
      const t0 = Date.now();
      this.#started.push(entry);
      try {
        await withTimeout(
          () => plugin.start?.(this.#contexts.get(plugin.name)!),
          limit,
          `plugin "${plugin.name}" start`,
        );
      } catch (error) {
        throw new HostStartError(
          'E_PLUGIN_START',
          `plugin "${plugin.name}" failed to start: ${errorMessage(error)}`,
          { cause: error },
        );
      }
      const durationMs = Date.now() - t0;
      this.#logger.info({ plugin: plugin.name, durationMs }, `started plugin "${plugin.name}"`);
      this.#events.emit('plugin.started', { plugin: plugin.name, durationMs });
    }

    this.#state = 'ready';
    this.#readyAt = clock.now();
    this.gate.open();
    const startedInMs = Date.now() - startedAt;
    this.#logger.info({ startedInMs }, `host "${resolved.name}" is ready`);
    this.#events.emit('host.ready', {
      name: resolved.name,
      startedInMs,
      plugins: [...this.plugins],
    });
  }

  stop(reason = 'stop requested'): Promise<StopResult> {
    this.#stopping ??= (async () => {
      if (this.#state === 'created') {
        this.#state = 'stopped';
        return { ok: true, reason, failures: [], abandoned: 0 };
      }
      // Intake closes at once, before any await, so nothing slips in after stop() was called.
      // A stop during start aborts the remaining starts; the start path then shuts down.
      this.gate.close();
      this.#abort.abort(reason);
      if (this.#starting) {
        const failed = await this.#starting.then(
          () => false,
          () => true,
        );
        if (failed) return { ...this.#failedStart!, reason };
      }
      return this.#shutdown(reason);
    })();
    return this.#stopping;
  }

  async #shutdown(reason: string): Promise<StopResult> {
    const timeouts = this.#resolved?.timeouts;
    this.#state = 'stopping';
    this.#abort.abort(reason);
    this.gate.close();
    this.#logger.info({ reason }, `stopping host "${this.name}"`);
    this.#events.emit('host.stopping', { reason });
    const failures: StopFailure[] = [];
    const reversed = [...this.#started].reverse();

    // Phase 1: intake is closed; let work in flight finish before the drain deadline.
    const deadline = AbortSignal.timeout(timeouts?.drainMs ?? 30_000);
    const deadlinePassed = new Promise<'deadline'>((resolve) => {
      if (deadline.aborted) resolve('deadline');
      deadline.addEventListener('abort', () => resolve('deadline'), { once: true });
    });
    for (const { plugin } of reversed) {
      if (!plugin.drain || deadline.aborted) continue;
      try {
        await Promise.race([
          Promise.resolve().then(() => plugin.drain?.(this.#contexts.get(plugin.name)!, deadline)),
          deadlinePassed,
        ]);
      } catch (error) {
        failures.push({ plugin: plugin.name, phase: 'drain', error: errorMessage(error) });
      }
    }
    await Promise.race([this.gate.drained(), deadlinePassed]);
    const abandoned = this.gate.inFlight;
    if (deadline.aborted) {
      this.#logger.warn({ abandoned }, 'drain deadline passed; stopping with work still in flight');
    }

    // Phase 2: release resources, last started first, whatever fails along the way.
    for (const { plugin } of reversed) {
      if (!plugin.stop) continue;
      const t0 = Date.now();
      const limit = plugin.timeouts?.stopMs ?? timeouts?.stopMs ?? 10_000;
      let failure: string | undefined;
      try {
        await withTimeout(
          () => plugin.stop?.(this.#contexts.get(plugin.name)!),
          limit,
          `plugin "${plugin.name}" stop`,
        );
      } catch (error) {
        failure = errorMessage(error);
        failures.push({ plugin: plugin.name, phase: 'stop', error: failure });
        this.#logger.error(
          { plugin: plugin.name, err: error },
          `plugin "${plugin.name}" failed to stop`,
        );
      }
      const durationMs = Date.now() - t0;
      if (!failure)
        this.#logger.info({ plugin: plugin.name, durationMs }, `stopped plugin "${plugin.name}"`);
      this.#events.emit('plugin.stopped', {
        plugin: plugin.name,
        durationMs,
        ...(failure ? { error: failure } : {}),
      });
    }

    const ok = failures.length === 0 && !deadline.aborted;
    if (this.#state === 'stopping') this.#state = 'stopped';
    this.#logger.info({ reason, ok, failures: failures.length }, `host "${this.name}" stopped`);
    this.#events.emit('host.stopped', { reason, ok });
    return { ok, reason, failures, abandoned };
  }

  /** After register, when plugins have added their agents too. */
  #applyDefaultAgent(name: string | undefined): void {
    if (name === undefined) return;
    const agents = this.container.resolve(AgentRegistryToken);
    if (!agents.get(name)) {
      const known = agents.list().map((a) => a.name);
      throw new HostStartError(
        'E_UNKNOWN_AGENT',
        `defaultAgent "${name}" is not an agent of this host (known: ${known.join(', ') || 'none'})`,
      );
    }
    agents.setDefault(name);
  }

  #makeLogger(resolved: ResolvedConfig): Logger {
    const cfg = resolved.logger;
    if (cfg && 'info' in cfg) return maskingLogger(cfg, this.#masker);
    return createLogger({ ...(cfg ?? {}), base: { host: resolved.name }, masker: this.#masker });
  }

  #provideKernelServices(clock: Clock, baseDir: string): void {
    const c = this.container;
    const resolved = this.#resolved!;
    const info: HostInfo = Object.defineProperties(
      {
        name: resolved.name,
        dataDir: resolved.dataDir,
        baseDir,
        instanceId: this.#instanceId,
      } as HostInfo,
      {
        state: { get: () => this.#state, enumerable: true },
        readyAt: { get: () => this.#readyAt, enumerable: true },
        plugins: { get: () => this.plugins, enumerable: true },
      },
    );
    c.provide(LoggerToken, this.#logger);
    c.provide(ClockToken, clock);
    c.provide(SecretMaskerToken, this.#masker);
    c.provide(EventBusToken, this.#events);
    c.provide(IntakeGateToken, this.gate);
    c.provide(HostInfoToken, info);
    c.provide(ChannelRegistryToken, new DefaultChannelRegistry());
    const agents = new DefaultAgentRegistry();
    for (const a of resolved.agents) agents.add(a);
    c.provide(AgentRegistryToken, agents);
    c.provide(HealthRegistryToken, new DefaultHealthRegistry());
    c.provide(
      InboundRouterToken,
      new DefaultInboundRouter(this.gate, this.#events, () => c.tryResolve(TaskQueueToken)),
    );
    c.provide(
      IntakeGuardToken,
      new IntakeGuard({
        store: () => c.tryResolve(TaskStoreToken),
        notifier: () => c.tryResolve(NotifierToken),
        events: this.#events,
        logger: this.#logger,
        clock,
      }),
    );
  }

  #contextFor(entry: ResolvedPlugin, clock: Clock): PluginContext {
    const name = entry.plugin.name;
    const requester = `plugin "${name}"`;
    const assertRegistering = (what: string) => {
      if (this.#phase !== 'register') {
        throw new AgentdError(
          'E_PROVIDE_PHASE',
          `${requester} called ${what} outside register(); provide services in register`,
        );
      }
    };
    const ctx: PluginContext = {
      plugin: name,
      host: this.name,
      options: entry.options,
      logger: this.#logger.child({ plugin: name }),
      events: this.#events,
      clock,
      signal: this.#abort.signal,
      provide: (token, value) => {
        assertRegistering('provide');
        this.container.provide(token, value, requester);
      },
      provideFactory: (token, factory) => {
        assertRegistering('provideFactory');
        this.container.provideFactory(token, factory, requester);
      },
      resolve: (token) => this.container.resolve(token, requester),
      tryResolve: (token) => this.container.tryResolve(token),
    };
    this.#contexts.set(name, ctx);
    return ctx;
  }
}
