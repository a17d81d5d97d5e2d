import { packageBuild } from '../../tsup.package';

// cockatiel is bundled (its ExponentialBackoff only): a config imports this plugin even without a
// token, and cockatiel's 29 modules would load with it at every start and CLI command.
export default packageBuild(
  ['src/index.ts', 'src/testing/index.ts'],
  ['@agentd/core'],
  ['cockatiel'],
);
