import { AgentdError, ConfigError } from '../kernel/errors.js';
import { redactSecrets } from '../logging/redact.js';

/** Where the CLI writes; swapped in tests. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

export const processIO: CliIO = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * Prints an error the way users should see it: one clear message, `path: message` lines for
 * config issues, and a stack trace only with `--verbose` (or for bugs, which are not AgentdErrors).
 */
export function printError(io: CliIO, error: unknown, verbose: boolean): void {
  if (error instanceof ConfigError) {
    io.err(`agentd: ${redactSecrets(error.message)}`);
    for (const issue of error.issues) io.err(`  ${redactSecrets(issue)}`);
  } else if (error instanceof AgentdError) {
    io.err(`agentd: ${redactSecrets(error.message)}`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    io.err(`agentd: unexpected error: ${redactSecrets(message)}`);
    if (!verbose) io.err('  (run again with --verbose for the stack trace)');
  }
  if (verbose && error instanceof Error && error.stack) io.err(redactSecrets(error.stack));
}
