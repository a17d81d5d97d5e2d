import type { Clock, TimerHandle } from '../contracts/clock.js';
import type { JsonValue } from '../contracts/json.js';
import type { Logger } from '../contracts/logger.js';
import type {
  RoleAcquiredReason,
  RoleCampaign,
  RoleLease,
  RoleLostReason,
  RoleStatus,
} from '../contracts/roles.js';
import type { StateStore } from '../contracts/state.js';
import type { EventBus } from '../kernel/events.js';
import { HeldLease, lostError } from './role-lease.js';
import {
  parseRoleRecord,
  ROLES_NAMESPACE,
  type RoleRecord,
  recordValue,
  recordVersion,
} from './role-record.js';

/** What a campaign needs; {@link StoreRoles} gives every campaign the same. */
export interface CampaignDeps {
  state: StateStore;
  clock: Clock;
  events: EventBus;
  logger: Logger;
  holderId: string;
  leaseMs: number;
  /** How often the holder renews (a third of the lease: two renewals may fail before it runs out). */
  renewEveryMs: number;
  /** How often a host standing by reads the record. */
  checkEveryMs: number;
  /** Whether the process behind a holder id is certainly gone (`ownerIsGone`). */
  isGone: (holder: string) => boolean;
}

interface Waiter {
  resolve: (lease: RoleLease) => void;
  reject: (reason: unknown) => void;
}

/**
 * One role's campaign on this host, over compare-and-set on one state record. Standing by, it
 * reads the record every `checkEveryMs` and takes the role when it is vacant or released, when
 * the holder's process is certainly gone (same machine, PID no longer running), or when the
 * record has not changed for a whole lease *by this host's clock*: expiry never compares two
 * hosts' clocks. Holding, it renews every `renewEveryMs`; its lease is valid until the time the
 * last successful renewal was sent plus the lease, less a tenth, so it always ends before any
 * standby can take over.
 */
export class StoreRoleCampaign implements RoleCampaign {
  readonly role: string;
  readonly #deps: CampaignDeps;
  readonly #onEnd: () => void;
  readonly #listeners = new Set<(lease: RoleLease | undefined) => void>();
  readonly #waiters = new Set<Waiter>();
  /** The record as last read or written. */
  #record: RoleRecord | undefined;
  #lease: HeldLease | undefined;
  /** The record version a standby saw, and when it first saw it (this host's clock). */
  #seen: { version: string; at: number } | undefined;
  #timer: TimerHandle | undefined;
  #expiry: TimerHandle | undefined;
  #running: Promise<void> = Promise.resolve();
  #resigning: Promise<void> | undefined;

  constructor(role: string, deps: CampaignDeps, onEnd: () => void) {
    this.role = role;
    this.#deps = deps;
    this.#onEnd = onEnd;
  }

  /** Looks at the record at once, so a host alone takes a vacant role without waiting. */
  start(): void {
    this.#running = this.#tick();
  }

  get held(): boolean {
    return this.#lease?.isValid() ?? false;
  }

  get lease(): RoleLease | undefined {
    return this.held ? this.#lease : undefined;
  }

  status(): RoleStatus {
    return {
      role: this.role,
      held: this.held,
      holder: this.#record?.holder ?? null,
      epoch: this.#record?.epoch ?? 0,
    };
  }

  acquired(signal?: AbortSignal): Promise<RoleLease> {
    const lease = this.lease;
    if (lease) return Promise.resolve(lease);
    if (this.#resigning) return Promise.reject(lostError(this.role));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.delete(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve: (l) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(l);
        },
        reject: (reason) => {
          signal?.removeEventListener('abort', onAbort);
          reject(reason);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  onChange(listener: (lease: RoleLease | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once no store call of this campaign is in flight (for tests on a manual clock). */
  async settled(): Promise<void> {
    let running: Promise<void>;
    do {
      running = this.#running;
      await running;
    } while (running !== this.#running);
  }

  resign(): Promise<void> {
    this.#resigning ??= this.#resign();
    return this.#resigning;
  }

  async #resign(): Promise<void> {
    this.#timer?.cancel();
    await this.#running;
    for (const waiter of this.#waiters) waiter.reject(lostError(this.role));
    this.#waiters.clear();
    if (this.#lease) this.#drop(this.#lease);
    // Released even when the lease ran out here: if the record still names this host, no other
    // host took the role, and the release lets one take it at once.
    const record = this.#record;
    if (record?.holder === this.#deps.holderId) await this.#release(record);
    this.#onEnd();
  }

  /** Hands the role over: the record says nobody holds it, so a standby takes it at its next check. */
  async #release(record: RoleRecord): Promise<void> {
    const { state, clock, events, logger, holderId } = this.#deps;
    const released: RoleRecord = {
      ...record,
      holder: null,
      renewals: record.renewals + 1,
      renewedAt: clock.now(),
    };
    try {
      if (await state.compareAndSet(ROLES_NAMESPACE, this.role, value(record), value(released))) {
        this.#record = released;
        events.emit('role.released', { role: this.role, holder: holderId, epoch: record.epoch });
        logger.info(
          { role: this.role, epoch: record.epoch },
          `handed over the role "${this.role}"`,
        );
      }
    } catch (err) {
      logger.warn(
        { err, role: this.role },
        `could not release the role "${this.role}"; another host takes it when the lease runs out`,
      );
    }
  }

  async #tick(): Promise<void> {
    let failed = false;
    try {
      if (this.#lease) await this.#renew(this.#lease);
      else await this.#tryAcquire();
    } catch (err) {
      failed = true;
      this.#deps.logger.warn(
        { err, role: this.role },
        this.#lease
          ? `could not renew the role "${this.role}"; retrying`
          : `could not read the role "${this.role}"; retrying`,
      );
    }
    if (this.#resigning) return;
    const { renewEveryMs, checkEveryMs } = this.#deps;
    this.#timer = this.#deps.clock.setTimeout(
      () => {
        this.#running = this.#tick();
      },
      // A failed renewal is retried at the pace of a standby's checks: the lease is running out.
      this.#lease && !failed ? renewEveryMs : checkEveryMs,
    );
  }

  async #renew(lease: HeldLease): Promise<void> {
    const { state, clock, leaseMs, holderId } = this.#deps;
    const record = this.#record!;
    const sentAt = clock.now();
    const next: RoleRecord = {
      ...record,
      renewals: record.renewals + 1,
      renewedAt: sentAt,
      leaseMs,
    };
    const ok = await state.compareAndSet(ROLES_NAMESPACE, this.role, value(record), value(next));
    if (this.#lease !== lease) return; // it ran out while the store answered
    if (ok) {
      this.#record = next;
      this.#extend(lease, sentAt);
      return;
    }
    const current = parseRoleRecord(await state.get(ROLES_NAMESPACE, this.role));
    if (this.#lease !== lease) return;
    this.#record = current;
    // An earlier renewal went through though its answer was lost: still ours.
    if (current?.holder === holderId && current.epoch === lease.epoch) return;
    this.#lose(lease, 'taken', current?.holder ?? undefined);
  }

  async #tryAcquire(): Promise<void> {
    const { state, clock, holderId, leaseMs } = this.#deps;
    const raw = await state.get(ROLES_NAMESPACE, this.role);
    if (this.#resigning) return;
    const current = parseRoleRecord(raw);
    this.#record = current;
    const reason = this.#takeable(current, clock.now());
    if (!reason) return;
    this.#seen = undefined;
    const sentAt = clock.now();
    const next: RoleRecord = {
      holder: holderId,
      epoch: (current?.epoch ?? 0) + 1,
      renewals: 0,
      leaseMs,
      acquiredAt: sentAt,
      renewedAt: sentAt,
    };
    // `raw`, not the parsed record: a value of another shape is replaced only if unchanged.
    if (!(await state.compareAndSet(ROLES_NAMESPACE, this.role, raw, value(next)))) return;
    this.#record = next;
    const lease = new HeldLease(this.role, holderId, next.epoch, 0, clock);
    this.#lease = lease;
    this.#extend(lease, sentAt);
    const previous = current?.holder ?? undefined;
    this.#deps.events.emit('role.acquired', {
      role: this.role,
      holder: holderId,
      epoch: next.epoch,
      reason,
      ...(previous !== undefined && { previous }),
    });
    this.#deps.logger.info(
      { role: this.role, epoch: next.epoch, reason, ...(previous && { previous }) },
      `took the role "${this.role}" (${reason})`,
    );
    for (const waiter of this.#waiters) waiter.resolve(lease);
    this.#waiters.clear();
    this.#notify(lease);
  }

  /** Why this host may take the role now, or undefined while another host may still hold it. */
  #takeable(current: RoleRecord | undefined, now: number): RoleAcquiredReason | undefined {
    if (!current) return 'vacant';
    if (current.holder === null) return 'released';
    // Our own holding that ran out (the store was slow) but no other host took: take it anew.
    if (current.holder === this.#deps.holderId) return 'expired';
    if (this.#deps.isGone(current.holder)) return 'holder-gone';
    const version = recordVersion(current);
    if (this.#seen?.version !== version) {
      this.#seen = { version, at: now };
      return undefined;
    }
    return now - this.#seen.at >= current.leaseMs ? 'expired' : undefined;
  }

  /** A renewal sent at `sentAt` went through: the lease holds until then plus 90 % of a lease. */
  #extend(lease: HeldLease, sentAt: number): void {
    const { clock, leaseMs } = this.#deps;
    lease.validUntil = sentAt + leaseMs - leaseMs / 10;
    this.#expiry?.cancel();
    this.#expiry = clock.setTimeout(
      () => {
        if (this.#lease === lease && clock.now() >= lease.validUntil) this.#lose(lease, 'expired');
      },
      Math.max(0, lease.validUntil - clock.now()),
    );
  }

  #lose(lease: HeldLease, reason: RoleLostReason, by?: string): void {
    this.#drop(lease);
    this.#deps.events.emit('role.lost', {
      role: this.role,
      holder: this.#deps.holderId,
      epoch: lease.epoch,
      reason,
      ...(by !== undefined && { by }),
    });
    this.#deps.logger.warn(
      { role: this.role, epoch: lease.epoch, reason, ...(by && { by }) },
      reason === 'taken'
        ? `lost the role "${this.role}": another host holds it`
        : `lost the role "${this.role}": its lease ran out before a renewal got through`,
    );
  }

  /** Ends `lease` here (its signal aborts) and tells the listeners. */
  #drop(lease: HeldLease): void {
    if (this.#lease !== lease) return;
    this.#lease = undefined;
    this.#expiry?.cancel();
    this.#seen = undefined;
    lease.end();
    this.#notify(undefined);
  }

  #notify(lease: RoleLease | undefined): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(lease);
      } catch (err) {
        this.#deps.logger.error({ err, role: this.role }, 'a role listener failed');
      }
    }
  }
}

function value(record: RoleRecord): JsonValue {
  return recordValue(record);
}
