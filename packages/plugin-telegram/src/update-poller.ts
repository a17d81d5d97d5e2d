import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@agentd/core';
import type { RoleLease } from '@agentd/core/roles';
import type { Api } from 'grammy';
import type { Update } from 'grammy/types';
import { describeError, isGrammyError } from './describe-error.js';
import { RetryBackoff } from './retry.js';
import { grammySignal } from './signals.js';

/** What the poller reports to the health check. */
export interface PollerState {
  /** When a `getUpdates` call last succeeded (epoch ms), or 0 before the first. */
  lastPollAt: number;
  /** Failed calls (or failed handling) in a row since the last success. */
  failures: number;
  /** The last failure's message (secrets removed), while failures > 0. */
  lastError?: string;
  /** Set when Telegram refused the token: polling goes on slowly, but it will not heal alone. */
  unauthorized: boolean;
}

/**
 * Options for {@link UpdatePoller}.
 *
 * @example
 * ```ts
 * new UpdatePoller({ api, handle, logger, timeoutSeconds: 30, now: Date.now });
 * ```
 */
export interface UpdatePollerOptions {
  api: Api;
  /**
   * Handles one update; resolves once whatever it must keep is persisted (as a task, or as a
   * dead letter when it cannot be taken). Rejecting stops the batch unconfirmed: the update is
   * fetched again (after a backoff), or after a restart; so reject only when nothing could be
   * kept (the host stops, the store is down), never for a bad update.
   */
  handle: (update: Update) => Promise<void>;
  /**
   * The lane of an update: updates of one lane are handled one after another, in the order
   * Telegram sent them; lanes of one polled batch are handled side by side (their stores fold
   * into shared write transactions). Without it, a batch is handled one update at a time.
   */
  laneOf?: (update: Update) => string;
  /** Whether a handling error means the host is stopping (then the loop ends quietly). */
  isStopping: (error: unknown) => boolean;
  /**
   * Runs before the first poll, again after each failure, until it succeeds (asking Telegram who
   * the bot is, removing a webhook): for when Telegram could not be reached at start.
   */
  prepare?: (signal: AbortSignal) => Promise<void>;
  /** Called once when polling has failed {@link FAILURES_BEFORE_ALERT} times in a row. */
  onFailing?: (state: PollerState) => void;
  logger: Logger;
  timeoutSeconds: number;
  now: () => number;
  /**
   * The polling role's lease when hosts share the bot (see docs/roles.md): the loop ends when it
   * is lost, no long poll outlasts it, and a poller that lost it confirms nothing at the end
   * (the new holder fetches those updates again and the store recognises them).
   */
  lease?: Pick<RoleLease, 'signal' | 'validUntil' | 'isValid'>;
}

/** Failed polls in a row after which the poller reports itself failing (about a minute). */
export const FAILURES_BEFORE_ALERT = 5;
/** How long the last confirmation at stop may take. */
const FINAL_CONFIRM_MS = 5_000;

/** The pause before each short poll when a lease leaves no time for a long one. */
const SHORT_POLL_PAUSE_MS = 200;

const ALLOWED_UPDATES = ['message'] as const;

/**
 * Telegram long polling that confirms an update only after it was handled. An update is
 * confirmed by the next `getUpdates` call's `offset`, so the offset advances past an update only
 * once `handle` resolved for it: a crash or a stop at any moment leaves the update unconfirmed,
 * and Telegram delivers it again (the store's idempotency key then recognises it). grammY's own
 * `bot.start()` moves past an update whose handler failed, and @grammyjs/runner confirms before
 * handling, which is why this loop is the plugin's own.
 *
 * @example
 * ```ts
 * const poller = new UpdatePoller({ api, handle, isStopping, logger, timeoutSeconds: 30, now: Date.now });
 * const done = poller.run();
 * // ... later:
 * await poller.stop(); // `done` resolves
 * ```
 */
export class UpdatePoller {
  readonly state: PollerState = { lastPollAt: 0, failures: 0, unauthorized: false };
  readonly #options: UpdatePollerOptions;
  readonly #abort = new AbortController();
  readonly #backoff = new RetryBackoff();
  #offset: number | undefined;
  /** The offset of the last `getUpdates` call: updates below it are confirmed. */
  #sentOffset: number | undefined;
  #running: Promise<void> | undefined;

  constructor(options: UpdatePollerOptions) {
    this.#options = options;
    options.lease?.signal.addEventListener('abort', () => this.#abort.abort(), { once: true });
  }

  /** Starts the loop (once); resolves when it ended. */
  run(): Promise<void> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  /** Ends the loop: an open long poll is aborted, an update being handled finishes first. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #loop(): Promise<void> {
    const { signal } = this.#abort;
    let prepare = this.#options.prepare;
    while (!signal.aborted && this.#holding()) {
      if (prepare) {
        try {
          await prepare(signal);
          prepare = undefined;
        } catch (error) {
          if (signal.aborted) break;
          await this.#failed(error, 'could not reach Telegram');
          continue;
        }
      }
      let updates: Update[];
      const pollSeconds = this.#pollSeconds();
      // A lease too short to poll long: short polls, paced.
      if (pollSeconds === 0)
        await sleep(SHORT_POLL_PAUSE_MS, undefined, { signal }).catch(() => {});
      if (signal.aborted || !this.#holding()) break;
      try {
        this.#sentOffset = this.#offset;
        updates = await this.#options.api.getUpdates(
          {
            offset: this.#offset,
            timeout: pollSeconds,
            allowed_updates: [...ALLOWED_UPDATES],
          },
          grammySignal(signal),
        );
      } catch (error) {
        if (signal.aborted) break;
        await this.#failed(error, 'could not fetch Telegram updates');
        continue;
      }
      this.#polled();
      try {
        await this.#handleBatch(updates, signal);
      } catch (error) {
        if (this.#options.isStopping(error)) break;
        await this.#failed(error, 'could not take in a Telegram update; it will be fetched again');
        continue;
      }
      this.#backoff.reset();
      this.state.failures = 0;
      this.state.lastError = undefined;
    }
    await this.#confirmHandled();
  }

  /**
   * Handles a polled batch, each lane in order and the lanes side by side, then moves the offset
   * past the updates handled from the batch's start on: an update is confirmed only once it and
   * every update before it were handled. After a failure (or a stop) no further update starts;
   * those in flight end, and the first failure is rethrown. Telegram delivers the rest again,
   * and the store recognises any of them a lane had already taken.
   */
  async #handleBatch(updates: readonly Update[], signal: AbortSignal): Promise<void> {
    const { handle, laneOf } = this.#options;
    const handled = new Array<boolean>(updates.length).fill(false);
    let failure: { error: unknown } | undefined;
    const runLane = async (indexes: readonly number[]) => {
      for (const i of indexes) {
        // A stop leaves the rest of the batch with Telegram, which delivers it again.
        if (signal.aborted || failure) return;
        try {
          await handle(updates[i] as Update);
          handled[i] = true;
        } catch (error) {
          failure ??= { error };
          return;
        }
      }
    };
    if (!laneOf || updates.length < 2) {
      await runLane(updates.map((_, i) => i));
    } else {
      const lanes = new Map<string, number[]>();
      for (let i = 0; i < updates.length; i++) {
        const key = laneOf(updates[i] as Update);
        const lane = lanes.get(key);
        if (lane) lane.push(i);
        else lanes.set(key, [i]);
      }
      await Promise.all([...lanes.values()].map(runLane));
    }
    for (let i = 0; i < updates.length && handled[i]; i++) {
      const id = (updates[i] as Update).update_id;
      // An update without a usable id cannot be confirmed by itself; the next good one
      // confirms it (an offset confirms every update below it).
      if (Number.isSafeInteger(id)) this.#offset = id + 1;
    }
    if (failure) throw failure.error;
  }

  /** Whether this host may poll: always without a lease; with one, while it holds. */
  #holding(): boolean {
    return this.#options.lease?.isValid() ?? true;
  }

  /**
   * The long poll's timeout: with a lease, no longer than what is left of it, so even a holder
   * frozen mid-poll has its request ended by Telegram before another host may take over.
   */
  #pollSeconds(): number {
    const { lease, timeoutSeconds, now } = this.#options;
    if (!lease) return timeoutSeconds;
    const left = Math.floor((lease.validUntil - now()) / 1000) - 1;
    return Math.max(0, Math.min(timeoutSeconds, left));
  }

  #polled(): void {
    this.state.lastPollAt = this.#options.now();
    this.state.unauthorized = false;
    if (this.state.failures > 0) {
      this.#options.logger.info(
        { failures: this.state.failures },
        'polling Telegram again after failures',
      );
    }
  }

  /**
   * Confirms the updates handled since the last poll, as grammY's `bot.stop()` does: otherwise
   * Telegram delivers them again at the next start, and what they did without a task (a
   * welcome, a refusal, a command's answer) would be done twice.
   */
  async #confirmHandled(): Promise<void> {
    if (this.#offset === undefined || this.#offset === this.#sentOffset) return;
    // Another host may poll already: it fetches these again, and the store recognises them.
    if (!this.#holding()) return;
    try {
      await this.#options.api.getUpdates(
        { offset: this.#offset, limit: 1, timeout: 0 },
        grammySignal(AbortSignal.timeout(FINAL_CONFIRM_MS)),
      );
    } catch (error) {
      this.#options.logger.debug(
        { reason: describeError(error) },
        'could not confirm the last Telegram updates; they will be delivered again and recognised',
      );
    }
  }

  async #failed(error: unknown, what: string): Promise<void> {
    const delayMs = this.#backoff.next(error);
    this.state.failures++;
    this.state.lastError = describeError(error);
    if (isGrammyError(error) && error.error_code === 401) this.state.unauthorized = true;
    if (isGrammyError(error) && error.error_code === 409) {
      this.state.lastError +=
        ' (another process polls this bot, or a webhook is set for it: a bot takes updates in one place only)';
    }
    if (this.state.failures === FAILURES_BEFORE_ALERT) this.#options.onFailing?.(this.state);
    this.#options.logger.warn(
      { failures: this.state.failures, retryInMs: delayMs, reason: this.state.lastError },
      what,
    );
    // Rejects when the poller stops mid-wait: that ends the wait, and the loop sees the abort.
    await sleep(delayMs, undefined, { signal: this.#abort.signal }).catch(() => {});
  }
}
