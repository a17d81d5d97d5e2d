import { Command, CommanderError } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { checkCommand } from './commands/check.js';
import { startCommand } from './commands/start.js';
import { type CliIO, printError, processIO } from './output.js';

/**
 * Runs the `agentd` command line. Resolves with the exit code (also set on `process.exitCode`).
 *
 * @example
 * ```ts
 * import { main } from '@agentd/core/cli';
 * await main(['node', 'agentd', 'check', '--config', 'agentd.config.json']);
 * ```
 */
export async function main(
  argv: readonly string[],
  io: CliIO = processIO,
  cwd = process.cwd(),
): Promise<number> {
  let verbose = argv.includes('--verbose');
  const program = new Command('agentd')
    .description('Run and manage an agentd host (24/7 autonomous agents)')
    .version(pkg.version, '-v, --version', 'print the version')
    .option('--verbose', 'print stack traces with errors')
    .showHelpAfterError('(run "agentd --help" for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride();

  let code = 0;
  program
    .command('start')
    .description('start the host described by agentd.config.* and run until SIGTERM/SIGINT')
    .option('-c, --config <path>', 'config file (default: agentd.config.{ts,mts,js,mjs,json} here)')
    .action(async (opts: { config?: string }) => {
      code = await startCommand({ config: opts.config, cwd });
    });
  program
    .command('check')
    .description('validate the config and print the plugin start order, without starting anything')
    .option('-c, --config <path>', 'config file (default: agentd.config.{ts,mts,js,mjs,json} here)')
    .action(async (opts: { config?: string }) => {
      code = await checkCommand(io, { config: opts.config, cwd });
    });

  try {
    await program.parseAsync(argv);
    verbose = program.opts().verbose === true;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed.
      code = error.exitCode;
    } else {
      printError(io, error, verbose);
      code = 1;
    }
  }
  process.exitCode = code;
  return code;
}
