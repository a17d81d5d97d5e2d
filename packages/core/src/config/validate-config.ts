import { resolve } from 'node:path';
import { z } from 'zod';
import type { Agent } from '../contracts/agent.js';
import type { Clock } from '../contracts/clock.js';
import type { Logger } from '../contracts/logger.js';
import { ConfigError } from '../kernel/errors.js';
import type { Plugin, PluginOption } from '../kernel/plugin.js';
import { flattenPlugins } from '../kernel/plugin-graph.js';
import { type Preset, presetConfigKeys } from '../kernel/preset.js';
import { secretOptionValues } from '../logging/secret-masker.js';
import type { KernelConfig, LoggerConfig } from './host-config.js';
import { EnvInterpolation, interpolateEnv, isPlainObject } from './interpolate.js';
import { formatPath, issueLine, joinPath } from './issues.js';
import { reportDuplicateNames } from './unique-names.js';

const ms = z
  .number()
  .int()
  .positive()
  .max(24 * 3600_000);
const isFunction = (v: unknown) => typeof v === 'function';
const hook = z.custom<(...args: unknown[]) => unknown>(isFunction, 'must be a function').optional();

const loggerConfigSchema = z.union([
  z.custom<Logger>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      isFunction((v as Logger).info) &&
      isFunction((v as Logger).child),
  ),
  z
    .object({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
      pretty: z.boolean().optional(),
    })
    .strict(),
]);

/** The top-level keys the kernel itself reads; presets declare the rest. */
const kernelConfigShape = {
  name: z.string().min(1).max(100).optional(),
  plugins: z.array(z.unknown()).optional(),
  logger: loggerConfigSchema.optional(),
  timeouts: z.object({ startMs: ms, stopMs: ms, drainMs: ms }).partial().strict().optional(),
  dataDir: z.string().min(1).optional(),
  clock: z
    .custom<Clock>((v) => typeof v === 'object' && v !== null && isFunction((v as Clock).now))
    .optional(),
  agents: z
    .array(
      z.custom<Agent>(
        (v) =>
          typeof v === 'object' &&
          v !== null &&
          typeof (v as Agent).name === 'string' &&
          isFunction((v as Agent).run),
        'expected an agent ({ name, run }), e.g. agent("name", async (input) => ...)',
      ),
    )
    .optional(),
  defaultAgent: z.string().min(1).optional(),
};

/** The top-level config keys the kernel reads (`name`, `plugins`, `agents`, ...). */
export const KERNEL_CONFIG_KEYS: readonly string[] = Object.keys(kernelConfigShape);

/**
 * The kernel's keys plus a placeholder for each preset key (checked by its own schema next), so
 * a key nobody reads is refused as `Unrecognized key: "pluggins"`.
 */
function hostConfigSchema(presetKeys: readonly string[]) {
  return z
    .object({
      ...kernelConfigShape,
      ...Object.fromEntries(presetKeys.map((key) => [key, z.unknown().optional()])),
    })
    .strict()
    .superRefine((config, ctx) =>
      reportDuplicateNames(config.agents ?? [], ctx, 'agent', (i) => ['agents', i]),
    );
}

const pluginShapeSchema = z.object({
  name: z
    .string({ error: 'a plugin needs a name (a non-empty string)' })
    .min(1)
    .regex(/^[A-Za-z0-9@][\w@/.:-]*$/, 'use letters, digits and - _ . : / @'),
  dependsOn: z.array(z.unknown()).optional(),
  after: z.array(z.unknown()).optional(),
  provides: z.array(z.unknown()).optional(),
  register: hook,
  start: hook,
  drain: hook,
  stop: hook,
});

/** A plugin with its config path and validated options. */
export interface ResolvedPlugin {
  plugin: Plugin;
  path: string;
  options: unknown;
}

/** A validated config with defaults applied. */
export interface ResolvedConfig {
  name: string;
  plugins: ResolvedPlugin[];
  logger: LoggerConfig | undefined;
  timeouts: { startMs: number; stopMs: number; drainMs: number };
  dataDir: string;
  clock: Clock | undefined;
  agents: readonly Agent[];
  defaultAgent: string | undefined;
  /**
   * The values of the keys presets declare (`schedules`, `failover`, `runner`, ...), each after
   * its schema; a key the config does not set holds what its schema makes of `undefined`.
   */
  settings: Readonly<Record<string, unknown>>;
  /**
   * Secret values the config holds: everything filled in from `${ENV}` and every plugin option
   * marked secret. The host masks them wherever it writes text (see `SecretMasker`).
   */
  secrets: readonly string[];
}

/** Defaults for {@link ResolvedConfig.timeouts}. */
export const DEFAULT_TIMEOUTS = { startMs: 30_000, stopMs: 10_000, drainMs: 30_000 } as const;

/** Options of {@link validateKernelConfig}. */
export interface ValidateConfigOptions {
  /** Environment for `${VAR}` interpolation (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Directory relative paths resolve against (default the working directory). */
  baseDir?: string;
  /** Presets whose config keys the config may use (default none: the kernel's keys only). */
  presets?: readonly Preset[];
}

/**
 * Validates a host config against the kernel's keys and the given presets' keys, and every
 * plugin's options (each with its own schema), interpolating `${ENV}` placeholders. Throws one
 * {@link ConfigError} listing every problem as `path: message` lines; messages never include the
 * offending values, which may be secrets. `validateConfig` from `@agentd/core` is this with the
 * built-in preset.
 *
 * @example
 * ```ts
 * try { await validateKernelConfig(config, { presets: [] }); }
 * catch (e) { if (e instanceof ConfigError) console.error(e.issues.join('\n')); }
 * ```
 */
export async function validateKernelConfig(
  input: unknown,
  options: ValidateConfigOptions = {},
): Promise<ResolvedConfig> {
  const presetKeys = presetConfigKeys(options.presets ?? [], KERNEL_CONFIG_KEYS);
  const env = options.env ?? process.env;
  const found = new EnvInterpolation();
  // `${ENV}` works in the whole config: every plain value here (schedules, failover, budgets,
  // sessions, runner, dataDir...), each agent's options and each plugin's options below.
  let interpolated: unknown = input ?? {};
  if (isPlainObject(interpolated)) {
    const { plugins, agents, logger, clock, ...rest } = interpolated;
    interpolated = {
      ...(interpolateEnv(rest, env, '', found) as Record<string, unknown>),
      ...(plugins !== undefined && { plugins }),
      ...(agents !== undefined && { agents }),
      ...(logger !== undefined && {
        logger: isPlainObject(logger) ? interpolateEnv(logger, env, 'logger', found) : logger,
      }),
      ...(clock !== undefined && { clock }),
    };
  }
  const issues: string[] = [];
  // A problem that follows from an unset variable (an empty string where a URL belongs) is
  // reported once, as the unset variable.
  const fromUnset = (path: string) =>
    [...found.unset.values()].some((paths) =>
      paths.some(
        (p) => p !== '' && (path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`)),
      ),
    );
  const parsed = hostConfigSchema([...presetKeys.keys()]).safeParse(interpolated);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = formatPath(issue.path);
      if (!fromUnset(path)) issues.push(issueLine(path, issue.message));
    }
  }
  // Each preset key by its own schema, in declaration order (after the kernel's keys, as before).
  const settings: Record<string, unknown> = {};
  const given = isPlainObject(interpolated) ? interpolated : {};
  for (const [key, { schema }] of presetKeys) {
    const result = await schema['~standard'].validate(given[key]);
    if (!result.issues) {
      settings[key] = result.value;
      continue;
    }
    for (const issue of result.issues) {
      const path = joinPath(key, formatPath(issue.path ?? []));
      if (!fromUnset(path)) issues.push(issueLine(path, issue.message));
    }
  }
  // The agents and plugins are checked even when the keys above are not: one run of `agentd
  // check` lists every problem (a list the schema refused, not being an array, is left out).
  const config = (parsed.success ? parsed.data : given) as KernelConfig;
  const listed = <T>(list: readonly T[] | undefined): readonly T[] =>
    Array.isArray(list) ? list : [];

  const agents: Agent[] = [];
  for (const [index, agent] of listed(config.agents).entries()) {
    if (
      typeof agent !== 'object' ||
      agent === null ||
      agent.options === undefined ||
      typeof agent.withOptions !== 'function'
    ) {
      agents.push(agent);
      continue;
    }
    const path = `agents[${index}]`;
    const unsetBefore = countUnset(found);
    const resolvedOptions = interpolateEnv(agent.options, env, path, found);
    if (countUnset(found) > unsetBefore) continue;
    try {
      agents.push(agent.withOptions(resolvedOptions));
    } catch (error) {
      const lines =
        error instanceof ConfigError && error.issues.length ? error.issues : [errorText(error)];
      for (const line of lines) issues.push(issueLine(path, line));
    }
  }

  // Values made only of digits (a chat id, a port) are ids, not secrets: masking them would hide
  // every chat id in the log and the task records.
  const secrets = new Set([...found.secrets].filter((v) => !/^\d+$/.test(v)));
  const plugins: ResolvedPlugin[] = [];
  for (const { plugin, path } of flattenPlugins(listed(config.plugins) as PluginOption[])) {
    if (typeof plugin !== 'object' || plugin === null) {
      issues.push(
        issueLine(path, 'expected a plugin object (did you forget to call the factory?)'),
      );
      continue;
    }
    const shape = pluginShapeSchema.safeParse(plugin);
    if (!shape.success) {
      for (const issue of shape.error.issues) {
        issues.push(issueLine(joinPath(path, formatPath(issue.path)), issue.message));
      }
      continue;
    }
    const unsetBefore = countUnset(found);
    const raw = interpolateEnv(plugin.options, env, path, found);
    if (countUnset(found) > unsetBefore) continue;
    let value: unknown = raw;
    if (plugin.optionsSchema) {
      const result = await plugin.optionsSchema['~standard'].validate(raw);
      if (result.issues) {
        for (const issue of result.issues) {
          issues.push(issueLine(joinPath(path, formatPath(issue.path ?? [])), issue.message));
        }
        continue;
      }
      value = result.value;
    }
    for (const secret of secretOptionValues(value, plugin.secretOptions)) secrets.add(secret);
    plugins.push({ plugin, path, options: value });
  }
  if (!parsed.success || found.unset.size > 0 || issues.length > 0) {
    throw new ConfigError('invalid config', [...found.issues(), ...issues]);
  }

  return {
    name: config.name ?? 'agentd',
    plugins,
    logger: config.logger,
    timeouts: { ...DEFAULT_TIMEOUTS, ...config.timeouts },
    dataDir: resolve(options.baseDir ?? process.cwd(), config.dataDir ?? '.agentd'),
    clock: config.clock,
    agents,
    defaultAgent: config.defaultAgent,
    settings,
    secrets: [...secrets],
  };
}

function countUnset(found: EnvInterpolation): number {
  let n = 0;
  for (const paths of found.unset.values()) n += paths.length;
  return n;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
