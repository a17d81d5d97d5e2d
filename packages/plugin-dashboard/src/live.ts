import type { EventBus, Task } from '@agentd/core';

/** What a browser tab receives: a small summary per event; it re-reads what it shows. */
export interface LiveEvent {
  /** `task`, `schedule`, `session`, `alert`, `dead-letter`, `circuit`, `host`. */
  kind: string;
  /** The event's name on the bus (`task.completed`). */
  event: string;
  id?: string;
  status?: string;
  text?: string;
  at: number;
}

/** Minutes of throughput kept for the overview. */
const THROUGHPUT_MINUTES = 60;
/** Events a slow tab may fall behind by before it is told to reload instead. */
const QUEUE_LIMIT = 200;
/** A comment this often keeps proxies from closing an idle stream (and finds gone clients). */
const KEEPALIVE_MS = 25_000;

/** Per-minute counts of finished tasks, from the event bus. */
export interface ThroughputMinute {
  /** Epoch ms of the minute's start. */
  at: number;
  enqueued: number;
  completed: number;
  failed: number;
}

interface Client {
  queue: string[];
  wake: (() => void) | undefined;
  overflowed: boolean;
}

const taskSummary = (event: string, task: Task, now: number): LiveEvent => ({
  kind: 'task',
  event,
  id: task.id,
  status: task.status,
  at: now,
});

/**
 * The dashboard's live side: one subscription per bus event for the whole host (not one per
 * tab), fanned out to every open stream as Server-Sent Events, and per-minute throughput counts.
 * An idle tab costs a keep-alive comment every 25 s and nothing else.
 *
 * @example
 * ```ts
 * const hub = new LiveHub(ctx.events, () => Date.now());
 * return { headers: { 'content-type': 'text/event-stream' }, stream: hub.stream(request.signal) };
 * ```
 */
export class LiveHub {
  readonly #clients = new Set<Client>();
  readonly #offs: (() => void)[] = [];
  readonly #minutes: ThroughputMinute[] = [];
  #closed = false;
  /** Events published so far: each frame's SSE `id`, so a stream can tell what a tab missed. */
  #position = 0;

  constructor(
    events: EventBus,
    readonly now: () => number,
    /** Masks secrets in each frame (an alert's title may quote one). */
    readonly mask: (text: string) => string = (text) => text,
  ) {
    const on = events.on.bind(events);
    const task = (
      event:
        | 'task.enqueued'
        | 'task.started'
        | 'task.completed'
        | 'task.cancelled'
        | 'task.held'
        | 'task.released',
    ) =>
      on(event, ({ task: t }) => {
        if (event === 'task.enqueued') this.#count('enqueued');
        if (event === 'task.completed') this.#count('completed');
        this.#publish(taskSummary(event, t, this.now()));
      });
    this.#offs.push(
      task('task.enqueued'),
      task('task.started'),
      task('task.completed'),
      task('task.cancelled'),
      task('task.held'),
      task('task.released'),
      on('task.failed', ({ task: t, willRetry }) => {
        if (!willRetry) this.#count('failed');
        this.#publish(taskSummary('task.failed', t, this.now()));
      }),
      on('task.recovered', ({ requeued, failed }) =>
        this.#publish({
          kind: 'task',
          event: 'task.recovered',
          text: `${requeued.length} requeued, ${failed.length} failed`,
          at: this.now(),
        }),
      ),
      on('schedule.fired', (fire) =>
        this.#publish({
          kind: 'schedule',
          event: 'schedule.fired',
          id: fire.schedule,
          at: this.now(),
        }),
      ),
      on('schedule.missed', (m) =>
        this.#publish({
          kind: 'schedule',
          event: 'schedule.missed',
          id: m.schedule,
          at: this.now(),
        }),
      ),
      on('alert', (alert) =>
        this.#publish({
          kind: 'alert',
          event: 'alert',
          status: alert.severity,
          text: alert.title,
          at: this.now(),
        }),
      ),
      on('circuit.changed', ({ agent, state }) =>
        this.#publish({
          kind: 'circuit',
          event: 'circuit.changed',
          id: agent,
          status: state,
          at: this.now(),
        }),
      ),
      ...(
        ['session.created', 'session.suspended', 'session.resumed', 'session.archived'] as const
      ).map((event) =>
        on(event, ({ session }) =>
          this.#publish({
            kind: 'session',
            event,
            id: session.id,
            status: session.status,
            at: this.now(),
          }),
        ),
      ),
    );
  }

  /** Open streams now. */
  get streams(): number {
    return this.#clients.size;
  }

  /** Per-minute counts of the last hour, oldest first, minutes without events included. */
  throughput(): ThroughputMinute[] {
    const current = Math.floor(this.now() / 60_000) * 60_000;
    const byMinute = new Map(this.#minutes.map((m) => [m.at, m]));
    const out: ThroughputMinute[] = [];
    for (let i = THROUGHPUT_MINUTES - 1; i >= 0; i--) {
      const at = current - i * 60_000;
      out.push(byMinute.get(at) ?? { at, enqueued: 0, completed: 0, failed: 0 });
    }
    return out;
  }

  /** Tells every tab something changed outside the bus (a dead letter settled from the UI). */
  publish(event: LiveEvent): void {
    this.#publish(event);
  }

  /**
   * Events published so far. A page records it when it reads what it shows, and its stream
   * starts from there (`stream`'s `since`), so nothing published in between goes unseen.
   */
  get position(): number {
    return this.#position;
  }

  /**
   * One tab's event stream, ending when `signal` aborts (the tab went away). It opens with a
   * `hello` event holding the position; when `since` (the position the tab's data was read at, or
   * the last event id a reconnecting browser sends) is not the current one, a `resync` follows:
   * the tab missed events, and re-reads.
   */
  async *stream(signal: AbortSignal, since?: number): AsyncGenerator<string> {
    const client: Client = { queue: [], wake: undefined, overflowed: false };
    this.#clients.add(client);
    const wake = () => client.wake?.();
    signal.addEventListener('abort', wake, { once: true });
    try {
      // The retry hint: a tab whose stream dropped reconnects after 3 s.
      const position = this.#position;
      yield `retry: 3000\nid: ${position}\nevent: hello\ndata: {"position":${position}}\n\n`;
      if (since !== undefined && since !== position) yield 'event: resync\ndata: {}\n\n';
      while (!signal.aborted && !this.#closed) {
        if (client.overflowed) {
          client.overflowed = false;
          client.queue.length = 0;
          yield 'event: resync\ndata: {}\n\n';
          continue;
        }
        const batch = client.queue.splice(0);
        if (batch.length > 0) {
          yield batch.join('');
          continue;
        }
        const timedOut = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), KEEPALIVE_MS);
          timer.unref?.();
          client.wake = () => {
            clearTimeout(timer);
            resolve(false);
          };
        });
        client.wake = undefined;
        if (timedOut && !signal.aborted) yield ': keep-alive\n\n';
      }
    } finally {
      signal.removeEventListener('abort', wake);
      this.#clients.delete(client);
    }
  }

  /** Ends every stream's subscriptions. */
  close(): void {
    this.#closed = true;
    for (const off of this.#offs.splice(0)) off();
    for (const client of this.#clients) client.wake?.();
  }

  #publish(event: LiveEvent): void {
    const id = ++this.#position;
    if (this.#clients.size === 0) return;
    const frame = `id: ${id}\nevent: ${event.kind}\ndata: ${this.mask(JSON.stringify(event))}\n\n`;
    for (const client of this.#clients) {
      if (client.queue.length >= QUEUE_LIMIT) client.overflowed = true;
      else client.queue.push(frame);
      client.wake?.();
    }
  }

  #count(what: 'enqueued' | 'completed' | 'failed'): void {
    const at = Math.floor(this.now() / 60_000) * 60_000;
    let minute = this.#minutes[this.#minutes.length - 1];
    if (!minute || minute.at !== at) {
      minute = { at, enqueued: 0, completed: 0, failed: 0 };
      this.#minutes.push(minute);
      if (this.#minutes.length > THROUGHPUT_MINUTES) this.#minutes.shift();
    }
    minute[what]++;
  }
}
