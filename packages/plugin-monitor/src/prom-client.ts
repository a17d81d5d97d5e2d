import { createRequire } from 'node:module';

/** The parts of prom-client this package builds metrics with. */
export interface PromClientParts {
  Registry: typeof import('prom-client').Registry;
  Gauge: typeof import('prom-client').Gauge;
}

let loaded: PromClientParts | undefined;

/**
 * prom-client's `Registry` and `Gauge`, loaded when `metrics()` first needs them rather than
 * when the config imports this package, and from their own files rather than prom-client's
 * index: the index also loads its default metrics, cluster and push-gateway code and, through
 * them, @opentelemetry/api (about 80 modules, 80 ms of CPU per start on a 2-core VM, against 5 for
 * these two). They are the very modules the index re-exports (prom-client is CommonJS, without an
 * `exports` map), so a plugin that imports `Counter` from 'prom-client' registers into the same
 * kind of registry.
 *
 * @example
 * ```ts
 * const registry = new (promClient().Registry)();
 * ```
 */
export function promClient(): PromClientParts {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    loaded = {
      Registry: require('prom-client/lib/registry') as PromClientParts['Registry'],
      Gauge: require('prom-client/lib/gauge') as PromClientParts['Gauge'],
    };
  }
  return loaded;
}
