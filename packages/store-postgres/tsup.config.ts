import { packageBuild } from '../../tsup.package';

export default packageBuild(['src/index.ts', 'src/testing/index.ts'], ['pg']);
