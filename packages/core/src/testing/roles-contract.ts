import { afterEach, describe, expect, it } from 'vitest';
import type { AgentdEvents } from '../contracts/events.js';
import type { RoleLease } from '../contracts/roles.js';
import type { StateStore } from '../contracts/state.js';
import { EventBus } from '../kernel/events.js';
import { ROLES_NAMESPACE } from '../roles/role-record.js';
import { StoreRoles } from '../roles/store-roles.js';
import { ManualClock } from './manual-clock.js';
import { memoryLogger } from './memory-logger.js';
import type { ContractFactory, ContractSuiteOptions } from './store-contract/shared.js';
import { rejection } from './store-contract/shared.js';

const LEASE = 10_000;
/** A standby's check interval for a {@link LEASE} lease. */
const CHECK = LEASE / 10;

type RoleEvent = 'role.acquired' | 'role.lost' | 'role.released';

/** One host of a test: its roles, its own clock, and the role events it emitted. */
interface TestHost {
  id: string;
  roles: StoreRoles;
  clock: ManualClock;
  events: { name: RoleEvent; payload: AgentdEvents[RoleEvent] }[];
}

/**
 * Declares, as vitest tests, how roles held by one host at a time behave over a
 * {@link StateStore}: a lone host takes a vacant role at once; of several hosts exactly one holds
 * it while it renews; a holder that stops renewing (dead, frozen) loses it to a standby within a
 * lease and two checks, by the standby's own clock (hosts' clocks may be hours apart); a resigned
 * role is handed over within one check; a stale holder finds its lease invalid and its epoch
 * overtaken. Every host has its own {@link ManualClock}, so each runs in milliseconds. The
 * repository runs it over every store from `integration/store-contracts.test.ts`.
 *
 * @example
 * ```ts
 * import { describeRolesContract, openMemoryStore } from '@agentd/core/testing';
 *
 * describeRolesContract('memory', () => openMemoryStore().state);
 * ```
 */
export function describeRolesContract(
  name: string,
  createState: ContractFactory<StateStore>,
  options: ContractSuiteOptions<StateStore> = {},
): void {
  describe(`Roles contract: ${name}`, () => {
    /** The store the factory made (closed after the test), and the one hosts use (maybe wrapped). */
    let opened: StateStore | undefined;
    let state: StateStore | undefined;
    const open = async () => {
      opened ??= await createState();
      return opened;
    };
    const hosts: TestHost[] = [];

    afterEach(async () => {
      await Promise.all(hosts.splice(0).map((h) => h.roles.end()));
      if (opened) await options.close?.(opened);
      opened = undefined;
      state = undefined;
    });

    async function host(
      id: string,
      extra: { start?: number; isGone?: (holder: string) => boolean } = {},
    ): Promise<TestHost> {
      state ??= await open();
      const clock = new ManualClock(extra.start);
      const events = new EventBus(memoryLogger().logger);
      const h: TestHost = {
        id,
        clock,
        events: [],
        roles: new StoreRoles({
          state,
          clock,
          events,
          logger: memoryLogger().logger,
          holderId: id,
          leaseMs: LEASE,
          ...(extra.isGone && { isGone: extra.isGone }),
        }),
      };
      for (const event of ['role.acquired', 'role.lost', 'role.released'] as const) {
        events.on(event, (payload) => void h.events.push({ name: event, payload }));
      }
      h.roles.begin();
      hosts.push(h);
      return h;
    }

    /** Moves the given hosts' clocks on by `ms` in steps of one check, letting the store answer. */
    async function pass(ms: number, ...moving: TestHost[]): Promise<void> {
      for (let done = 0; done < ms; done += CHECK) {
        for (const h of moving) {
          await h.clock.advance(Math.min(CHECK, ms - done));
          await h.roles.settled();
        }
      }
    }

    const holders = (...all: TestHost[]) => all.filter((h) => h.roles.status()[0]?.held);

    it('lets a lone host take a vacant role at once, as epoch 1', async () => {
      const a = await host('host-a');
      const campaign = a.roles.campaign('telegram:polling');
      const lease = await campaign.acquired();
      expect(a.clock.pending).toBeGreaterThan(0); // no time passed: only timers are pending
      expect(lease).toMatchObject({ role: 'telegram:polling', holder: 'host-a', epoch: 1 });
      expect(lease.isValid()).toBe(true);
      expect(campaign.held).toBe(true);
      expect(a.events).toEqual([
        {
          name: 'role.acquired',
          payload: { role: 'telegram:polling', holder: 'host-a', epoch: 1, reason: 'vacant' },
        },
      ]);
      expect(await a.roles.holderOf('telegram:polling')).toMatchObject({
        holder: 'host-a',
        epoch: 1,
        leaseMs: LEASE,
      });
    });

    it('lets exactly one of three hosts campaigning at once hold the role, for many leases', async () => {
      const all = [await host('host-a'), await host('host-b'), await host('host-c')];
      const campaigns = all.map((h) => h.roles.campaign('monitor:alerts'));
      await Promise.all(all.map((h) => h.roles.settled()));
      expect(campaigns.filter((c) => c.held)).toHaveLength(1);
      const [holder] = holders(...all);
      expect(holders(...all)).toHaveLength(1);
      for (let i = 0; i < 5; i++) {
        await pass(LEASE, ...all);
        expect(holders(...all).map((h) => h.id)).toEqual([holder!.id]);
      }
      const standby = all.find((h) => h !== holder)!;
      expect(standby.roles.status()).toEqual([
        { role: 'monitor:alerts', held: false, holder: holder!.id, epoch: 1 },
      ]);
      expect(all.flatMap((h) => h.events.map((e) => e.name))).toEqual(['role.acquired']);
    });

    it('hands the role of a holder that stopped renewing to a standby within a lease and two checks, by the standby clock alone', async () => {
      // Hosts' clocks are five hours apart: expiry never compares them.
      const a = await host('host-a', { start: Date.UTC(2026, 0, 1, 12) });
      const b = await host('host-b', { start: Date.UTC(2026, 0, 1, 7) });
      const first = await a.roles.campaign('reports:daily').acquired();
      const standby = b.roles.campaign('reports:daily');
      await pass(3 * LEASE, a, b);
      expect(standby.held).toBe(false);

      // host-a freezes (its clock stops: no renewals); host-b's clock alone moves.
      let waited = 0;
      while (!standby.held && waited <= 2 * LEASE) {
        await pass(CHECK, b);
        waited += CHECK;
      }
      expect(standby.held).toBe(true);
      // host-a renewed last at most a third of a lease before it froze.
      expect(waited).toBeGreaterThanOrEqual(LEASE - LEASE / 3 - CHECK);
      expect(waited).toBeLessThanOrEqual(LEASE + 2 * CHECK);
      const second = standby.lease!;
      expect(second.epoch).toBe(first.epoch + 1);
      expect(b.events.at(-1)).toEqual({
        name: 'role.acquired',
        payload: {
          role: 'reports:daily',
          holder: 'host-b',
          epoch: 2,
          reason: 'expired',
          previous: 'host-a',
        },
      });

      // host-a wakes: by its own clock the lease ran out, so it stopped before host-b began.
      expect(first.validUntil).toBeLessThanOrEqual(Date.UTC(2026, 0, 1, 12) + 3 * LEASE + LEASE);
      await pass(LEASE, a, b);
      expect(first.isValid()).toBe(false);
      expect(first.signal.aborted).toBe(true);
      expect(() => first.assertValid()).toThrow(expect.objectContaining({ code: 'E_ROLE_LOST' }));
      expect(a.events.map((e) => e.name)).toEqual(['role.acquired', 'role.lost']);
      expect(holders(a, b).map((h) => h.id)).toEqual(['host-b']);
    });

    it('hands a resigned role over within one check, with role.released', async () => {
      const a = await host('host-a');
      const b = await host('host-b');
      const lease = await a.roles.campaign('telegram:polling').acquired();
      const standby = b.roles.campaign('telegram:polling');
      await pass(CHECK, a, b);
      await a.roles.end();
      expect(lease.signal.aborted).toBe(true);
      expect(a.events.at(-1)).toEqual({
        name: 'role.released',
        payload: { role: 'telegram:polling', holder: 'host-a', epoch: 1 },
      });
      await pass(CHECK, b);
      expect(standby.held).toBe(true);
      expect(b.events.at(-1)).toEqual({
        name: 'role.acquired',
        payload: { role: 'telegram:polling', holder: 'host-b', epoch: 2, reason: 'released' },
      });
    });

    it('takes the role of a holder whose process is gone at once', async () => {
      const a = await host('host-a');
      await a.roles.campaign('telegram:polling').acquired();
      const b = await host('host-b', { isGone: (holder) => holder === 'host-a' });
      const lease = await b.roles.campaign('telegram:polling').acquired();
      expect(lease.epoch).toBe(2);
      expect(b.events.at(-1)?.payload).toMatchObject({ reason: 'holder-gone' });
    });

    it('ends a lease the store cannot renew before a standby may take the role', async () => {
      const real = await open();
      let down = false;
      const flaky: StateStore = {
        get: (ns, key) => real.get(ns, key),
        set: (ns, key, value, o) => real.set(ns, key, value, o),
        delete: (ns, key) => real.delete(ns, key),
        list: (ns, prefix) => real.list(ns, prefix),
        compareAndSet: (ns, key, expected, next) =>
          down
            ? Promise.reject(new Error('store unreachable'))
            : real.compareAndSet(ns, key, expected, next),
      };
      state = flaky;
      const a = await host('host-a');
      const lease = await a.roles.campaign('jobs').acquired();
      const acquiredAt = a.clock.now();
      down = true;
      await pass(LEASE, a);
      expect(lease.isValid()).toBe(false);
      expect(lease.validUntil).toBeLessThan(acquiredAt + LEASE);
      expect(a.events.at(-1)).toMatchObject({ name: 'role.lost', payload: { reason: 'expired' } });
      // The store is back and nobody took the role: the host takes it anew, with a new epoch.
      down = false;
      await pass(2 * CHECK, a);
      expect(a.roles.status()[0]).toMatchObject({ held: true, epoch: 2 });
    });

    it('replaces a value of another shape under the role key', async () => {
      await (await open()).set(ROLES_NAMESPACE, 'odd', { not: 'a role record' });
      const a = await host('host-a');
      const lease = await a.roles.campaign('odd').acquired();
      expect(lease.epoch).toBe(1);
    });

    it('refuses bad role names and a second campaign for a role, with E_INVALID_ROLE', async () => {
      const a = await host('host-a');
      expect(() => a.roles.campaign('')).toThrow(
        expect.objectContaining({ code: 'E_INVALID_ROLE' }),
      );
      expect(() => a.roles.campaign(42 as unknown as string)).toThrow(
        expect.objectContaining({ code: 'E_INVALID_ROLE' }),
      );
      const campaign = a.roles.campaign('one');
      expect(() => a.roles.campaign('one')).toThrow(
        expect.objectContaining({ code: 'E_INVALID_ROLE' }),
      );
      await campaign.resign();
      expect(a.roles.campaign('one').role).toBe('one');
    });

    it('rejects acquired() on abort and on resign; notifies listeners', async () => {
      const a = await host('host-a');
      const b = await host('host-b');
      await a.roles.campaign('r').acquired();
      const standby = b.roles.campaign('r');
      const seen: (RoleLease | undefined)[] = [];
      standby.onChange((lease) => seen.push(lease));
      const controller = new AbortController();
      const waiting = standby.acquired(controller.signal);
      controller.abort(new Error('gave up'));
      expect((await rejection(waiting)).message).toBe('gave up');
      const resigned = standby.acquired();
      await standby.resign();
      expect((await rejection(resigned)).code).toBe('E_ROLE_LOST');
      expect((await rejection(standby.acquired())).code).toBe('E_ROLE_LOST');
      expect(seen).toEqual([]);

      const c = await host('host-c');
      const next = c.roles.campaign('r');
      next.onChange((lease) => seen.push(lease));
      await a.roles.end();
      await pass(CHECK, c);
      expect(seen.map((l) => l?.holder)).toEqual(['host-c']);
      await next.resign();
      expect(seen.map((l) => l?.holder)).toEqual(['host-c', undefined]);
    });
  });
}
