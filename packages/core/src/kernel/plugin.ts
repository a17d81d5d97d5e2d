import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Clock } from '../contracts/clock.js';
import type { Logger } from '../contracts/logger.js';
import type { ServiceResolver } from './container.js';
import type { EventBus } from './events.js';
import type { Token } from './token.js';

/**
 * What a plugin's hooks receive. `provide*` work only inside `register`; `resolve` works in every
 * hook, for services the plugin listed in `dependsOn` (or the kernel's own).
 */
export interface PluginContext<O = unknown> {
  /** This plugin's name. */
  readonly plugin: string;
  /** The host's name from the config. */
  readonly host: string;
  /** The plugin's options after validation by its `optionsSchema` (or as given, without one). */
  readonly options: O;
  /** A child of the host logger bound to `{ plugin }`. */
  readonly logger: Logger;
  readonly events: EventBus;
  readonly clock: Clock;
  /** Aborted when the host begins to stop: end long-running loops and waits. */
  readonly signal: AbortSignal;
  /** Registers a service value under `token`. Only during `register`. */
  provide<T>(token: Token<T>, value: T): void;
  /** Registers a factory run once on first resolve. Only during `register`. */
  provideFactory<T>(token: Token<T>, factory: (resolve: ServiceResolver) => T): void;
  /** The service for `token`; throws an error naming this plugin if nobody provides it. */
  resolve<T>(token: Token<T>): T;
  /** The service for `token`, or `undefined` (for optional integrations). */
  tryResolve<T>(token: Token<T>): T | undefined;
}

/**
 * An agentd plugin: a plain object, usually returned by a factory such as `telegram(options)`.
 * Hooks run in dependency order (`register` for all, then `start` for all); `drain` and `stop`
 * run in reverse order when the host stops.
 *
 * @example
 * ```ts
 * import { createToken, type Plugin } from '@agentd/core';
 *
 * export const ClockTickToken = createToken<{ ticks(): number }>('example.ticks');
 *
 * export function ticker(options: { everyMs: number }): Plugin {
 *   let ticks = 0;
 *   let timer: NodeJS.Timeout | undefined;
 *   return {
 *     name: 'ticker',
 *     provides: [ClockTickToken],
 *     register(ctx) { ctx.provide(ClockTickToken, { ticks: () => ticks }); },
 *     start() { timer = setInterval(() => ticks++, options.everyMs); },
 *     stop() { clearInterval(timer); },
 *   };
 * }
 * ```
 */
export interface Plugin<O = unknown> {
  /** Unique within the host; used in `dependsOn`, logs and errors. */
  readonly name: string;
  /** Plugins (by name) or services (by token) that must be registered and started first. */
  readonly dependsOn?: readonly (string | Token<unknown>)[];
  /**
   * Optional ordering: plugins (by name) or services (by token) that, when the host has them,
   * register and start before this one (and so stop after it). Unlike `dependsOn`, one that is
   * absent is ignored. Use it for a service fetched with `tryResolve`: in `register` it is then
   * already provided, in `start` its provider has already started.
   *
   * @example
   * ```ts
   * const plugin: Plugin = {
   *   name: 'runner',
   *   dependsOn: [TaskStoreToken],
   *   after: [AgentExecutorToken], // failover, when the host has it
   *   start(ctx) { useExecutor(ctx.tryResolve(AgentExecutorToken)); },
   * };
   * ```
   */
  readonly after?: readonly (string | Token<unknown>)[];
  /** Services this plugin provides in `register`, so others can depend on them by token. */
  readonly provides?: readonly Token<unknown>[];
  /**
   * Validates `options` when the config is checked (zod, valibot, any Standard Schema), so a bad
   * option is reported as `plugins[1].token: ...` before anything starts.
   */
  readonly optionsSchema?: StandardSchemaV1<unknown, O>;
  /** The raw options given to the factory; validated against `optionsSchema`. */
  readonly options?: unknown;
  /**
   * Option keys (at any depth) whose string values are secrets, masked wherever the host writes
   * text out. Keys named like `token`, `secret`, `password`, `apiKey`, `privateKey`,
   * `credential` or `authorization` are secret without being listed.
   */
  readonly secretOptions?: readonly string[];
  /** Per-plugin limits overriding the host's `timeouts`. */
  readonly timeouts?: { startMs?: number; stopMs?: number };
  /** Provide and resolve services. No I/O: nothing has started yet. */
  register?(ctx: PluginContext<O>): void | Promise<void>;
  /** Open connections, start loops. Inbound work is not dispatched until every plugin started. */
  start?(ctx: PluginContext<O>): void | Promise<void>;
  /** Intake is closed: finish work in flight before `signal` aborts (the drain deadline). */
  drain?(ctx: PluginContext<O>, signal: AbortSignal): void | Promise<void>;
  /** Release everything. Runs even if other plugins' `stop` failed. */
  stop?(ctx: PluginContext<O>): void | Promise<void>;
}

/** An entry of the `plugins` list: falsy entries are ignored and nested arrays flattened. */
export type PluginOption = Plugin | false | null | undefined | 0 | '' | readonly PluginOption[];
