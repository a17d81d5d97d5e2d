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
);
