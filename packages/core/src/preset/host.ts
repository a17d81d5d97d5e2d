import type { KernelConfig } from '../config/host-config.js';
import {
  type ResolvedConfig,
  type ValidateConfigOptions,
  validateKernelConfig,
} from '../config/validate-config.js';
import { type CreateHostOptions, createKernelHost, type Host } from '../kernel/host.js';
import { type BuiltinConfig, builtinPreset } from './builtin-preset.js';

/**
 * A host's configuration: what `agentd.config.ts` exports and `createHost` takes. The kernel's
 * keys (`name`, `plugins`, `agents`, ...) plus the built-in preset's (`schedules`, `failover`,
 * `budgets`, `sessions`, `runner`, `heartbeat`, `reminders`, `timezone`).
 *
 * @example
 * ```ts
 * import { defineConfig } from '@agentd/core';
 * import { sqlite } from '@agentd/store-sqlite';
 *
 * export default defineConfig({
 *   name: 'my-host',
 *   plugins: [sqlite({ path: './data/agentd.db' }), process.env.TELEGRAM_TOKEN && telegram({})],
 * });
 * ```
 */
export interface HostConfig extends KernelConfig, BuiltinConfig {}

/**
 * Identity function that gives `agentd.config.ts` full type checking and completion.
 *
 * @example
 * ```ts
 * // agentd.config.ts
 * import { defineConfig } from '@agentd/core';
 * export default defineConfig({ name: 'home-bot', plugins: [] });
 * ```
 */
export function defineConfig(config: HostConfig): HostConfig {
  return config;
}

/**
 * Creates a host from a config, with agentd's built-ins ({@link builtinPreset}) unless
 * `options.presets` says otherwise. Nothing runs until `start()`, which validates the config
 * (and every plugin's options), orders plugins by their dependencies, registers them, starts
 * them (each within its timeout) and then opens intake: the readiness barrier.
 *
 * @example
 * ```ts
 * import { createHost, defineConfig } from '@agentd/core';
 *
 * const host = createHost(defineConfig({ name: 'demo', plugins: [myPlugin()] }));
 * await host.start();
 * // ... later, e.g. on SIGTERM:
 * const result = await host.stop('SIGTERM');
 * process.exitCode = result.ok ? 0 : 1;
 * ```
 */
export function createHost(config: HostConfig, options: CreateHostOptions = {}): Host {
  return createKernelHost(config, { ...options, presets: options.presets ?? [builtinPreset] });
}

/**
 * Validates a host config as `createHost` does (with the built-in preset unless
 * `options.presets` says otherwise) and every plugin's options. Throws one `ConfigError` listing
 * every problem as `path: message` lines; messages never include the offending values.
 *
 * @example
 * ```ts
 * try { await validateConfig(config); }
 * catch (e) { if (e instanceof ConfigError) console.error(e.issues.join('\n')); }
 * ```
 */
export function validateConfig(
  input: unknown,
  options: ValidateConfigOptions = {},
): Promise<ResolvedConfig> {
  return validateKernelConfig(input, { ...options, presets: options.presets ?? [builtinPreset] });
}
