import { createRequire } from 'node:module';

let loaded: typeof import('prom-client') | undefined;

/**
 * prom-client, loaded when `metrics()` first needs a metric rather than when the config imports
 * this package: a CLI command that only reads the store (`agentd tasks`) then does not load its
 * 30-odd modules. prom-client is CommonJS, so `require` shares the one copy an `import` (say, a
 * plugin adding its own metrics) gets.
 *
 * @example
 * ```ts
 * const registry = new (promClient().Registry)();
 * ```
 */
export function promClient(): typeof import('prom-client') {
  loaded ??= createRequire(import.meta.url)('prom-client') as typeof import('prom-client');
  return loaded;
}
