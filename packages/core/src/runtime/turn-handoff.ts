import type { SessionTurn } from '../contracts/session.js';

/**
 * Where a session run's end can go instead of its own write: to the runner, which records it
 * in the same transaction as its task's completion (`TaskStore.completeTurnAndClaim`). The
 * session manager offers the turn when its run's work succeeded; `offer` answers:
 *
 * - `undefined`: not taken (the runner has moved on, or takes none); the manager writes it.
 * - a promise of `true`: written with the completion (or with the runner's own fallback); the
 *   manager keeps the session's lock until then, so the session's next run reads it.
 * - a promise of `false`: handed back unwritten; the manager writes it itself.
 * - a rejected promise: the write failed (with the completion, which the runner handles).
 *
 * @example
 * ```ts
 * const written = handOff?.offer({ sessionId, entries, lastActivityAt: Date.now() });
 * if (!written || !(await written)) await recordTurnIn(store, sessionId, entries, Date.now());
 * ```
 */
export interface TurnHandoff {
  offer(turn: SessionTurn): Promise<boolean> | undefined;
}

/**
 * The key under which the runner puts its {@link TurnHandoff} on the context it gives an
 * executor. A symbol: an agent given the context never sees it.
 */
export const TURN_HANDOFF: unique symbol = Symbol('agentd.turnHandoff');

/**
 * The runner's side of one task's {@link TurnHandoff}: takes at most one turn, until the runner
 * closes it ({@link TurnSlot.take}), and settles the offer once ({@link TurnSlot.settle}).
 *
 * @example
 * ```ts
 * const slot = new TurnSlot();
 * // ... the executor ran; the session manager may have offered its turn:
 * const turn = slot.take();
 * try { await write(turn); slot.settle(true); } catch (err) { slot.settle(err); }
 * ```
 */
export class TurnSlot implements TurnHandoff {
  #turn: SessionTurn | undefined;
  #open = true;
  #resolve: ((written: boolean) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;

  offer(turn: SessionTurn): Promise<boolean> | undefined {
    if (!this.#open || this.#turn !== undefined) return undefined;
    this.#turn = turn;
    return new Promise<boolean>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Takes no more offers; returns the turn offered before, if any. */
  take(): SessionTurn | undefined {
    this.#open = false;
    return this.#turn;
  }

  /**
   * Answers the offer (if one was made and not yet answered): `true` written, `false` handed
   * back, an error the write's failure. Closes the slot too.
   */
  settle(outcome: boolean | { error: unknown }): void {
    this.#open = false;
    const resolve = this.#resolve;
    const reject = this.#reject;
    this.#resolve = undefined;
    this.#reject = undefined;
    if (typeof outcome === 'boolean') resolve?.(outcome);
    else reject?.(outcome.error);
  }
}
