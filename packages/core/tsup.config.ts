import { packageBuild } from '../../tsup.package';

export default packageBuild(
  [
    'src/index.ts',
    'src/cli/main.ts',
    'src/testing/index.ts',
    'src/entries/host.ts',
    'src/entries/store.ts',
    'src/entries/runner.ts',
    'src/entries/failover.ts',
    'src/entries/sessions.ts',
    'src/entries/scheduler.ts',
    'src/entries/roles.ts',
    'src/entries/chat-commands.ts',
  ],
  ['vitest'],
  // Bundled rather than imported: each is dozens of small modules (tsyringe 34 with tslib and
  // reflect-metadata, cockatiel 29) that Node 20 loads one by one at every start and CLI command.
  // None appears in core's types, and only core uses tsyringe.
  ['tsyringe', 'reflect-metadata', 'tslib', 'cockatiel'],
);
