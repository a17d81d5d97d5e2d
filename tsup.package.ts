import { defineConfig } from 'tsup';

/**
 * The build every agentd package shares: ESM and `.d.ts` for Node 20, one entry per export of
 * the package, source maps. Each package's `tsup.config.ts` names only what differs.
 *
 * @example
 * ```ts
 * // packages/plugin-x/tsup.config.ts
 * import { packageBuild } from '../../tsup.package';
 * export default packageBuild(['src/index.ts'], ['@agentd/core']);
 * ```
 */
export function packageBuild(
  entry: string[],
  external: string[] = [],
  /**
   * Dependencies to bundle in instead of importing: for one made of hundreds of small ES
   * modules, which Node 20 loads one by one at every start (kysely: about 280 files, 200 ms of
   * CPU on a 2-core VM), where the bundle's one file takes a fraction of that. Only for
   * dependencies that appear in none of the package's types.
   */
  noExternal: string[] = [],
) {
  return defineConfig({
    entry,
    format: 'esm',
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    external,
    noExternal,
    // A bundled dependency's ES module build where its package.json names one (`module`, for
    // packages without `exports`): only the parts used end up in the bundle.
    esbuildOptions(options) {
      options.mainFields = ['module', 'main'];
    },
  });
}
