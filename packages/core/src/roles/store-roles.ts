import type { Clock } from '../contracts/clock.js';
import type { Logger } from '../contracts/logger.js';
import type { RoleCampaign, RoleHolder, RoleStatus, Roles } from '../contracts/roles.js';
import type { StateStore } from '../contracts/state.js';
import { AgentdError } from '../kernel/errors.js';
import type { EventBus } from '../kernel/events.js';
import { ownerIsGone } from '../kernel/owner.js';
import { StoreRoleCampaign } from './role-campaign.js';
import { holderOf, parseRoleRecord, ROLES_NAMESPACE } from './role-record.js';

/** The default lease: a dead holder's role is taken over within about 15 seconds. */
export const DEFAULT_LEASE_MS = 15_000;

/**
 * What {@link StoreRoles} is built from.
 *
 * @example
 * ```ts
 * const deps: StoreRolesDeps = { state: store.state, clock, events, logger, holderId: 'host-a' };
 * ```
 */
export interface StoreRolesDeps {
  state: StateStore;
  clock: Clock;
  events: EventBus;
  logger: Logger;
  /** This host's id in role records: its `HostInfo.instanceId`, unique per process start. */
  holderId: string;
  /** The lease length (default {@link DEFAULT_LEASE_MS}). */
  leaseMs?: number;
  /**
   * Whether the process behind a holder id is certainly gone, so its roles are taken at once
   * rather than after a lease (default `ownerIsGone`: same machine, PID no longer running).
   */
  isGone?: (holder: string) => boolean;
}

/**
 * {@link Roles} over any {@link StateStore}: one record per role in the `agentd.roles` namespace,
 * changed only by `compareAndSet`, so exactly one host's write wins each change of hands on
 * every store (see docs/roles.md for why no store needs a method of its own). Campaigns begin
 * when {@link StoreRoles.begin} is called (the roles plugin's start: the store is open by then).
 *
 * @example
 * ```ts
 * const roles = new StoreRoles({ state: store.state, clock, events, logger, holderId: 'host-a', leaseMs: 10_000 });
 * roles.begin();
 * const lease = await roles.campaign('reports:daily').acquired();
 * ```
 */
export class StoreRoles implements Roles {
  readonly holderId: string;
  readonly leaseMs: number;
  readonly #deps: StoreRolesDeps;
  readonly #campaigns = new Map<string, StoreRoleCampaign>();
  #begun = false;

  constructor(deps: StoreRolesDeps) {
    this.#deps = deps;
    this.holderId = deps.holderId;
    this.leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  }

  campaign(role: string): RoleCampaign {
    if (typeof role !== 'string' || role.trim() === '') {
      throw new AgentdError('E_INVALID_ROLE', 'a role name must be a non-empty string');
    }
    if (this.#campaigns.has(role)) {
      throw new AgentdError(
        'E_INVALID_ROLE',
        `this host already campaigns for the role "${role}": keep that campaign, or resign it first`,
      );
    }
    const { state, clock, events, logger, holderId } = this.#deps;
    const campaign = new StoreRoleCampaign(
      role,
      {
        state,
        clock,
        events,
        logger,
        holderId,
        leaseMs: this.leaseMs,
        renewEveryMs: this.leaseMs / 3,
        // A released role is taken within a tenth of a lease; a dead holder's within a lease and two tenths.
        checkEveryMs: Math.max(50, this.leaseMs / 10),
        isGone: this.#deps.isGone ?? ownerIsGone,
      },
      () => {
        if (this.#campaigns.get(role) === campaign) this.#campaigns.delete(role);
      },
    );
    this.#campaigns.set(role, campaign);
    if (this.#begun) campaign.start();
    return campaign;
  }

  async holderOf(role: string): Promise<RoleHolder | undefined> {
    return holderOf(parseRoleRecord(await this.#deps.state.get(ROLES_NAMESPACE, role)));
  }

  status(): RoleStatus[] {
    return [...this.#campaigns.values()].map((c) => c.status());
  }

  /** Starts the campaigns made so far, and every later one at once. */
  begin(): void {
    if (this.#begun) return;
    this.#begun = true;
    for (const campaign of this.#campaigns.values()) campaign.start();
  }

  /**
   * Resolves once no campaign has a store call in flight: tests on a manual clock call it after
   * each `advance`, since a store answers in real time.
   */
  async settled(): Promise<void> {
    await Promise.all([...this.#campaigns.values()].map((c) => c.settled()));
  }

  /** Resigns every campaign still running, releasing the roles this host holds. */
  async end(): Promise<void> {
    await Promise.all([...this.#campaigns.values()].map((c) => c.resign()));
  }
}
