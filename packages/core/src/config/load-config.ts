import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../kernel/errors.js';
import type { PluginOption } from '../kernel/plugin.js';
import { errorMessage } from '../kernel/timeout.js';
import type { KernelConfig } from './host-config.js';
import { isPlainObject } from './interpolate.js';
import { issueLine } from './issues.js';

/** File names `agentd` looks for, in order. */
export const CONFIG_FILE_NAMES = [
  'agentd.config.ts',
  'agentd.config.mts',
  'agentd.config.js',
  'agentd.config.mjs',
  'agentd.config.json',
] as const;

/** A config as loaded from disk, before validation. */
export interface LoadedConfig {
  /** As written: the kernel's keys and any preset's (`schedules`, ...), not yet validated. */
  config: KernelConfig;
  /** Absolute path of the file it came from. */
  path: string;
}

/**
 * Finds the config file: `explicit` when given (relative to `cwd`), else the first of
 * {@link CONFIG_FILE_NAMES} in `cwd`. Throws a {@link ConfigError} when there is none.
 */
export function findConfigFile(cwd: string, explicit?: string): string {
  if (explicit) {
    const path = resolve(cwd, explicit);
    if (!existsSync(path)) throw new ConfigError(`config file not found: ${path}`);
    return path;
  }
  for (const name of CONFIG_FILE_NAMES) {
    const path = resolve(cwd, name);
    if (existsSync(path)) return path;
  }
  throw new ConfigError(
    `no config file found in ${cwd} (looked for ${CONFIG_FILE_NAMES.join(', ')}); create one or pass --config <path>`,
  );
}

/**
 * Loads a config file: an ES module (`.mjs`, or `.js` in a `"type": "module"` package) with
 * Node's own `import()`; TypeScript and other JavaScript through jiti (so `agentd.config.ts`
 * works on Node 20), JSON with plugins named by package:
 * `["@agentd/plugin-telegram", { "token": "${TELEGRAM_TOKEN}" }]`, resolved from the config
 * file's own node_modules. `${ENV}` placeholders (in either kind of file) are left in place:
 * {@link validateConfig} (which `createHost` runs) fills them in.
 *
 * @example
 * ```ts
 * const { config, path } = await loadConfigFile(findConfigFile(process.cwd()));
 * const host = createHost(config, { baseDir: dirname(path) });
 * ```
 */
export async function loadConfigFile(
  path: string,
  /** Kept for compatibility: placeholders are filled in by `validateConfig`, not here. */
  _env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedConfig> {
  if (path.endsWith('.json'))
    return { path, config: await loadJsonConfig(path, await jitiFor(path)) };
  let mod: unknown;
  try {
    mod = isNativeModule(path)
      ? ((await import(pathToFileURL(path).href)) as { default?: unknown }).default
      : await importWithJiti(path);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot load ${basename(path)}: ${firstLine(errorMessage(error))}`, [], {
      cause: error,
    });
  }
  const config = typeof mod === 'function' ? await (mod as () => unknown)() : mod;
  if (!isPlainObject(config)) {
    throw new ConfigError(
      `${basename(path)} must export a config object as default (export default defineConfig({...}))`,
    );
  }
  return { path, config: config as KernelConfig };
}

type Importer = Awaited<ReturnType<typeof jitiFor>>;

/** File-system errors writing jiti's transform cache, which must not keep a config from loading. */
const CACHE_WRITE_ERRORS = new Set(['ENOSPC', 'EACCES', 'EPERM', 'EROFS', 'EDQUOT']);

/** Imports a config through jiti; when its cache cannot be written (a full disk), without it. */
async function importWithJiti(path: string): Promise<unknown> {
  try {
    return await (await jitiFor(path)).import(path, { default: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!code || !CACHE_WRITE_ERRORS.has(code)) throw error;
    return (await jitiFor(path, { cache: false })).import(path, { default: true });
  }
}

/**
 * jiti for `path`, imported only when a config needs it (its TypeScript transform, Babel, costs
 * most of a second to load). Transforms are cached in the `node_modules/.cache/jiti` that serves
 * the config (the nearest `node_modules` above it), keyed by each file's content, so a start
 * after the first skips Babel; the cache is never put in the shared temporary directory, where
 * a config's inline values would be readable by others: without a `node_modules`, no cache.
 */
async function jitiFor(path: string, options: { cache?: boolean } = {}) {
  // Through `require`, not `import()`: jiti's ES module entry imports its 190 KB CommonJS bundle,
  // which Node then scans for export names (cjs-module-lexer) before running it, about 70 ms of
  // CPU of every command that loads a TypeScript config; its CommonJS entry skips the scan.
  const { createJiti } = createRequire(import.meta.url)('jiti') as typeof import('jiti');
  const modules = options.cache === false ? undefined : nearestNodeModules(dirname(path));
  return createJiti(path, {
    moduleCache: false,
    fsCache: modules ? join(modules, '.cache', 'jiti') : false,
  });
}

/** An ES module Node imports as it is: `.mjs`, or `.js` under a `"type": "module"` package.json. */
function isNativeModule(path: string): boolean {
  if (path.endsWith('.mjs')) return true;
  if (!path.endsWith('.js')) return false;
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return false;
      }
    }
    if (dirname(dir) === dir) return false;
  }
}

function nearestNodeModules(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules');
    if (existsSync(candidate)) return candidate;
    if (dirname(at) === at) return undefined;
  }
}

async function loadJsonConfig(path: string, jiti: Importer): Promise<KernelConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot parse ${basename(path)}: ${errorMessage(error)}`, [], {
      cause: error,
    });
  }
  if (!isPlainObject(raw)) throw new ConfigError(`${basename(path)} must hold a JSON object`);
  const issues: string[] = [];
  // `${ENV}` placeholders stay as they are: `validateConfig` fills them in across the whole
  // config (and each plugin's options), reporting each unset variable once.
  const { plugins, ...config } = raw;
  if (plugins !== undefined && !Array.isArray(plugins)) {
    issues.push(
      issueLine('plugins', 'expected an array of "package" or ["package", {options}] entries'),
    );
  }
  const resolved: PluginOption[] = [];
  if (Array.isArray(plugins)) {
    for (const [index, entry] of plugins.entries()) {
      const plugin = await loadPluginEntry(entry, `plugins[${index}]`, dirname(path), jiti, issues);
      resolved.push(plugin);
    }
  }
  if (issues.length > 0) throw new ConfigError('invalid config', issues);
  return { ...config, plugins: resolved } as KernelConfig;
}

async function loadPluginEntry(
  entry: unknown,
  path: string,
  dir: string,
  jiti: Importer,
  issues: string[],
): Promise<PluginOption> {
  const [specifier, options] = Array.isArray(entry) ? entry : [entry, undefined];
  if (entry === false || entry === null) return undefined;
  if (typeof specifier !== 'string' || (Array.isArray(entry) && entry.length > 2)) {
    issues.push(issueLine(path, 'expected "package" or ["package", {options}]'));
    return undefined;
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await jiti.import(
      specifier.startsWith('.') ? resolve(dir, specifier) : specifier,
    )) as Record<string, unknown>;
  } catch (error) {
    const message = errorMessage(error);
    issues.push(
      issueLine(
        path,
        /Cannot find (module|package)/i.test(message)
          ? `cannot find plugin package "${specifier}" from ${dir} (is it installed? npm install ${specifier})`
          : `cannot load plugin package "${specifier}": ${firstLine(message)}`,
      ),
    );
    return undefined;
  }
  const factory = mod.default;
  if (typeof factory !== 'function') {
    issues.push(issueLine(path, `package "${specifier}" has no default export plugin factory`));
    return undefined;
  }
  // The factory gets raw options; `validateConfig` interpolates and checks them against the
  // plugin's own schema, so its errors carry this entry's path.
  return (factory as (o: unknown) => PluginOption)(options ?? {});
}

/** Loaders put the location on a second line ("ParseError: ...\n /path/file.ts:2:0"): keep both. */
function firstLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.length > 1 && /:\d+(:\d+)?$/.test(lines[1]!)
    ? `${lines[0]} (${lines[1]})`
    : (lines[0] ?? text);
}
