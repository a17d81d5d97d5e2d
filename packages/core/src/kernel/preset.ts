import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { ResolvedConfig, ResolvedPlugin } from '../config/validate-config.js';
import { ConfigError } from './errors.js';
import type { PluginOption } from './plugin.js';
import { flattenPlugins } from './plugin-graph.js';
import type { Token } from './token.js';

/**
 * The top-level config keys a preset reads, each with its schema (zod, valibot, any Standard
 * Schema). The kernel validates each key's value with it, reports problems as `key...: message`
 * lines beside the kernel's own, and refuses keys that neither the kernel nor a preset declares.
 */
export type PresetConfigShape = Readonly<Record<string, StandardSchemaV1>>;

/** What {@link Preset.resolvePlugins} receives: each declared key's value after its schema. */
export type PresetSettings<S extends PresetConfigShape> = {
  readonly [K in keyof S]: StandardSchemaV1.InferOutput<S[K]>;
};

/** What a preset may ask about the host it joins while choosing its plugins. */
export interface PresetContext {
  /**
   * True when a plugin of the config (or of an earlier preset) provides `token`, so a preset can
   * add a default only where the user brought none.
   */
  provided(token: Token<unknown>): boolean;
}

/**
 * A named set of plugins chosen from config settings, kept apart from the plugin container
 * (graphile-worker's `WorkerPreset`, Vite's `resolvePlugins`). The kernel knows only this shape;
 * agentd's built-ins (runner, failover, sessions, notifier, scheduler) are one such preset,
 * which `createHost` applies by default.
 *
 * @example
 * ```ts
 * import { definePreset } from '@agentd/core/host';
 * import type { Plugin } from '@agentd/core';
 * import { z } from 'zod';
 *
 * const greeter = (text: string): Plugin => ({ name: 'greeter', start: (ctx) => ctx.logger.info(text) });
 *
 * export const greeterPreset = definePreset({
 *   name: 'greeter',
 *   config: { greeting: z.string().min(1).optional() },
 *   resolvePlugins: (settings) => (settings.greeting ? [greeter(settings.greeting)] : []),
 * });
 * ```
 */
export interface Preset<S extends PresetConfigShape = PresetConfigShape> {
  /** Shown in errors (`preset "agentd" ...`). */
  readonly name: string;
  /** The top-level config keys this preset reads, with their schemas. */
  readonly config?: S;
  /**
   * The plugins to add for these settings, after the config's own plugins. Called once per
   * start (and by `agentd check` to show the start order); must not start anything itself.
   */
  resolvePlugins(settings: PresetSettings<S>, context: PresetContext): readonly PluginOption[];
}

/**
 * Identity function that types a preset's `resolvePlugins` settings from its `config` schemas.
 *
 * @example
 * ```ts
 * const quiet = definePreset({ name: 'quiet', resolvePlugins: () => [] });
 * ```
 */
export function definePreset<S extends PresetConfigShape>(preset: Preset<S>): Preset<S> {
  return preset;
}

/**
 * The keys each preset declares, checked once: a key the kernel owns or another preset declares
 * already is a programming error, reported before any user config is looked at.
 *
 * @param kernelKeys the top-level keys the kernel itself reads.
 */
export function presetConfigKeys(
  presets: readonly Preset[],
  kernelKeys: readonly string[],
): Map<string, { preset: Preset; schema: StandardSchemaV1 }> {
  const keys = new Map<string, { preset: Preset; schema: StandardSchemaV1 }>();
  for (const preset of presets) {
    for (const [key, schema] of Object.entries(preset.config ?? {})) {
      const owner = kernelKeys.includes(key) ? 'the kernel' : keys.get(key)?.preset.name;
      if (owner !== undefined) {
        throw new ConfigError(`preset "${preset.name}" declares config key "${key}"`, [
          `preset "${preset.name}": config key "${key}" is already read by ${owner === 'the kernel' ? owner : `preset "${owner}"`}`,
        ]);
      }
      keys.set(key, { preset, schema });
    }
  }
  return keys;
}

/**
 * The config's plugins followed by each preset's, in preset order. A preset sees what the
 * config's plugins (and earlier presets' plugins) provide, so it adds defaults only where needed.
 *
 * @example
 * ```ts
 * const order = orderPlugins(withPresetPlugins(resolved, [builtinPreset]), KERNEL_SERVICES);
 * ```
 */
export function withPresetPlugins(
  resolved: ResolvedConfig,
  presets: readonly Preset[],
): ResolvedPlugin[] {
  const all = [...resolved.plugins];
  for (const preset of presets) {
    const provided = (token: Token<unknown>) =>
      all.some((p) => p.plugin.provides?.some((t) => t.key === token.key));
    const settings: Record<string, unknown> = {};
    for (const key of Object.keys(preset.config ?? {})) settings[key] = resolved.settings[key];
    const added = preset.resolvePlugins(settings as PresetSettings<PresetConfigShape>, {
      provided,
    });
    // A preset's plugins are identified by name in errors: they have no place in the user's list.
    for (const { plugin } of flattenPlugins(added, `preset "${preset.name}"`)) {
      all.push({ plugin, path: plugin.name, options: undefined });
    }
  }
  return all;
}
