import {
  type Alert,
  createHost,
  HealthRegistryToken,
  type Host,
  HostInfoToken,
} from '@agentd/core';
import { RolesToken } from '@agentd/core/roles';
import { ManualClock, memoryLogger, useTestHosts } from '@agentd/core/testing';
import { sqlite } from '@agentd/store-sqlite';
import { describe, expect, it } from 'vitest';
import { monitor, SystemMonitorToken } from './plugin.js';

const { hosts, dbPath } = useTestHosts('agentd-monitor-roles-');
const T0 = Date.parse('2026-11-26T12:00:00Z');

/** Lets the sample started at start or by a timer (real systeminformation calls) finish. */
async function sampled(host: Host, after: number): Promise<void> {
  const system = host.resolve(SystemMonitorToken);
  for (let waited = 0; (system.latest()?.at ?? 0) < after; waited += 20) {
    if (waited > 15_000) throw new Error(`no sample taken at ${after} within 15 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function overThreshold(host: Host): Promise<boolean> {
  const report = await host.resolve(HealthRegistryToken).run();
  return report.checks.system?.status === 'warn';
}

/** A host on this test's SQLite file whose monitor alerts on memory use (always above 0 %). */
async function startHost(
  name: string,
): Promise<{ host: Host; clock: ManualClock; alerts: Alert[] }> {
  const clock = new ManualClock(T0);
  const host = createHost({
    name,
    clock,
    logger: memoryLogger().logger,
    plugins: [
      sqlite({ path: dbPath() }),
      monitor({
        intervalSeconds: 60,
        repeatMinutes: 5,
        thresholds: { cpu: 100, memory: 0, disk: 100 },
        cpuSamples: 100,
      }),
    ],
  });
  hosts.push(host);
  const alerts: Alert[] = [];
  host.events.on('alert', (alert) => {
    if (alert.source === 'monitor') alerts.push(alert);
  });
  await host.start();
  await sampled(host, clock.now());
  // The sample is evaluated too (a standby waits to learn it is one): /health says memory is over.
  for (let waited = 0; !(await overThreshold(host)); waited += 20) {
    if (waited > 15_000) throw new Error(`${name}: the first sample was not evaluated`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { host, clock, alerts };
}

describe('monitor alerts as a role', () => {
  it('raises the machine alerts from one host of those sharing a store; another takes over at a stop', async () => {
    const a = await startHost('box-a');
    const b = await startHost('box-b');
    // Both sample and see memory over its threshold; only the holder of the role raises it.
    expect(a.alerts).toHaveLength(1);
    expect(b.alerts).toEqual([]);
    const [status] = b.host.resolve(RolesToken).status();
    expect(status).toMatchObject({
      role: expect.stringMatching(/^monitor:alerts@[0-9a-f]{12}$/),
      held: false,
    });
    expect(status?.holder).toBe(a.host.resolve(HostInfoToken).instanceId);

    // box-a stops and hands the role over; box-b takes it at its next check (a tenth of a lease).
    await a.host.stop();
    for (let waited = 0; !b.host.resolve(RolesToken).status()[0]?.held; waited += 500) {
      if (waited > 10_000) throw new Error('box-b did not take the alert role');
      await b.clock.advance(500);
      await new Promise((r) => setTimeout(r, 10));
    }
    // box-b alerted nothing so far; it repeats the alert when box-a would have (every 5 minutes).
    expect(b.alerts).toEqual([]);
    for (let minute = 1; minute <= 5; minute++) {
      await b.clock.advanceTo(T0 + minute * 60_000);
      await sampled(b.host, T0 + minute * 60_000);
    }
    expect(b.alerts).toHaveLength(1);
    expect(b.alerts[0]?.dedupeKey).toBe(a.alerts[0]?.dedupeKey);
  });
});
