import { dirname } from 'node:path';
import type { HostConfig } from '../config/host-config.js';
import { findConfigFile, loadConfigFile } from '../config/load-config.js';
import { type ResolvedConfig, validateConfig } from '../config/validate-config.js';
import { KERNEL_SERVICES, withBuiltinPlugins } from '../kernel/host.js';
import { orderPlugins } from '../kernel/plugin-graph.js';
import { cliSecrets } from './output.js';

/** A config file found, loaded, validated and ordered: what `start` and `check` share. */
export interface CheckedConfig {
  path: string;
  baseDir: string;
  config: HostConfig;
  resolved: ResolvedConfig;
  order: string[];
}

/** Finds, loads and validates the config (`--config` or `agentd.config.*` in `cwd`). */
export async function loadCheckedConfig(cwd: string, explicit?: string): Promise<CheckedConfig> {
  const path = findConfigFile(cwd, explicit);
  const { config } = await loadConfigFile(path);
  const baseDir = dirname(path);
  const resolved = await validateConfig(config, { baseDir });
  for (const secret of resolved.secrets) cliSecrets.add(secret);
  const order = orderPlugins(withBuiltinPlugins(resolved), KERNEL_SERVICES).map(
    (p) => p.plugin.name,
  );
  return { path, baseDir, config, resolved, order };
}
