import { packageBuild } from '../../tsup.package';

export default packageBuild(
  ['src/index.ts', 'src/cli/main.ts', 'src/testing/index.ts'],
  ['vitest'],
);
