import type { HealthRegistry, HealthReport, HostInfo, IntakeGate } from '@agentd/core';
import { describe, expect, it } from 'vitest';
import { createProbes } from './probes.js';
import type { AgentdHttpServer } from './server.js';

/** A registry whose one check counts its runs and reports the count. */
function countingRegistry(): HealthRegistry & { runs: number } {
  const registry = {
    runs: 0,
    add: () => () => {},
    async run(): Promise<HealthReport> {
      registry.runs++;
      return {
        status: 'pass',
        checks: { counter: { status: 'pass', observedValue: registry.runs } },
      };
    },
  };
  return registry;
}

function probesWith(cacheMs: number) {
  const health = countingRegistry();
  let now = Date.parse('2026-11-26T12:00:00Z');
  const probes = createProbes({
    gate: { state: 'open' } as IntakeGate,
    server: { draining: false } as AgentdHttpServer,
    health,
    info: { instanceId: 'host-1', name: 'test' } as HostInfo,
    cacheMs,
    now: () => now,
  });
  const body = async () => {
    const response = await probes.health();
    return JSON.parse(String(response.body)) as {
      checks: { counter: { observedValue: number; time: string }[] };
    };
  };
  return { health, probes, body, advance: (ms: number) => (now += ms) };
}

describe('/health answer cache', () => {
  it('reuses an answer younger than cacheMs, with the time its checks ran', async () => {
    const { health, body, advance } = probesWith(1000);
    const first = await body();
    advance(999);
    const second = await body();
    expect(health.runs).toBe(1);
    expect(second).toEqual(first);
    expect(second.checks.counter[0]!.time).toBe('2026-11-26T12:00:00.000Z');
  });

  it('runs the checks again once the answer is cacheMs old', async () => {
    const { health, body, advance } = probesWith(1000);
    await body();
    advance(1000);
    const fresh = await body();
    expect(health.runs).toBe(2);
    expect(fresh.checks.counter[0]).toEqual({
      status: 'pass',
      observedValue: 2,
      time: '2026-11-26T12:00:01.000Z',
    });
  });

  it('runs the checks for every request when cacheMs is 0', async () => {
    const { health, body } = probesWith(0);
    await body();
    await body();
    await body();
    expect(health.runs).toBe(3);
  });

  it('never caches the fresh report the HTTP API asks for', async () => {
    const { health, probes, body } = probesWith(60_000);
    await body();
    await probes.report();
    expect(health.runs).toBe(2);
  });
});
