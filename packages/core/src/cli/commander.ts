import { createRequire } from 'node:module';
import type * as Commander from 'commander';

/**
 * commander, loaded through `require` rather than `import`. Its ES module entry (`esm.mjs`) only
 * re-exports its CommonJS build, and Node then scans that build for export names
 * (cjs-module-lexer) before running it: `import('commander')` cost about 30 ms of CPU against
 * 17 ms for `require('commander')` (the same classes), measured alone at load 12, in every
 * `agentd` command. jiti is loaded the same way (see `config/load-config.ts`).
 */
const commander = createRequire(import.meta.url)('commander') as typeof Commander;

/** commander's `Command`: the program and each subcommand. */
export const Command = commander.Command;
export type Command = Commander.Command;

/** What commander throws from `parseAsync` under `exitOverride()` (help, version, usage errors). */
export const CommanderError = commander.CommanderError;
export type CommanderError = Commander.CommanderError;
