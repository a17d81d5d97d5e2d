import type { Metric, MetricObject, OpenMetricsContentType, Registry } from 'prom-client';
import { promClient } from './prom-client.js';

/** One sample of a metric read at scrape time: label values and the value. */
export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

/**
 * A metric whose samples are read at scrape time and may be absent. prom-client's own `Gauge`
 * always reports a label-less gauge (0 when never set), which would show a CPU of 0 before the
 * first sample, or a queue depth of 0 when the store could not be read.
 *
 * @example
 * ```ts
 * registry.registerMetric(readOnScrape('agentd_up', 'Always 1.', () => [{ value: 1 }]));
 * ```
 */
export function readOnScrape(
  name: string,
  help: string,
  read: () => Sample[] | Promise<Sample[]>,
  type: 'gauge' | 'counter' = 'gauge',
): Metric {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    collect: undefined,
    async get() {
      const values = (await read()).map((v) => ({ labels: v.labels ?? {}, value: v.value }));
      return { name, help, type, aggregator: 'sum', values };
    },
  };
  return metric as unknown as Metric;
}

/**
 * Renders the registry. OpenMetrics goes through a view registry of proxies, because
 * prom-client renames counters in place when a registry renders OpenMetrics, which would
 * strip `_total` from every later Prometheus-text scrape.
 *
 * @example
 * ```ts
 * const { contentType, body } = await render(registry, request.header('accept'));
 * ```
 */
export async function render(
  registry: Registry,
  accept: string | undefined,
): Promise<{ contentType: string; body: string }> {
  if (!accept?.includes('application/openmetrics-text')) {
    return { contentType: registry.contentType, body: await registry.metrics() };
  }
  const { Registry: PromRegistry } = promClient();
  const view = new PromRegistry<OpenMetricsContentType>();
  view.setContentType(PromRegistry.OPENMETRICS_CONTENT_TYPE);
  for (const metric of registry.getMetricsAsArray()) {
    // OpenMetrics names a counter family without `_total`; its samples get it back.
    // (prom-client's types call `type` an enum; at run time it is the string.)
    const type = metric.type as unknown as string;
    const name = type === 'counter' ? metric.name.replace(/_total$/, '') : metric.name;
    const source = metric as MetricObject & {
      get(): Promise<object>;
      getForPromString?(): Promise<object>;
    };
    const read = source.getForPromString
      ? () => (source.getForPromString as () => Promise<object>).call(source)
      : () => source.get();
    view.registerMetric({
      name,
      type,
      get: async () => ({ ...(await read()), name }),
    } as unknown as Metric);
  }
  return { contentType: view.contentType, body: await view.metrics() };
}
