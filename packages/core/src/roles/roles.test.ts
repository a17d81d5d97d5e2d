import { describe, expect, it } from 'vitest';
import type { AgentdEvents } from '../contracts/events.js';
import { HealthRegistryToken } from '../contracts/health.js';
import { type RoleCampaign, RolesToken } from '../contracts/roles.js';
import { HostInfoToken } from '../kernel/host-info.js';
import type { Plugin } from '../kernel/plugin.js';
import { createHost } from '../preset/host.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { memoryStore, openMemoryStore } from '../testing/memory-store.js';
import { describeRolesContract } from '../testing/roles-contract.js';
import { useTestHosts } from '../testing/test-hosts.js';

// The contract over the memory store here; integration/store-contracts.test.ts runs it over every store.
describeRolesContract('memory', () => openMemoryStore().state);

const { hosts, store } = useTestHosts('agentd-roles-');

/** A plugin campaigning for `role` at start, as the Telegram plugin does. */
function singleton(role: string, campaigns: RoleCampaign[]): Plugin {
  return {
    name: 'singleton',
    after: [RolesToken],
    start(ctx) {
      campaigns.push(ctx.resolve(RolesToken).campaign(role));
    },
  };
}

function startHost(name: string, campaigns: RoleCampaign[], roles?: { leaseSeconds: number }) {
  const host = createHost({
    name,
    logger: memoryLogger().logger,
    sessions: false,
    ...(roles && { roles }),
    plugins: [memoryStore({ store: store() }), singleton('reports:daily', campaigns)],
  });
  hosts.push(host);
  return host;
}

describe('the roles plugin in a host', () => {
  it('is provided with a store; a host alone holds its role once started, says so in /health, and hands it over at stop', async () => {
    const campaigns: RoleCampaign[] = [];
    const a = startHost('host-a', campaigns, { leaseSeconds: 1 });
    const events: { name: string; payload: AgentdEvents['role.acquired'] }[] = [];
    a.events.on('role.acquired', (payload) => void events.push({ name: 'acquired', payload }));
    await a.start();
    const lease = await campaigns[0]!.acquired();
    expect(lease.holder).toBe(a.resolve(HostInfoToken).instanceId);
    expect(a.resolve(RolesToken).leaseMs).toBe(1000);
    expect(events).toEqual([
      {
        name: 'acquired',
        payload: { role: 'reports:daily', holder: lease.holder, epoch: 1, reason: 'vacant' },
      },
    ]);
    const report = await a.resolve(HealthRegistryToken).run();
    expect(report.checks.roles).toEqual({
      status: 'pass',
      output: 'reports:daily: held here (epoch 1)',
    });

    const standby: RoleCampaign[] = [];
    const b = startHost('host-b', standby, { leaseSeconds: 1 });
    await b.start();
    expect(standby[0]!.held).toBe(false);
    const health = await b.resolve(HealthRegistryToken).run();
    expect(health.checks.roles?.output).toBe(`reports:daily: standing by, held by ${lease.holder}`);

    const released = a.events.next('role.released');
    await a.stop('test');
    expect(await released).toEqual({ role: 'reports:daily', holder: lease.holder, epoch: 1 });
    expect(lease.signal.aborted).toBe(true);
    const taken = await standby[0]!.acquired(AbortSignal.timeout(2_000));
    expect(taken.epoch).toBe(2);
  });

  it('is left out with roles: false', async () => {
    const host = createHost({
      logger: memoryLogger().logger,
      roles: false,
      plugins: [memoryStore({ store: store() })],
    });
    hosts.push(host);
    await host.start();
    expect(host.plugins).not.toContain('roles');
    expect(host.tryResolve(RolesToken)).toBeUndefined();
  });
});
