import type { Channel, EventBus, Task } from '@agentd/core';

/** Telegram shows a chat action for about 5 s: renew it a little sooner. */
const RENEW_EVERY_MS = 4_000;
/**
 * "typing…" shows only for a task still running after this long: a reply within a second needs
 * no indicator, and a busy bot would otherwise make one more Bot API call per message.
 */
export const TYPING_AFTER_MS = 1_000;
/** A task still running after this long stops showing "typing…" (a stuck agent). */
const MAX_TYPING_MS = 10 * 60_000;

/**
 * What {@link TypingIndicator} needs.
 *
 * @example
 * ```ts
 * new TypingIndicator({ channel, events: ctx.events });
 * ```
 */
export interface TypingIndicatorDeps {
  /** The channel whose tasks it follows (by `replyTo.channel`) and that shows the activity. */
  channel: Pick<Channel, 'name' | 'indicateActivity'>;
  events: EventBus;
}

/**
 * Shows "typing…" in a chat while a task that will answer it runs, renewed every 4 s, from a
 * second after the task's start (a quicker reply shows none) to its end (or 10 minutes).
 * Failures to show it are ignored: it is a courtesy.
 *
 * @example
 * ```ts
 * const typing = new TypingIndicator({ channel, events: ctx.events });
 * // ... at stop:
 * typing.stop();
 * ```
 */
export class TypingIndicator {
  readonly #deps: TypingIndicatorDeps;
  /** Per running task: the timer that shows it first, then the one that renews it. */
  readonly #running = new Map<string, NodeJS.Timeout>();
  readonly #offs: (() => void)[];

  constructor(deps: TypingIndicatorDeps) {
    this.#deps = deps;
    const end = ({ task }: { task: Task }) => this.#end(task.id);
    this.#offs = [
      deps.events.on('task.started', ({ task }) => this.#start(task)),
      deps.events.on('task.completed', end),
      deps.events.on('task.failed', end),
      deps.events.on('task.cancelled', end),
    ];
  }

  /** Stops following tasks and clears every renewal. */
  stop(): void {
    for (const off of this.#offs.splice(0)) off();
    for (const id of [...this.#running.keys()]) this.#end(id);
  }

  #start(task: Task): void {
    const to = task.replyTo;
    if (!to || to.channel !== this.#deps.channel.name || this.#running.has(task.id)) return;
    const show = () => void this.#deps.channel.indicateActivity?.(to).catch(() => {});
    const startedAt = Date.now();
    const first = setTimeout(() => {
      show();
      const renewal = setInterval(() => {
        if (Date.now() - startedAt > MAX_TYPING_MS) this.#end(task.id);
        else show();
      }, RENEW_EVERY_MS);
      renewal.unref();
      this.#running.set(task.id, renewal);
    }, TYPING_AFTER_MS);
    first.unref();
    this.#running.set(task.id, first);
  }

  #end(taskId: string): void {
    // clearInterval and clearTimeout clear either kind of timer.
    clearInterval(this.#running.get(taskId));
    this.#running.delete(taskId);
  }
}
