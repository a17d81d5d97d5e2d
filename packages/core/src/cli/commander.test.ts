import { describe, expect, it } from 'vitest';
import { Command, CommanderError } from './commander.js';

describe('commander, as the CLI loads it', () => {
  // main() tells --help, --version and usage errors (exit codes to keep) from failures by
  // `error instanceof CommanderError`: the class thrown must be the class exported here.
  it('throws its own CommanderError for a usage error, with the exit code and message', () => {
    const errors: string[] = [];
    const program = new Command('agentd')
      .exitOverride()
      .configureOutput({ writeErr: (s) => errors.push(s), writeOut: () => {} })
      .option('--json');
    let thrown: unknown;
    try {
      program.parse(['node', 'agentd', '--nope']);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CommanderError);
    expect(thrown).toMatchObject({ exitCode: 1, code: 'commander.unknownOption' });
    expect(errors.join('')).toContain("unknown option '--nope'");
  });

  it('ends --version with exit code 0 through the same error class', () => {
    const program = new Command('agentd')
      .exitOverride()
      .configureOutput({ writeOut: () => {} })
      .version('1.2.3', '-v, --version');
    expect(() => program.parse(['node', 'agentd', '--version'])).toThrow(
      expect.objectContaining({ exitCode: 0, code: 'commander.version' }),
    );
  });
});
