import { ExponentialBackoff } from 'cockatiel';
import type { Address, AnswerSender, ChannelRegistry } from '../contracts/channel.js';
import type { Clock, TimerHandle } from '../contracts/clock.js';
import type { Logger } from '../contracts/logger.js';
import type { Task, TaskStore } from '../contracts/task.js';
import type { EventBus } from '../kernel/events.js';
import { errorMessage } from '../kernel/timeout.js';
import { inSpan } from '../kernel/tracing.js';
import { failureReply } from './failure-summary.js';
import { retryDelay } from './retry-delay.js';

/**
 * Delivery attempts before a reply is given up (about an hour and a quarter of retries).
 *
 * @example
 * ```ts
 * if (attempt >= REPLY_ATTEMPTS) await store.recordReply(id, { gaveUp: true });
 * ```
 */
export const REPLY_ATTEMPTS = 10;
/** How long a sweep holds the replies it took, so another host does not send them meanwhile. */
const SWEEP_LEASE_MS = 60_000;
const SWEEP_BATCH = 50;
/** A retry timer fires this much after the retry is due, so the store sees it due. */
const RETRY_SLACK_MS = 5;

/**
 * What the outbox needs from the host.
 *
 * @example
 * ```ts
 * const deps: ReplyOutboxDeps = { store, channels, events, clock, logger };
 * ```
 */
export interface ReplyOutboxDeps {
  store: TaskStore;
  channels: ChannelRegistry;
  /** Receives an `alert` when a reply is given up (the host's notifier delivers it). */
  events: EventBus;
  clock: Clock;
  logger: Logger;
}

/**
 * Whether a finished task owes its `replyTo` an answer, by the rule the stores record: a result
 * other than null or `''`, or a failure for good.
 *
 * @example
 * ```ts
 * owesReply({ ...task, status: 'completed', result: '' }); // false
 * ```
 */
export function owesReply(task: Task): boolean {
  if (task.replyTo === null) return false;
  if (task.status === 'failed') return true;
  return task.status === 'completed' && task.result !== null && task.result !== '';
}

/**
 * The text sent to a task's `replyTo`: its result (JSON other than a string is pretty-printed),
 * or an apology with a short summary of the failure (never the raw error, see `failureSummary`),
 * after the task's `metadata.replyHeading` line when it has one.
 *
 * @example
 * ```ts
 * replyText({ ...task, status: 'completed', result: { total: 3 } }); // '{\n  "total": 3\n}'
 * replyText({ ...task, status: 'completed', result: 'ok', metadata: { replyHeading: 'Task "x":' } }); // 'Task "x":\nok'
 * ```
 */
export function replyText(task: Task): string {
  const body =
    task.status === 'failed'
      ? failureReply(task)
      : typeof task.result === 'string'
        ? task.result
        : JSON.stringify(task.result, null, 2);
  // A heading says which of several answers this is (`Task "check the backups":`).
  const heading = task.metadata.replyHeading;
  return typeof heading === 'string' && heading !== '' ? `${heading}\n${body}` : body;
}

/**
 * Delivers finished tasks' replies through the channels, durably: the store recorded each debt
 * in the same write that ended the task ({@link TaskStore.claimReplies}), this sends it and
 * records the outcome. A failed send is retried with exponential backoff (5 s doubling to
 * 10 min) up to {@link REPLY_ATTEMPTS} times, then given up with an `error` alert; each retry
 * runs at its computed time (a timer for the earliest one due), and a reply whose sender died
 * is taken up by the next sweep (every host sweeps at start and on its recovery tick).
 * Channels receive the idempotency key `task:<id>:<status>`, so one that can deduplicate never
 * shows a reply twice.
 *
 * Immediate answers (a command's reply, a refusal, a welcome) take the same path through
 * {@link ReplyOutbox.answer}: recorded in the store first (where it supports
 * `recordAnswer`), then sent, so one failed send does not lose them.
 *
 * @example
 * ```ts
 * const outbox = new ReplyOutbox({ store, channels, events, clock, logger });
 * outbox.send(finishedTask); // right after the task ended
 * await outbox.sweep();      // at start and periodically: replies left behind by a crash
 * ```
 */
export class ReplyOutbox implements AnswerSender {
  readonly #deps: ReplyOutboxDeps;
  readonly #sending = new Set<string>();
  readonly #backoff = new ExponentialBackoff({ initialDelay: 5_000, maxDelay: 600_000 });
  #retryTimer: TimerHandle | undefined;
  #retryTimerAt = Number.POSITIVE_INFINITY;
  #stopped = false;

  constructor(deps: ReplyOutboxDeps) {
    this.#deps = deps;
  }

  /**
   * Records an immediate answer to `to` in the outbox and sends it now; a failed send is
   * retried like a task's reply. The key makes a replayed message's answer a no-op. Without a
   * store that records answers (or when recording fails), the answer is sent directly, once.
   */
  async answer(
    to: Address,
    text: string,
    options: { key: string; inReplyTo?: string },
  ): Promise<void> {
    const { store, channels, clock, logger } = this.#deps;
    if (store.recordAnswer) {
      try {
        const { task, created } = await store.recordAnswer(
          {
            replyTo: to,
            text,
            idempotencyKey: options.key,
            ...(options.inReplyTo !== undefined && { metadata: { inReplyTo: options.inReplyTo } }),
          },
          clock.now(),
        );
        if (created) await this.#deliver(task, 0, true);
        return;
      } catch (err) {
        logger.warn(
          { err, channel: to.channel },
          'could not record an answer; sending it directly',
        );
      }
    }
    await channels.send(
      to,
      { text, ...(options.inReplyTo !== undefined && { inReplyTo: options.inReplyTo }) },
      { idempotencyKey: options.key },
    );
  }

  /** Cancels the retry timer; replies still owed are sent by the next sweep (of any host). */
  stop(): void {
    this.#stopped = true;
    this.#retryTimer?.cancel();
    this.#retryTimer = undefined;
    this.#retryTimerAt = Number.POSITIVE_INFINITY;
  }

  /** Sweeps when the earliest retry is due (one timer, re-armed for an earlier retry). */
  #retryAt(at: number): void {
    if (this.#stopped || at >= this.#retryTimerAt) return;
    const { clock, logger } = this.#deps;
    this.#retryTimer?.cancel();
    this.#retryTimerAt = at;
    this.#retryTimer = clock.setTimeout(
      () => {
        this.#retryTimer = undefined;
        this.#retryTimerAt = Number.POSITIVE_INFINITY;
        this.sweep().catch((err: unknown) => logger.error({ err }, 'retrying owed replies failed'));
      },
      Math.max(0, at - clock.now()) + RETRY_SLACK_MS,
    );
  }

  /** Sends a reply the store recorded as owed moments ago (its first attempt). */
  send(task: Task): void {
    if (owesReply(task)) void this.#deliver(task, 0, true);
  }

  /** Sends every reply that is owed and due, in batches; resolves when all were tried. */
  async sweep(): Promise<void> {
    const { store, clock } = this.#deps;
    for (;;) {
      const owed = await store.claimReplies({
        now: clock.now(),
        leaseMs: SWEEP_LEASE_MS,
        limit: SWEEP_BATCH,
      });
      await Promise.all(owed.map((reply) => this.#deliver(reply.task, reply.attempts)));
      if (owed.length < SWEEP_BATCH) return;
    }
  }

  /**
   * One delivery attempt. `first`: the store recorded the reply moments ago and holds it for
   * this host (`REPLY_HOLD_MS`), so nothing of it can have been delivered yet; the channel is
   * told, and may skip looking up parts it delivered before.
   */
  async #deliver(task: Task, attempts: number, first = false): Promise<void> {
    if (this.#sending.has(task.id)) return;
    this.#sending.add(task.id);
    const { store, channels, clock, logger } = this.#deps;
    const to = task.replyTo!;
    const context = { taskId: task.id, channel: to.channel, attempt: attempts + 1 };
    let sent = false;
    try {
      const inReplyTo = task.metadata.inReplyTo;
      await inSpan(
        'agentd.reply.send',
        { 'agentd.task.id': task.id, 'agentd.channel': to.channel, 'agentd.attempt': attempts + 1 },
        () =>
          channels.send(
            to,
            {
              text: replyText(task),
              ...(typeof inReplyTo === 'string' && { inReplyTo }),
            },
            {
              idempotencyKey: `task:${task.id}:${task.status}`,
              ...(first && { firstAttempt: true }),
            },
          ),
      );
      sent = true;
      await store.recordReply(task.id, { sent: true });
    } catch (err) {
      if (sent) {
        // The reply stays owed and a later sweep sends it again: the idempotency key lets a
        // channel that deduplicates drop that second copy.
        logger.error({ err, ...context }, 'could not record a delivered task result');
        return;
      }
      const attempt = attempts + 1;
      if (attempt >= REPLY_ATTEMPTS) {
        logger.error({ err, ...context }, 'gave up delivering the task result');
        await store.recordReply(task.id, { gaveUp: true }).catch(() => {});
        // Replies to one channel usually fail together: one alert per cooldown says so.
        this.#deps.events.emit('alert', {
          severity: 'error',
          source: 'runner',
          title: `Task results could not be delivered to ${to.channel}`,
          message: `gave up on the ${task.status} result of task ${task.id} after ${attempt} attempts (last error: ${errorMessage(err)}); \`agentd tasks\` still shows it`,
        });
      } else {
        const retryAt = clock.now() + retryDelay(this.#backoff, attempt);
        logger.warn({ err, ...context, retryAt }, 'could not deliver the task result; will retry');
        // If this write fails too, the reply stays owed and a later sweep takes it up.
        await store.recordReply(task.id, { retryAt }).then(
          () => this.#retryAt(retryAt),
          () => {},
        );
      }
    } finally {
      this.#sending.delete(task.id);
    }
  }
}
