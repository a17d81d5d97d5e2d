import { PluginGraphError } from './errors.js';
import type { Plugin, PluginOption } from './plugin.js';
import { isToken, type Token } from './token.js';

/** A plugin with where it stood in the user's list (`plugins[2][0]`), for error messages. */
export interface PlacedPlugin {
  plugin: Plugin;
  path: string;
}

/** Drops falsy entries and flattens nested arrays, remembering each plugin's config path. */
export function flattenPlugins(list: readonly PluginOption[], base = 'plugins'): PlacedPlugin[] {
  const out: PlacedPlugin[] = [];
  list.forEach((entry, index) => {
    const path = `${base}[${index}]`;
    if (!entry) return;
    if (Array.isArray(entry)) out.push(...flattenPlugins(entry, path));
    else out.push({ plugin: entry as Plugin, path });
  });
  return out;
}

/**
 * Orders plugins so that each comes after everything it depends on (`dependsOn`) and after what
 * it asks to follow when present (`after`), keeping the user's order where those allow. Throws a
 * {@link PluginGraphError} naming the plugin for a duplicate name, a missing plugin or service
 * (`dependsOn` only: an absent `after` entry is ignored), or a cycle through either kind of edge.
 *
 * @param builtinServices tokens the kernel provides before any plugin registers.
 */
export function orderPlugins<P extends PlacedPlugin>(
  placed: readonly P[],
  builtinServices: readonly Token<unknown>[] = [],
): P[] {
  const byName = new Map<string, P>();
  for (const entry of placed) {
    const { name } = entry.plugin;
    const first = byName.get(name);
    if (first) {
      throw new PluginGraphError(
        'E_DUPLICATE_PLUGIN',
        `${entry.path}: plugin name "${name}" is already used by ${first.path}; plugin names must be unique`,
      );
    }
    byName.set(name, entry);
  }

  const builtin = new Set(builtinServices.map((t) => t.key));
  const providerOf = new Map<symbol, string>();
  for (const { plugin } of placed) {
    for (const token of plugin.provides ?? []) {
      const other = providerOf.get(token.key);
      if (other) {
        throw new PluginGraphError(
          'E_DUPLICATE_SERVICE',
          `plugin "${plugin.name}" provides service "${token.name}", which plugin "${other}" already provides`,
        );
      }
      providerOf.set(token.key, plugin.name);
    }
  }

  const edges = new Map<string, string[]>();
  for (const { plugin } of placed) {
    const deps: string[] = [];
    for (const dep of plugin.dependsOn ?? []) {
      if (isToken(dep)) {
        if (builtin.has(dep.key)) continue;
        const provider = providerOf.get(dep.key);
        if (!provider) {
          throw new PluginGraphError(
            'E_MISSING_SERVICE',
            `plugin "${plugin.name}" depends on service "${dep.name}", but no plugin provides it`,
          );
        }
        if (provider !== plugin.name) deps.push(provider);
      } else {
        if (!byName.has(dep)) {
          throw new PluginGraphError(
            'E_MISSING_PLUGIN',
            `plugin "${plugin.name}" depends on plugin "${dep}", which is not in the plugins list`,
          );
        }
        if (dep === plugin.name) {
          throw new PluginGraphError('E_PLUGIN_CYCLE', `plugin "${dep}" depends on itself`);
        }
        deps.push(dep);
      }
    }
    // Optional ordering: an edge only when the plugin or service is there.
    for (const entry of plugin.after ?? []) {
      const target = isToken(entry) ? providerOf.get(entry.key) : entry;
      if (target === undefined || target === plugin.name || !byName.has(target)) continue;
      if (!deps.includes(target)) deps.push(target);
    }
    edges.set(plugin.name, deps);
  }

  const ordered: P[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      throw new PluginGraphError(
        'E_PLUGIN_CYCLE',
        `plugin dependency cycle: ${cycle.map((n) => `"${n}"`).join(' -> ')}`,
      );
    }
    state.set(name, 'visiting');
    for (const dep of edges.get(name) ?? []) visit(dep, [...trail, name]);
    state.set(name, 'done');
    ordered.push(byName.get(name)!);
  };
  for (const { plugin } of placed) visit(plugin.name, []);
  return ordered;
}
