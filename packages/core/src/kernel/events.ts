import type { AgentdEvents } from '../contracts/events.js';
import type { Logger } from '../contracts/logger.js';

export type EventName = keyof AgentdEvents & string;
export type EventHandler<K extends EventName> = (
  payload: AgentdEvents[K],
  event: K,
) => void | Promise<void>;
type AnyHandler = (payload: unknown, event: string) => void | Promise<void>;

/**
 * A typed, in-process event bus. Handlers run in subscription order; a handler that throws (or
 * whose promise rejects) is logged and never breaks the emitter or the other handlers.
 *
 * @example
 * ```ts
 * const off = ctx.events.on('task.completed', ({ task }) => console.log(task.id));
 * ctx.events.emit('alert', { severity: 'warning', title: 'Disk 91% full', source: 'monitor' });
 * off();
 * ```
 */
export class EventBus {
  /**
   * Each event's handlers in subscription order, replaced (never changed in place) when one
   * subscribes or unsubscribes: `emit` walks the array it read, so a handler added or removed
   * meanwhile takes effect from the next emit, without a copy per emit (an emit per task
   * started and completed made that copy a measurable share of the task path).
   */
  readonly #handlers = new Map<string, readonly AnyHandler[]>();
  readonly #any = new Set<AnyHandler>();
  readonly #logger: () => Logger;

  /** @param logger where failing handlers are reported; a function when the logger may change. */
  constructor(logger: Logger | (() => Logger)) {
    this.#logger = typeof logger === 'function' ? logger : () => logger;
  }

  /** Subscribes to one event; returns the unsubscribe function. */
  on<K extends EventName>(event: K, handler: EventHandler<K>): () => void {
    const h = handler as AnyHandler;
    const list = this.#handlers.get(event) ?? [];
    // A handler subscribed twice is called once, and one unsubscribe removes it.
    if (!list.includes(h)) this.#handlers.set(event, [...list, h]);
    return () => {
      const now = this.#handlers.get(event);
      if (!now?.includes(h)) return;
      if (now.length === 1) this.#handlers.delete(event);
      else
        this.#handlers.set(
          event,
          now.filter((x) => x !== h),
        );
    };
  }

  /** Subscribes for the next occurrence only. */
  once<K extends EventName>(event: K, handler: EventHandler<K>): () => void {
    const off = this.on(event, (payload, name) => {
      off();
      return handler(payload, name);
    });
    return off;
  }

  /** Resolves with the next payload of `event` (handy in tests and start-up code). */
  next<K extends EventName>(event: K, signal?: AbortSignal): Promise<AgentdEvents[K]> {
    return new Promise((resolve, reject) => {
      const off = this.once(event, (payload) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(payload);
      });
      const onAbort = () => {
        off();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Subscribes to every event (logging, metrics, bridges). */
  onAny(handler: (payload: unknown, event: EventName) => void | Promise<void>): () => void {
    const h = handler as AnyHandler;
    this.#any.add(h);
    return () => this.#any.delete(h);
  }

  /** Delivers `payload` to every subscriber synchronously; async handlers are not awaited. */
  emit<K extends EventName>(event: K, payload: AgentdEvents[K]): void {
    const list = this.#handlers.get(event);
    if (list)
      for (let i = 0; i < list.length; i++) this.#invoke(list[i] as AnyHandler, payload, event);
    for (const handler of this.#any) this.#invoke(handler, payload, event);
  }

  /** Number of handlers for `event` (0 lets emitters skip building costly payloads). */
  listenerCount(event: EventName): number {
    return (this.#handlers.get(event)?.length ?? 0) + this.#any.size;
  }

  #invoke(handler: AnyHandler, payload: unknown, event: string): void {
    try {
      const result = handler(payload, event);
      if (result && typeof (result as Promise<void>).catch === 'function') {
        (result as Promise<void>).catch((err: unknown) => this.#report(event, err));
      }
    } catch (err) {
      this.#report(event, err);
    }
  }

  #report(event: string, err: unknown): void {
    this.#logger().error({ err, event }, `a handler of "${event}" failed`);
  }
}
