import { AgentdError, ConfigError } from '../kernel/errors.js';
import { redactSecrets } from '../logging/redact.js';
import { SecretMasker } from '../logging/secret-masker.js';

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
 * The secrets of the configs this process loaded (filled in from `${ENV}`, secret plugin
 * options); `loadCheckedConfig` adds them. Everything the CLI prints goes through it.
 */
export const cliSecrets = new SecretMasker();

/**
 * `io` with every line masked: the loaded configs' secrets by value, secret shapes by pattern.
 *
 * @example
 * ```ts
 * const io = maskingIO(processIO);
 * io.out(JSON.stringify(tasks)); // no API key, token or URL password gets through
 * ```
 */
export function maskingIO(io: CliIO, masker: SecretMasker = cliSecrets): CliIO {
  return { out: (line) => io.out(masker.mask(line)), err: (line) => io.err(masker.mask(line)) };
}

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
