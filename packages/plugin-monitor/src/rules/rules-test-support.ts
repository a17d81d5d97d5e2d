// Test support for the alert rules: a real host (memory store, runner, failover) with a manual
// clock, a monitor whose system readings the test sets, and the alerts it raised.
import {
  type Alert,
  ChannelRegistryToken,
  createHost,
  HealthRegistryToken,
  type Host,
  type HostConfig,
  type Plugin,
} from '@agentd/core';
import { ManualClock, type MemoryStore, memoryLogger, memoryStore } from '@agentd/core/testing';
import type { MonitorOptions } from '../options.js';
import { monitor } from '../plugin.js';

/** What the sampler reports: the test moves these. */
export interface Machine {
  cpu: number;
  memory: number;
  disk: number;
}

export const START = Date.parse('2026-11-26T12:00:00Z');

/**
 * A channel with a health check (named after it) whose status the test sets, as a polling
 * channel's check turns `warn` when its polls fail.
 */
export function flakyChannel(name: string): Plugin & { failing: boolean } {
  const plugin = {
    name: `${name}-channel`,
    failing: false,
    register(ctx: Parameters<NonNullable<Plugin['register']>>[0]) {
      ctx.resolve(ChannelRegistryToken).add({ name, send: async () => ({ ids: [] }) });
      ctx.resolve(HealthRegistryToken).add({
        name,
        check: () =>
          plugin.failing
            ? { status: 'warn', output: '5 failed poll(s) in a row: ECONNRESET' }
            : { status: 'pass' },
      });
    },
  };
  return plugin;
}

export interface RulesHost {
  host: Host;
  clock: ManualClock;
  machine: Machine;
  /** The monitor's alerts, as delivered by the notifier (after its de-duplication). */
  alerts: Alert[];
  /** Titles of the alerts raised since the last call. */
  fresh(): string[];
  /** Lets `minutes` pass one evaluation (a minute) at a time. */
  minutes(minutes: number): Promise<void>;
}

/**
 * Starts a host with `monitor(options)` evaluating every minute, on the shared memory store
 * `store` (so a later host sees what an earlier one stored), at `clock`'s time.
 */
export async function startRulesHost(
  hosts: Host[],
  store: MemoryStore,
  options: MonitorOptions = {},
  config: Partial<HostConfig> = {},
  clock = new ManualClock(START),
  initial: Partial<Machine> = {},
): Promise<RulesHost> {
  const machine: Machine = { cpu: 10, memory: 30, disk: 40, ...initial };
  const host = createHost({
    name: 'box',
    clock,
    logger: memoryLogger().logger,
    ...config,
    plugins: [
      memoryStore({ store }),
      monitor({
        intervalSeconds: 60,
        command: false,
        sampler: async (paths) => ({
          cpuPercent: machine.cpu,
          memory: {
            usedPercent: machine.memory,
            totalBytes: 16e9,
            availableBytes: 16e9 * (1 - machine.memory / 100),
          },
          disks: paths.map((path) => ({
            path,
            usedPercent: machine.disk,
            sizeBytes: 500e9,
            availableBytes: 500e9 * (1 - machine.disk / 100),
          })),
        }),
        disks: ['/data'],
        ...options,
      }),
      ...(config.plugins ?? []),
    ],
  });
  hosts.push(host);
  const alerts: Alert[] = [];
  host.events.on('alert', (alert) => {
    if (alert.source === 'monitor') alerts.push(alert);
  });
  await host.start();
  await settle();
  let seen = 0;
  return {
    host,
    clock,
    machine,
    alerts,
    fresh: () => {
      const titles = alerts.slice(seen).map((a) => a.title);
      seen = alerts.length;
      return titles;
    },
    minutes: async (n) => {
      for (let i = 0; i < n; i++) {
        await clock.advance(60_000);
        await settle();
      }
    },
  };
}

/** Lets an evaluation started by a timer (store reads, health checks) finish. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 2));
}
