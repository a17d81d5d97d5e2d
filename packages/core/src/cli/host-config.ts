import { dirname } from 'node:path';
import { findConfigFile, loadConfigFile } from '../config/load-config.js';
import type { ResolvedConfig } from '../config/validate-config.js';
import { StoreToken } from '../contracts/store.js';
import { KERNEL_SERVICES } from '../kernel/host.js';
import type { Plugin, PluginOption } from '../kernel/plugin.js';
import { flattenPlugins, orderPlugins } from '../kernel/plugin-graph.js';
import { withPresetPlugins } from '../kernel/preset.js';
import { isToken } from '../kernel/token.js';
import { builtinPreset } from '../preset/builtin-preset.js';
import { type HostConfig, validateConfig } from '../preset/host.js';
import { SCHEDULER_PLUGIN_NAME } from '../scheduler/scheduler-plugin.js';
import { type EnvFileUse, loadEnvFile } from './env-file.js';
import { cliSecrets } from './output.js';

/** A config file found, loaded, validated and ordered: what `start` and `check` share. */
export interface CheckedConfig {
  path: string;
  baseDir: string;
  config: HostConfig;
  resolved: ResolvedConfig;
  order: string[];
  /** The env file read before loading the config, if any. */
  envFile?: EnvFileUse;
  /**
   * Names of the agents under `agents` in the config (plugins may add more at run time). Set
   * for store-only loads too, where the agents themselves are not validated.
   */
  agentNames?: string[];
  /** True when only the store (and what it needs) was validated: see {@link loadCheckedConfig}. */
  storeOnly?: boolean;
}

/** Options of {@link loadCheckedConfig}. */
export interface LoadConfigOptions {
  /** `--env-file`: read this file instead of the `.env` beside the config. */
  envFile?: string;
  /**
   * For commands that only open the store (tasks, status, schedules, sessions, backup…): validate
   * the store plugin, what it depends on and the scheduler's options, and leave the other
   * plugins, the agents and failover unchecked. Their secrets (a Telegram token, a provider key)
   * are then not demanded by a command that never starts them.
   */
  storeOnly?: boolean;
}

/**
 * Finds the config (`--config` or `agentd.config.*` in `cwd`), reads the env file beside it (or
 * `--env-file`), loads and validates it.
 *
 * @example
 * ```ts
 * const checked = await loadCheckedConfig(process.cwd(), undefined, { storeOnly: true });
 * ```
 */
export async function loadCheckedConfig(
  cwd: string,
  explicit?: string,
  options: LoadConfigOptions = {},
): Promise<CheckedConfig> {
  const path = findConfigFile(cwd, explicit);
  const envFile = loadEnvFile({ cwd, configPath: path, explicit: options.envFile });
  // Loaded as written: the kernel's keys and the built-in preset's, validated just below.
  const config = (await loadConfigFile(path)).config as HostConfig;
  const baseDir = dirname(path);
  const agentNames = (config.agents ?? [])
    .map((a) => (a as { name?: unknown } | null)?.name)
    .filter((n): n is string => typeof n === 'string');
  const storePlugins = options.storeOnly ? storeSubset(config.plugins ?? []) : undefined;
  const toValidate: HostConfig = storePlugins
    ? {
        ...config,
        plugins: storePlugins,
        agents: undefined,
        defaultAgent: undefined,
        failover: undefined,
        budgets: undefined,
      }
    : config;
  const resolved = await validateConfig(toValidate, { baseDir });
  for (const secret of resolved.secrets) cliSecrets.add(secret);
  const order = orderPlugins(withPresetPlugins(resolved, [builtinPreset]), KERNEL_SERVICES).map(
    (p) => p.plugin.name,
  );
  if (storePlugins) {
    // What the store-only load skipped still matters to the commands that read it.
    resolved.defaultAgent = config.defaultAgent;
  }
  return {
    path,
    baseDir,
    config,
    resolved,
    order,
    ...(envFile && { envFile }),
    agentNames,
    ...(storePlugins && { storeOnly: true }),
  };
}

/**
 * The plugins a store-only command needs: each store plugin, everything it depends on (by name
 * or by service), and the scheduler plugin (whose options `agentd schedules` lists). Undefined
 * when the config has no store plugin, so the full validation explains what is wrong.
 */
function storeSubset(list: readonly PluginOption[]): Plugin[] | undefined {
  const plugins = flattenPlugins(list)
    .map((p) => p.plugin)
    .filter((p): p is Plugin => typeof p === 'object' && p !== null && typeof p.name === 'string');
  const provides = (p: Plugin, key: symbol) =>
    Array.isArray(p.provides) && p.provides.some((t) => isToken(t) && t.key === key);
  const stores = plugins.filter((p) => provides(p, StoreToken.key));
  if (stores.length === 0) return undefined;
  const needed = new Set<Plugin>([
    ...stores,
    ...plugins.filter((p) => p.name === SCHEDULER_PLUGIN_NAME),
  ]);
  const queue = [...needed];
  while (queue.length > 0) {
    const plugin = queue.pop()!;
    for (const dep of Array.isArray(plugin.dependsOn) ? plugin.dependsOn : []) {
      const found = plugins.filter((p) =>
        typeof dep === 'string' ? p.name === dep : isToken(dep) && provides(p, dep.key),
      );
      for (const p of found) {
        if (!needed.has(p)) {
          needed.add(p);
          queue.push(p);
        }
      }
    }
  }
  // Keep the config's order (and so the start order the host would use).
  return plugins.filter((p) => needed.has(p));
}
