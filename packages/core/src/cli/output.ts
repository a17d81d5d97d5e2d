import { AgentdError, ConfigError } from '../kernel/errors.js';
import { redactSecrets } from '../logging/redact.js';
import { SecretMasker } from '../logging/secret-masker.js';

/** Where the CLI writes; swapped in tests. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

/**
 * Characters a terminal may act on instead of showing: C0 controls but the line feed, DEL, C1
 * controls (U+0080-U+009F, which some terminals read as ESC sequences), the Arabic letter mark,
 * and the bidirectional embeddings, overrides and isolates that reorder what follows them.
 */
const TERMINAL_UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Escapes the characters a terminal would act on (see above) as `\uXXXX`, keeping line feeds.
 * Task text comes from Telegram users, webhook senders and API callers: printed raw, an ESC
 * sequence in it could retitle or clear the operator's terminal, or hide what follows. The
 * escape is a JSON escape too, so `--json` output stays the same JSON (and `JSON.stringify`
 * never leaves a raw control character inside a string, so only DEL, C1 and bidi marks change).
 *
 * @example
 * ```ts
 * escapeControls('done\u001b]0;pwned\u0007'); // 'done\\u001b]0;pwned\\u0007'
 * ```
 */
export function escapeControls(text: string): string {
  return text.replace(
    TERMINAL_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const closedPipe = Symbol('agentd.closedPipe');

/**
 * Makes `stream` drop what is written after its reader has gone (`EPIPE`), as `git log | head`
 * does: `agentd tasks | head -3` closes the pipe while the table is being written, and without a
 * listener Node throws the stream's `error` event as an uncaught exception with a stack trace.
 * Other errors are left to throw. Called once per stream; returns whether the reader has gone.
 *
 * @example
 * ```ts
 * const closed = ignoreClosedPipe(process.stdout);
 * process.stdout.write(table); // `agentd tasks | head` ends quietly
 * ```
 */
export function ignoreClosedPipe(stream: NodeJS.WritableStream): () => boolean {
  let gone = false;
  const marked = stream as NodeJS.WritableStream & { [closedPipe]?: () => boolean };
  const existing = marked[closedPipe];
  if (existing) return existing;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || (gone && error.code === 'ERR_STREAM_DESTROYED')) {
      gone = true;
      return;
    }
    throw error;
  });
  const closed = () => gone;
  marked[closedPipe] = closed;
  return closed;
}

/** Writes to the process's stdout and stderr, every line made terminal-safe. */
export const processIO: CliIO = {
  out: (line) => process.stdout.write(`${escapeControls(line)}\n`),
  err: (line) => process.stderr.write(`${escapeControls(line)}\n`),
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
 * Holds a command's stdout lines until it has finished, so a command that fails part-way leaves
 * nothing half-written on stdout (`agentd service print systemd > unit` must not write half a
 * unit). Errors and notes go to stderr at once.
 *
 * @example
 * ```ts
 * const io = bufferedIO(processIO);
 * try { await run(io); io.flush(); } catch (e) { io.discard(); printError(processIO, e, false); }
 * ```
 */
export function bufferedIO(target: CliIO): CliIO & { flush(): void; discard(): void } {
  let lines: string[] = [];
  return {
    out: (line) => void lines.push(line),
    err: (line) => target.err(line),
    flush() {
      const held = lines;
      lines = [];
      for (const line of held) target.out(line);
    },
    discard() {
      lines = [];
    },
  };
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
