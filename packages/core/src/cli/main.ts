import pkg from '../../package.json' with { type: 'json' };
import { MAX_TASK_ATTEMPTS } from '../contracts/task.js';
import { Command, CommanderError } from './commander.js';
import type { AskOptions } from './commands/ask.js';
import { registerStoreCommands } from './commands/store-commands.js';
import {
  bufferedIO,
  type CliIO,
  ignoreClosedPipe,
  maskingIO,
  printError,
  processIO,
} from './output.js';

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
  target: CliIO = processIO,
  cwd = process.cwd(),
): Promise<number> {
  let verbose = argv.includes('--verbose');
  if (target === processIO) {
    // `agentd tasks | head`: a reader that stops early is not an error.
    ignoreClosedPipe(process.stdout);
    ignoreClosedPipe(process.stderr);
  }
  // stdout is written only once the command has succeeded: a failure leaves nothing half-written
  // there (`agentd service print systemd > unit`), and says why on stderr.
  // Everything printed is masked too: the loaded config's secrets by value, secret shapes by pattern.
  const io = bufferedIO(maskingIO(target));
  const program = new Command('agentd')
    .description('Run and manage an agentd host (24/7 autonomous agents)')
    .version(pkg.version, '-v, --version', 'print the version')
    .option('--verbose', 'print stack traces with errors')
    .option(
      '--env-file <path>',
      'read environment variables from this file (default: .env beside the config, when present; variables already set win)',
    )
    .showHelpAfterError('(run "agentd --help" for usage)')
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
    })
    .exitOverride();

  let code = 0;
  // Each command's module is imported when it runs, not here: `agentd tasks` then loads none of
  // `start`'s host machinery, `chat`'s readline or `service`'s templates (start-up time is
  // mostly loading code; see docs/benchmarks.md).
  const envFile = () => program.opts<{ envFile?: string }>().envFile;
  /** A command's options with where it runs: the working directory and `--env-file`. */
  const inContext = <T extends object>(opts: T) => ({ ...opts, cwd, envFile: envFile() });
  program
    .command('start')
    .description('start the host described by agentd.config.* and run until SIGTERM/SIGINT')
    .option('-c, --config <path>', 'config file (default: agentd.config.{ts,mts,js,mjs,json} here)')
    .action(async (opts: { config?: string }) => {
      code = await (await import('./commands/start.js')).startCommand(inContext(opts));
    });
  program
    .command('check')
    .description('validate the config and print the plugin start order, without starting anything')
    .option('-c, --config <path>', 'config file (default: agentd.config.{ts,mts,js,mjs,json} here)')
    .action(async (opts: { config?: string }) => {
      code = await (await import('./commands/check.js')).checkCommand(io, inContext(opts));
    });

  const configOption = [
    '-c, --config <path>',
    'config file (default: agentd.config.{ts,mts,js,mjs,json} here)',
  ] as const;
  program
    .command('tasks')
    .description('list tasks (newest first) and counts per status, from the store')
    .option(
      '-s, --status <statuses>',
      'only these statuses, comma-separated (pending,held,running,completed,failed,cancelled)',
    )
    .option('-n, --limit <n>', 'at most this many (default 50)')
    .option('--json', 'print JSON instead of a table')
    .option(...configOption)
    .action(async (opts: { status?: string; limit?: string; json?: boolean; config?: string }) => {
      code = await (await import('./commands/tasks.js')).tasksCommand(io, inContext(opts));
    });
  program
    .command('enqueue <text>')
    .description(
      'add a task to the store; a running host picks it up (text starting with "-": agentd enqueue -- "-text")',
    )
    .option('-p, --priority <p>', 'critical|high|normal|low or 0-3 (default normal)')
    .option('-a, --agent <name>', 'agent to run it (default: the default agent)')
    .option('-k, --key <key>', 'idempotency key: enqueueing the same key again adds nothing')
    .option(
      '--max-attempts <n>',
      `attempts before the task fails, 1-${MAX_TASK_ATTEMPTS} (default 3)`,
    )
    .option('--run-at <time>', 'not before this ISO 8601 time, e.g. 2026-05-01T08:00:00Z')
    .option(...configOption)
    .action(
      async (
        text: string,
        opts: {
          priority?: string;
          agent?: string;
          key?: string;
          maxAttempts?: string;
          runAt?: string;
          config?: string;
        },
      ) => {
        code = await (await import('./commands/tasks.js')).enqueueCommand(
          io,
          text,
          inContext(opts),
        );
      },
    );
  program
    .command('cancel <id>')
    .description('cancel a pending, held or running task')
    .option(...configOption)
    .action(async (id: string, opts: { config?: string }) => {
      code = await (await import('./commands/tasks.js')).cancelCommand(io, id, inContext(opts));
    });
  program
    .command('backup')
    .description(
      'back up the store now (a running host also backs up on its own, hourly by default)',
    )
    .option('-l, --list', 'list the backups kept instead')
    .option(...configOption)
    .action(async (opts: { list?: boolean; config?: string }) => {
      code = await (await import('./commands/backup.js')).backupCommand(io, inContext(opts));
    });
  program
    .command('restore [file]')
    .description(
      'replace the store with a backup (default: the newest intact one); stop the host first',
    )
    .option(...configOption)
    .action(async (file: string | undefined, opts: { config?: string }) => {
      code = await (await import('./commands/backup.js')).restoreCommand(io, file, inContext(opts));
    });
  registerStoreCommands(program, { io, cwd, envFile, done: (c) => (code = c) });
  program
    .command('schedules')
    .description(
      'list schedules with their next and last runs and missed slots; pause or resume one',
    )
    .option('--json', 'print JSON instead of a table')
    .option('--pause <name>', 'pause this schedule on every host sharing the store, until resumed')
    .option('--resume <name>', 'resume this schedule from its next slot (no catch-up)')
    .option(...configOption)
    .action(async (opts: { json?: boolean; pause?: string; resume?: string; config?: string }) => {
      code = await (await import('./commands/schedules.js')).schedulesCommand(io, inContext(opts));
    });
  program
    .command('reminders')
    .description('list the reminders to come, soonest first; pause or resume one')
    .option('--json', 'print JSON instead of a table')
    .option('--pause <id>', 'hold this reminder on every host sharing the store, until resumed')
    .option('--resume <id>', 'release it: it runs at its time, or at once if that has passed')
    .option(...configOption)
    .action(async (opts: { json?: boolean; pause?: string; resume?: string; config?: string }) => {
      code = await (await import('./commands/reminders.js')).remindersCommand(io, inContext(opts));
    });
  program
    .command('sessions')
    .description(
      'list sessions (user, name, status, agent, persona, last activity); set a timeout or archive one',
    )
    .option('-u, --user <channel:id>', 'only this user')
    .option('-a, --all', 'include archived sessions')
    .option('--name <name>', 'session for --timeout/--archive (default: the active one)')
    .option('--timeout <minutes>', 'set the idle timeout, 1-120 (needs --user)')
    .option('--archive', 'archive --name of --user')
    .option('--json', 'print JSON instead of a table')
    .option(...configOption)
    .action(
      async (opts: {
        user?: string;
        all?: boolean;
        name?: string;
        timeout?: string;
        archive?: boolean;
        json?: boolean;
        config?: string;
      }) => {
        code = await (await import('./commands/sessions.js')).sessionsCommand(io, inContext(opts));
      },
    );
  program
    .command('dead-letters')
    .description(
      'inputs a channel could not take (malformed, too large, a removed agent), with the reason; discard them once reviewed',
    )
    .option('-s, --status <statuses>', 'open (default), discarded, retried or all, comma-separated')
    .option('-n, --limit <n>', 'at most this many (default 50)')
    .option('--show <id>', 'print one dead letter in full, its raw input included')
    .option('--discard <ids...>', 'mark these dead letters reviewed (/health stops warning)')
    .option('--json', 'print JSON instead of a table')
    .option(...configOption)
    .action(
      async (opts: {
        status?: string;
        limit?: string;
        show?: string;
        discard?: string[];
        json?: boolean;
        config?: string;
      }) => {
        code = await (await import('./commands/dead-letters.js')).deadLettersCommand(
          io,
          inContext(opts),
        );
      },
    );
  program
    .command('import <file>')
    .description(
      'enqueue the unfinished tasks of a flat JSON task file (e.g. an old tasks.json); safe to repeat',
    )
    .option(...configOption)
    .action(async (file: string, opts: { config?: string }) => {
      code = await (await import('./commands/import.js')).importCommand(io, file, inContext(opts));
    });

  program
    .command('status')
    .description(
      "the running host's status through its HTTP API, or task counts from the store when no host answers (exit 3)",
    )
    .option('--json', 'print JSON instead of text')
    .option(...configOption)
    .action(async (opts: { json?: boolean; config?: string }) => {
      code = await (await import('./commands/status.js')).statusCommand(io, inContext(opts));
    });
  program
    .command('ask <text>')
    .description(
      'ask the running host one question through its HTTP API and print the answer (exit 0 answered, 1 failed, 2 timed out, 3 no host, 4 refused)',
    )
    .option('-a, --agent <name>', 'agent to ask (default: the default agent)')
    .option('-s, --session <key>', 'asks with the same key share a conversation')
    .option('-t, --timeout <duration>', 'how long to wait, e.g. 90s, 5m (default 10m)')
    .option('--json', 'print the finished task as JSON')
    .option(...configOption)
    .action(async (text: string, opts: Omit<AskOptions, 'cwd'>) => {
      code = await (await import('./commands/ask.js')).askCommand(io, text, inContext(opts));
    });
  program
    .command('chat')
    .description('talk with the running host in this terminal, through its HTTP API')
    .option(
      '--conversation <id>',
      'conversation (and session) to talk in (default: terminal-<user>)',
    )
    .option(...configOption)
    .action(async (opts: { conversation?: string; config?: string }) => {
      // Replies are printed as they come, not held until the command ends.
      code = await (await import('./commands/chat.js')).chatCommand(
        maskingIO(target),
        inContext(opts),
      );
    });
  program
    .command('metrics')
    .description(
      "the running host's metrics with p50/p95/p99, or the history's newest minute (exit 3)",
    )
    .option('--json', 'print JSON instead of tables')
    .option('--all', 'include zero values')
    .option(...configOption)
    .action(async (opts: { json?: boolean; all?: boolean; config?: string }) => {
      code = await (await import('./commands/metrics.js')).metricsCommand(io, inContext(opts));
    });
  program
    .command('report')
    .description(
      "the running host's report over the last --since (default 24h); exit 3 without one",
    )
    .option('--since <duration>', 'the window, like 24h or 7d')
    .option('--json', 'print JSON')
    .option(...configOption)
    .action(async (opts: { since?: string; json?: boolean; config?: string }) => {
      code = await (await import('./commands/report.js')).reportCommand(io, inContext(opts));
    });
  program
    .command('service')
    .description('service definitions that run the host 24/7')
    .command('print <manager>')
    .description(
      'print a systemd unit or a launchd plist for this config (manager: systemd or launchd); installs nothing',
    )
    .option(
      '--system',
      'a system-wide service (systemd system unit, launchd daemon) instead of a per-user one',
    )
    .option('--node <path>', 'Node executable (default: the one running agentd)')
    .option(
      '--bin <path>',
      "agentd's bin script (default: the project's node_modules/@agentd/core/bin/agentd.js)",
    )
    .option(...configOption)
    .action(
      async (
        manager: string,
        opts: { system?: boolean; node?: string; bin?: string; config?: string },
      ) => {
        code = await (await import('./commands/service.js')).serviceCommand(
          io,
          manager,
          inContext(opts),
        );
      },
    );

  try {
    await program.parseAsync(argv);
    verbose = program.opts().verbose === true;
    io.flush();
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed.
      code = error.exitCode;
      if (code === 0) io.flush();
      else io.discard();
    } else {
      io.discard();
      printError(io, error, verbose);
      code = 1;
    }
  }
  process.exitCode = code;
  return code;
}
