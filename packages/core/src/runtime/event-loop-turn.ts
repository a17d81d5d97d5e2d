/**
 * How long a chain of promise jobs has held the event loop since it last let the loop turn. A
 * runner whose tasks finish at once (a no-op agent, a synchronous store) hands each freed slot to
 * the next task in a promise job, and promise jobs run before any timer or I/O: left alone, it
 * would run a whole queue in one turn, with every timer, HTTP request and heartbeat of the host
 * waiting behind it. Asking {@link overdue} before each hand-over, and awaiting {@link nextTurn}
 * when it says so, bounds that wait.
 *
 * Written by hand: it is a dozen lines around `setImmediate`, which no library wraps this way.
 *
 * @example
 * ```ts
 * const turn = new EventLoopTurn(10);
 * async function handOver() {
 *   if (turn.overdue()) await nextTurn();
 *   startNextTask();
 * }
 * ```
 */
export class EventLoopTurn {
  #startedAt = 0;
  #open = false;

  /** @param maxMs how long one turn may last before {@link overdue} says to yield. */
  constructor(readonly maxMs = 10) {}

  /**
   * Whether the current turn of the event loop has lasted more than `maxMs` since the first call
   * in it. The first call of a turn marks its start (and a `setImmediate` that ends the mark when
   * the loop comes round), so calls cost a clock read, and a loop that turns freely never yields.
   */
  overdue(): boolean {
    if (!this.#open) {
      this.#open = true;
      this.#startedAt = performance.now();
      setImmediate(() => {
        this.#open = false;
      });
      return false;
    }
    return performance.now() - this.#startedAt > this.maxMs;
  }
}

let comingTurn: Promise<void> | undefined;

/**
 * Resolves in the event loop's next check phase: timers and I/O due before it run first. Every
 * caller waiting for the same turn gets the same promise, so they resume in one `setImmediate`
 * callback, side by side in its promise jobs (a runner's slots go on together, as they stopped),
 * rather than one callback each, where the first would run alone until it next yields.
 */
export const nextTurn = (): Promise<void> => {
  comingTurn ??= new Promise((resolve) => {
    setImmediate(() => {
      comingTurn = undefined;
      resolve();
    });
  });
  return comingTurn;
};
