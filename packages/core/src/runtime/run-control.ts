/**
 * The abort switch of one task run. The `AbortSignal` handed to agents is created only when
 * something reads it: an `AbortController` and its listeners cost several microseconds per run,
 * a real share of the runner's overhead for short tasks, and many agents never look at it.
 * The runner itself waits through {@link RunControl.race} instead of listening on the signal.
 *
 * @example
 * ```ts
 * const control = new RunControl();
 * const timer = setTimeout(() => control.abort(new Error('too slow')), 30_000);
 * const output = await control.race(agent.run(input, { signal: control.signal }));
 * clearTimeout(timer);
 * ```
 */
export class RunControl {
  #controller: AbortController | undefined;
  #reject: ((reason: unknown) => void) | undefined;
  #aborted = false;
  #reason: unknown;

  /** The run's signal; aborted (with the same reason) if the run already was. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why the run was aborted; undefined while it was not. */
  get reason(): unknown {
    return this.#reason;
  }

  /** Aborts the run once; later calls are ignored, so the first reason stays the reason. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#reject?.(reason);
  }

  /**
   * Settles as `work` does, or rejects with the abort reason as soon as the run is aborted (at
   * once if it was), even when the work never looks at its signal. One promise per run, where
   * `Promise.race` with a promise of the abort made three.
   */
  race<T>(work: T | PromiseLike<T>): Promise<T> {
    // An agent that returns a plain value (or a thenable) works as it did with Promise.race;
    // for a native promise this is the promise itself, no allocation.
    const settled = Promise.resolve(work);
    if (this.#aborted) {
      // The work's own outcome is no longer wanted; keep its rejection from going unhandled.
      settled.catch(() => {});
      return Promise.reject(this.#reason);
    }
    return new Promise<T>((resolve, reject) => {
      this.#reject = reject;
      settled.then(resolve, reject);
    });
  }
}
