import { packageBuild } from '../../tsup.package';

// Only the server side: the browser client is built by Vite (vite.config.ts) into dist/client.
export default packageBuild(['src/index.ts'], ['@agentd/core']);
