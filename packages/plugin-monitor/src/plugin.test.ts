import {
  type Alert,
  createHost,
  HealthRegistryToken,
  type Host,
  InboundRouterToken,
} from '@agentd/core';
import { ManualClock, memoryLogger, useTestHosts } from '@agentd/core/testing';
import { sqlite } from '@agentd/store-sqlite';
import { describe, expect, it } from 'vitest';
import { type MonitorOptions, monitorOptionsSchema } from './options.js';
import { monitor, SystemMonitorToken } from './plugin.js';

const { hosts, dbPath } = useTestHosts('agentd-monitor-');

/** Lets the sample started at start or by a timer (real systeminformation calls) finish. */
async function sampled(host: Host, after: number): Promise<void> {
  const system = host.resolve(SystemMonitorToken);
  for (let waited = 0; (system.latest()?.at ?? 0) < after; waited += 20) {
    if (waited > 15_000) throw new Error(`no sample taken at ${after} within 15 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startMonitor(options: MonitorOptions): Promise<{
  host: Host;
  clock: ManualClock;
  alerts: Alert[];
}> {
  const clock = new ManualClock(Date.parse('2026-11-26T12:00:00Z'));
  const host = createHost({
    name: 'box',
    clock,
    logger: memoryLogger().logger,
    plugins: [sqlite({ path: dbPath() }), monitor(options)],
  });
  hosts.push(host);
  const alerts: Alert[] = [];
  host.events.on('alert', (alert) => {
    if (alert.source === 'monitor') alerts.push(alert);
  });
  await host.start();
  await sampled(host, clock.now());
  return { host, clock, alerts };
}

describe('monitor plugin (real samples of this machine)', () => {
  it('alerts through the notifier when a value is over its threshold, and says so in /health', async () => {
    // Memory and disk use are always above 0 %: both alert at the first sample.
    const { host, alerts } = await startMonitor({
      thresholds: { cpu: 100, memory: 0, disk: 0 },
      cpuSamples: 100,
    });
    expect(alerts.map((a) => a.title)).toEqual([
      expect.stringMatching(/^Memory at \d+% \(threshold 0%\)$/),
      expect.stringMatching(/^Disk \/\S*\.agentd at \d+% \(threshold 0%\)$/),
    ]);
    expect(alerts[1]?.message).toMatch(/^\d+(\.\d)? [KMGT]?B free of \d+(\.\d)? [KMGT]?B$/);
    const report = await host.resolve(HealthRegistryToken).run();
    expect(report.checks.system?.status).toBe('warn');
    expect(report.checks.system?.output).toMatch(/^over threshold: memory, disk:\//);
  });

  it('repeats an alert only every repeatMinutes while the value stays high', async () => {
    const { host, clock, alerts } = await startMonitor({
      intervalSeconds: 60,
      repeatMinutes: 30,
      thresholds: { cpu: 100, memory: 0, disk: 100 },
      cpuSamples: 100,
    });
    expect(alerts).toHaveLength(1);
    for (let minute = 1; minute <= 29; minute++) {
      await clock.advance(60_000);
      await sampled(host, clock.now());
    }
    expect(alerts).toHaveLength(1);
    await clock.advance(60_000);
    await sampled(host, clock.now());
    expect(alerts).toHaveLength(2);
    // Same episode: the same key as the first.
    expect(alerts[1]?.dedupeKey).toBe(alerts[0]?.dedupeKey);
  });

  it('stays quiet and healthy below the thresholds', async () => {
    const { host, alerts } = await startMonitor({
      thresholds: { cpu: 100, memory: 100, disk: 100 },
      cpuSamples: 100,
    });
    expect(alerts).toEqual([]);
    const report = await host.resolve(HealthRegistryToken).run();
    expect(report.checks.system?.status).toBe('pass');
    expect(report.checks.system?.output).toMatch(/^cpu \d+(\.\d)?%, memory \d+(\.\d)?%, disk \//);
  });

  it('answers /system on every channel with the latest figures', async () => {
    const { host } = await startMonitor({});
    const receipt = await host.resolve(InboundRouterToken).dispatch({
      id: 'm1',
      from: { channel: 'test', id: 'me' },
      sender: { id: 'me' },
      text: '/system',
      receivedAt: Date.now(),
    });
    expect(receipt.outcome).toBe('handled');
    expect(receipt.reply).toMatch(
      /^box: CPU \d+(\.\d)?%\nMemory \d+(\.\d)?% used \(.+ available of .+\)\nDisk \//,
    );
  });

  it('rejects bad options with their paths', () => {
    const result = monitorOptionsSchema.safeParse({
      thresholds: { disk: 120 },
      intervalSeconds: 0,
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'intervalSeconds',
      'thresholds.disk',
    ]);
  });
});

describe('monitor plugin stopping', () => {
  it('stops cleanly with a sample in flight: nothing reads the store after the host stopped', async () => {
    // A sample still being taken when the host stops (a real one takes half a second): once it
    // comes back, the round must end there, not evaluate the rules against a closed store.
    let release: () => void = () => {};
    let sampling = 0;
    const { logger, lines } = memoryLogger();
    const host = createHost({
      name: 'box',
      logger,
      plugins: [
        sqlite({ path: dbPath() }),
        monitor({
          sampler: () => {
            sampling++;
            return new Promise((resolve) => {
              release = () =>
                resolve({
                  cpuPercent: 5,
                  memory: { usedPercent: 10, totalBytes: 1e9, availableBytes: 9e8 },
                  disks: [],
                });
            });
          },
        }),
      ],
    });
    hosts.push(host);
    await host.start();
    await expect.poll(() => sampling).toBe(1);
    const stopped = await host.stop('test');
    expect(stopped.ok).toBe(true);
    release();
    await new Promise((r) => setTimeout(r, 100));
    const stopLine = lines().findIndex((l) => l.msg === 'host "box" stopped');
    expect(stopLine).toBeGreaterThan(0);
    expect(
      lines()
        .slice(stopLine)
        .filter((l) => l.level >= 40),
    ).toEqual([]);
    expect(sampling).toBe(1);
  });
});
