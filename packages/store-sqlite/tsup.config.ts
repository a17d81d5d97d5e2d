import { packageBuild } from '../../tsup.package';

// kysely only compiles queries here (see schema.ts): bundled, so a start does not load its files.
export default packageBuild(['src/index.ts'], ['better-sqlite3'], ['kysely']);
