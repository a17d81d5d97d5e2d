import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { processMetrics } from './process-metrics.js';

const samples = async (registry: Registry, name: string) =>
  ((await registry.getSingleMetric(name)?.get()) as { values: { value: number }[] } | undefined)
    ?.values ?? [];

describe('processMetrics', () => {
  it('measures the event loop and GC only between start and stop, so hosts leave nothing running', async () => {
    const registry = new Registry();
    const process = processMetrics(registry, 'test_');
    expect(await samples(registry, 'test_nodejs_eventloop_lag_p99_seconds')).toEqual([]);
    process.start();
    // Keep the loop busy for a moment so the monitor records delays.
    const until = Date.now() + 60;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 1));
    }
    const [lag] = await samples(registry, 'test_nodejs_eventloop_lag_p99_seconds');
    expect(lag?.value).toBeGreaterThanOrEqual(0);
    expect(
      (await samples(registry, 'test_process_resident_memory_bytes'))[0]?.value,
    ).toBeGreaterThan(0);
    process.stop();
    process.stop(); // idempotent
    expect(await samples(registry, 'test_nodejs_eventloop_lag_p99_seconds')).toEqual([]);
    // CPU and memory are read on demand and stay available.
    expect((await samples(registry, 'test_process_cpu_seconds_total'))[0]?.value).toBeGreaterThan(
      0,
    );
  });
});
