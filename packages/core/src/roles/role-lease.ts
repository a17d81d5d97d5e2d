import type { Clock } from '../contracts/clock.js';
import type { RoleLease } from '../contracts/roles.js';
import { AgentdError } from '../kernel/errors.js';

/**
 * A lease this host holds: valid until `validUntil` by this host's clock, unless ended first
 * (lost or released), which aborts `signal`.
 */
export class HeldLease implements RoleLease {
  readonly role: string;
  readonly holder: string;
  readonly epoch: number;
  validUntil: number;
  readonly #clock: Clock;
  readonly #controller = new AbortController();

  constructor(role: string, holder: string, epoch: number, validUntil: number, clock: Clock) {
    this.role = role;
    this.holder = holder;
    this.epoch = epoch;
    this.validUntil = validUntil;
    this.#clock = clock;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  isValid(): boolean {
    return !this.#controller.signal.aborted && this.#clock.now() < this.validUntil;
  }

  assertValid(): void {
    if (!this.isValid()) throw lostError(this.role);
  }

  /** Ends the lease: `signal` aborts with `E_ROLE_LOST`. */
  end(): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(lostError(this.role));
  }
}

/** The `E_ROLE_LOST` error for `role`. */
export function lostError(role: string): AgentdError {
  return new AgentdError('E_ROLE_LOST', `this host does not hold the role "${role}" (any more)`);
}
