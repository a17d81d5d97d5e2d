import { describe, expect, it } from 'vitest';
import { EventBus } from '../../kernel/events.js';
import { StoreRoles } from '../../roles/store-roles.js';
import { ManualClock } from '../../testing/manual-clock.js';
import { memoryLogger } from '../../testing/memory-logger.js';
import { openMemoryStore } from '../../testing/memory-store.js';
import { rolesLineFromHealth, rolesLineFromStore } from './status-roles.js';

describe('agentd status: roles', () => {
  it('reads who holds each role from the store, and leaves out released roles', async () => {
    const store = openMemoryStore();
    const clock = new ManualClock();
    const { logger } = memoryLogger();
    const roles = new StoreRoles({
      state: store.state,
      clock,
      events: new EventBus(logger),
      logger,
      holderId: 'host-a',
    });
    roles.begin();
    await roles.campaign('telegram:polling').acquired();
    const released = roles.campaign('monitor:alerts@abc');
    await released.acquired();
    await released.resign();
    expect(await rolesLineFromStore(store.state, clock.now() + 4_000)).toBe(
      'roles: telegram:polling held by host-a, renewed 4s ago (epoch 1)',
    );
    await roles.end();
    expect(await rolesLineFromStore(store.state, clock.now())).toBeUndefined();
  });

  it("takes a running host's line from its roles health check", () => {
    const check = { status: 'pass' as const, output: 'telegram:polling: held here (epoch 3)' };
    expect(rolesLineFromHealth({ status: 'pass', checks: { roles: check } })).toBe(
      'roles: telegram:polling: held here (epoch 3)',
    );
    expect(
      rolesLineFromHealth({
        status: 'pass',
        checks: { roles: { status: 'pass', output: 'no roles' } },
      }),
    ).toBeUndefined();
    expect(rolesLineFromHealth({ status: 'pass', checks: {} })).toBeUndefined();
  });
});
