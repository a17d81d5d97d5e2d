import type { Command } from '../commander.js';
import type { CliIO } from '../output.js';

// `agentd store …` registered apart from its implementation (store-copy.ts), which is imported
// only when the command runs: the CLI loads no command's code before it knows which one runs.

/**
 * Adds `agentd store copy` to the CLI (the `store` command group).
 *
 * @example
 * ```ts
 * registerStoreCommands(program, { io, cwd, envFile: () => undefined, done: (code) => {} });
 * ```
 */
export function registerStoreCommands(
  program: Command,
  ctx: {
    io: CliIO;
    cwd: string;
    envFile: () => string | undefined;
    done: (code: number) => void;
  },
): void {
  const store = program.command('store').description('work on the store as a whole');
  store
    .command('copy')
    .description(
      'copy tasks, sessions, dead letters and state into the store another config names (e.g. SQLite -> PostgreSQL); stop the hosts first',
    )
    .requiredOption('--to <config>', 'the config file of the store to copy into')
    .option('-c, --config <path>', "the config of the store to copy from (default: the project's)")
    .option('--force', 'copy into a store that already holds data')
    .option('--batch <n>', 'records per transaction (default 500)')
    .action(async (opts: { to: string; config?: string; force?: boolean; batch?: string }) => {
      const { storeCopyCommand } = await import('./store-copy.js');
      ctx.done(await storeCopyCommand(ctx.io, { ...opts, cwd: ctx.cwd, envFile: ctx.envFile() }));
    });
}
