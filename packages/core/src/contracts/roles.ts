import { createToken } from '../kernel/token.js';

/**
 * A role held by this host: proof, by this host's own clock, that no other host holds it.
 * Work done for the role checks {@link RoleLease.isValid} before each step (or listens to
 * `signal`), and may carry `epoch` to whatever it writes so a stale holder's writes can be told
 * apart (a fencing token).
 *
 * @example
 * ```ts
 * const lease = await roles.campaign('reports:daily').acquired(ctx.signal);
 * while (lease.isValid()) await sendOneReport(lease.epoch);
 * ```
 */
export interface RoleLease {
  readonly role: string;
  /** This host's instance id, as written in the store. */
  readonly holder: string;
  /**
   * The fencing token: it grows by one every time the role changes hands (and never goes back),
   * so the higher epoch is always the newer holder.
   */
  readonly epoch: number;
  /** Aborted when this host loses or releases the role: stop the role's work at once. */
  readonly signal: AbortSignal;
  /**
   * Until when the lease holds, by this host's clock (epoch ms): another host can take the role
   * only after this. Renewals move it on.
   */
  readonly validUntil: number;
  /** Whether the lease still holds now (not lost, not released, `validUntil` not passed). */
  isValid(): boolean;
  /** Throws `E_ROLE_LOST` unless {@link isValid}: a guard before work only the holder may do. */
  assertValid(): void;
}

/**
 * This host's campaign for one role: it takes the role when it is free (at once when no host
 * holds it, within one lease when the holder died), keeps it by renewing the lease, and releases
 * it on {@link RoleCampaign.resign} so another host takes over at its next check.
 *
 * @example
 * ```ts
 * const alerts = roles.campaign('monitor:alerts');
 * if (alerts.held) raise(alert);
 * ```
 */
export interface RoleCampaign {
  readonly role: string;
  /** Whether this host holds the role now (its lease is valid). */
  readonly held: boolean;
  /** The current lease while {@link held}; undefined otherwise. */
  readonly lease: RoleLease | undefined;
  /**
   * Resolves with the lease once this host holds the role (at once when it does). Rejects with
   * `signal.reason` when `signal` aborts, and with `E_ROLE_LOST` when the campaign is resigned.
   */
  acquired(signal?: AbortSignal): Promise<RoleLease>;
  /** Calls `listener` with the new lease when this host takes the role, `undefined` when it loses or releases it. */
  onChange(listener: (lease: RoleLease | undefined) => void): () => void;
  /** Ends the campaign; a held role is released (handed over) first. Idempotent. */
  resign(): Promise<void>;
}

/** What this host knows about one role it campaigns for (for `/health` and status). */
export interface RoleStatus {
  role: string;
  /** Whether this host holds it. */
  held: boolean;
  /** The holder's instance id as last read from the store, or null when nobody holds it. */
  holder: string | null;
  /** The role's epoch as last read (0 before any host held it). */
  epoch: number;
}

/** Who holds a role, as the store says. */
export interface RoleHolder {
  holder: string;
  epoch: number;
  /** When the holder took the role (epoch ms, by its clock). */
  acquiredAt: number;
  /** When the holder last renewed (epoch ms, by its clock). */
  renewedAt: number;
  /** The holder's lease length. */
  leaseMs: number;
}

/**
 * Roles held by one host at a time across every host sharing a store: Telegram long polling,
 * the system monitor's alerts, a daily report. Backed by the store's `compareAndSet`, so it works
 * on every store (several processes on one SQLite file, PostgreSQL, a store of your own).
 * Provided by the built-in `roles()` plugin whenever the host has a store; see docs/roles.md.
 *
 * @example
 * ```ts
 * import { RolesToken } from '@agentd/core/roles';
 *
 * const roles = ctx.tryResolve(RolesToken);
 * const campaign = roles?.campaign('reports:daily');
 * ```
 */
export interface Roles {
  /** This host's id as a holder (its `HostInfo.instanceId`). */
  readonly holderId: string;
  /** The lease length in ms: a dead holder's role is taken over within about this long. */
  readonly leaseMs: number;
  /**
   * Starts campaigning for `role` (a non-empty string such as `telegram:polling`). One campaign
   * per role per host: a second one for the same role throws `E_INVALID_ROLE`.
   */
  campaign(role: string): RoleCampaign;
  /** Reads the store: who holds `role` now, or undefined when nobody does. */
  holderOf(role: string): Promise<RoleHolder | undefined>;
  /** The roles this host campaigns for, as last seen. Cheap: no store read. */
  status(): RoleStatus[];
}

export const RolesToken = createToken<Roles>('agentd.roles');

/** Why a host took a role: nobody held it, the holder released it, its process is gone, its lease ran out. */
export type RoleAcquiredReason = 'vacant' | 'released' | 'holder-gone' | 'expired';

/** Why a host lost a role without releasing it. */
export type RoleLostReason = 'taken' | 'expired';
