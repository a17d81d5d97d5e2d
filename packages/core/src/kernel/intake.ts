import { IntakeClosedError } from './errors.js';

/**
 * The readiness barrier and the in-flight counter in one place. Work offered before the host is
 * ready waits; work offered while it stops is refused; `drained()` tells when work in flight ended.
 */
export class IntakeGate {
  #state: 'waiting' | 'open' | 'closed' = 'waiting';
  #inFlight = 0;
  #opened!: () => void;
  #refused!: (error: Error) => void;
  readonly #ready = new Promise<void>((resolve, reject) => {
    this.#opened = resolve;
    this.#refused = reject;
  });
  #idleWaiters: (() => void)[] = [];

  constructor() {
    // Nobody may be waiting when the host closes before it opened: avoid an unhandled rejection.
    this.#ready.catch(() => {});
  }

  get state(): 'waiting' | 'open' | 'closed' {
    return this.#state;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  open(): void {
    if (this.#state !== 'waiting') return;
    this.#state = 'open';
    this.#opened();
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#refused(new IntakeClosedError());
    this.#notifyIfIdle();
  }

  /** Resolves once the barrier opens; rejects with IntakeClosedError if the host stops first. */
  whenOpen(): Promise<void> {
    return this.#ready;
  }

  /** Runs `work` once the gate is open, counting it as in flight until it settles. */
  run<T>(work: () => Promise<T>): Promise<T> {
    // While open (nearly always), one promise instead of an async function's two: this runs once
    // per webhook delivery and channel message.
    if (this.#state !== 'open') return this.#runWhenOpen(work);
    this.#inFlight++;
    let running: Promise<T>;
    try {
      running = Promise.resolve(work());
    } catch (error) {
      this.#settled();
      return Promise.reject(error);
    }
    return running.then(
      (value) => {
        this.#settled();
        return value;
      },
      (error: unknown) => {
        this.#settled();
        throw error;
      },
    );
  }

  async #runWhenOpen<T>(work: () => Promise<T>): Promise<T> {
    if (this.#state === 'closed') throw new IntakeClosedError();
    if (this.#state === 'waiting') await this.#ready;
    this.#inFlight++;
    try {
      return await work();
    } finally {
      this.#settled();
    }
  }

  #settled(): void {
    this.#inFlight--;
    this.#notifyIfIdle();
  }

  /** Resolves when nothing is in flight (or at once if nothing is). */
  drained(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #notifyIfIdle(): void {
    if (this.#inFlight !== 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
