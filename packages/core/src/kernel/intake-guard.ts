import type { Address } from '../contracts/channel.js';
import type { Clock } from '../contracts/clock.js';
import type { Logger } from '../contracts/logger.js';
import type { Notifier } from '../contracts/notifier.js';
import { raiseAlert } from '../contracts/notifier.js';
import type { DeadLetter, TaskStore } from '../contracts/task.js';
import { AgentdError, IntakeClosedError, PayloadTooLargeError } from './errors.js';
import type { EventBus } from './events.js';
import { errorMessage } from './timeout.js';
import { createToken } from './token.js';
import { inSpan } from './tracing.js';

/**
 * What an intake failure is. `permanent`: the same input fails the same way however often it is
 * tried (malformed, too large, an unknown agent): never retried. `transient`: the host could not
 * take it just now (the store busy, the disk full): retried a few times, then kept as a dead
 * letter like a permanent one.
 *
 * @example
 * ```ts
 * classifyIntakeError(new AgentdError('E_UNKNOWN_AGENT', 'unknown agent "x"'));
 * // { permanent: true, code: 'E_UNKNOWN_AGENT', reason: 'unknown agent "x"', reply: undefined }
 * ```
 */
export interface IntakeFailure {
  permanent: boolean;
  /** Stable code: an AgentdError's code, an SQLite or system error code, or `E_INTAKE`. */
  code: string;
  /** For the operator (the dead letter, the log). */
  reason: string;
  /** For the sender, when there is one to tell: a short, clear sentence. */
  reply?: string;
}

/** AgentdError codes of inputs that can never be taken as they are. */
const PERMANENT_CODES = new Set([
  'E_INVALID_TASK',
  'E_INVALID_INPUT',
  'E_UNKNOWN_AGENT',
  'E_NO_AGENT',
  'E_SESSION_NAME',
  'E_SESSION_ARCHIVED',
]);
/** SQLite result codes that say the data, not the moment, is wrong. */
const PERMANENT_SQLITE = /^SQLITE_(CONSTRAINT|TOOBIG|MISMATCH|RANGE)/;

/**
 * A size in the units people read: `1.9 MiB`, `1 MiB`, `640 KiB`, `12 bytes`.
 *
 * @example
 * ```ts
 * formatSize(2_000_000); // '1.9 MiB'
 * ```
 */
export function formatSize(bytes: number): string {
  const [value, unit] =
    bytes >= 1024 * 1024
      ? [bytes / (1024 * 1024), 'MiB']
      : bytes >= 1024
        ? [bytes / 1024, 'KiB']
        : [bytes, 'bytes'];
  const shown = unit === 'bytes' ? String(value) : value.toFixed(1).replace(/\.0$/, '');
  return `${shown} ${unit}`;
}

/**
 * The one rule every channel applies to a failed intake (see {@link IntakeFailure}): closed
 * intake is not a failure (rethrow it); errors marked `retryable: false`, the caller's errors
 * (`E_INVALID_TASK`, `E_INVALID_INPUT`, `E_UNKNOWN_AGENT`, `E_NO_AGENT`...), constraint
 * violations and programming errors about the input's shape (`TypeError`, `RangeError`,
 * `SyntaxError`) are permanent; everything else (SQLite busy/locked/full/IO, `ENOSPC`, `EIO`,
 * a store not open, unknown errors) is transient. Only called on the error path.
 *
 * @example
 * ```ts
 * classifyIntakeError(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })).permanent; // false
 * ```
 */
export function classifyIntakeError(error: unknown): IntakeFailure {
  const reason = errorMessage(error);
  if (error instanceof PayloadTooLargeError) {
    return {
      permanent: true,
      code: error.code,
      reason,
      reply: `That message is too long (${formatSize(error.bytes)}, limit ${formatSize(error.limitBytes)}).`,
    };
  }
  const reply = replyOf(error);
  if (error instanceof AgentdError) {
    const permanent =
      PERMANENT_CODES.has(error.code) || (error as { retryable?: unknown }).retryable === false;
    return { permanent, code: error.code, reason, ...(reply !== undefined && { reply }) };
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') {
    return { permanent: PERMANENT_SQLITE.test(code), code, reason };
  }
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) {
    return { permanent: true, code: `E_${error.name.toUpperCase()}`, reason };
  }
  return { permanent: false, code: 'E_INTAKE', reason };
}

function replyOf(error: unknown): string | undefined {
  const reply = (error as { reply?: unknown } | null)?.reply;
  return typeof reply === 'string' && reply !== '' ? reply : undefined;
}

/**
 * What a channel tells {@link IntakeGuard.take} about the input it takes in.
 *
 * @example
 * ```ts
 * const source: IntakeSource = {
 *   channel: 'telegram',
 *   key: `telegram:update:${update.update_id}`,
 *   raw: () => JSON.stringify(update),
 * };
 * ```
 */
export interface IntakeSource {
  /** The channel's name (dead letters and alerts carry it). */
  channel: string;
  /** Identifies the input on its channel, so a re-delivered poison input is one dead letter. */
  key?: string;
  /** The raw input as text; called only when it must be kept. */
  raw: () => string;
  /** Where an answer to the sender goes, when known. */
  replyTo?: Address;
}

/** What {@link IntakeGuard.take} did: the work's value, or the failure and its dead letter. */
export type IntakeOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; failure: IntakeFailure; deadLetter: DeadLetter };

/**
 * What the guard needs; the kernel provides it with the host's store, notifier and clock.
 *
 * @example
 * ```ts
 * new IntakeGuard({ store: () => tasks, notifier: () => undefined, events, logger, clock });
 * ```
 */
export interface IntakeGuardDeps {
  store: () => TaskStore | undefined;
  notifier: () => Notifier | undefined;
  events: EventBus;
  logger: Logger;
  clock: Clock;
  /** Waits before each retry of a transient failure (default 200 ms, 1 s, 3 s: about 4 s). */
  retryDelaysMs?: readonly number[];
}

const DEFAULT_RETRY_DELAYS_MS = [200, 1_000, 3_000] as const;

/**
 * The intake rule shared by every channel: run the work that takes an input in (validate it,
 * dispatch it); if it fails, classify the failure ({@link classifyIntakeError}), retry a
 * transient one a bounded number of times with backoff, then keep the input as a dead letter
 * (raw form and reason, in the store), raise one alert for it, and resolve, so the channel can
 * acknowledge the input and go on with the next one. The channel answers the sender with
 * `failure.reply` when it has one.
 *
 * Rejects only when the input must stay with its sender: the host is stopping
 * (`IntakeClosedError`), or the dead letter itself could not be stored (the store is down:
 * nothing could be taken, and acknowledging would lose the input).
 *
 * The success path is one `await`: classification happens only on errors.
 *
 * @example
 * ```ts
 * const guard = ctx.resolve(IntakeGuardToken);
 * const outcome = await guard.take(
 *   { channel: 'telegram', key: `telegram:update:${update.update_id}`, raw: () => JSON.stringify(update) },
 *   () => inbound.handle(update),
 * );
 * if (!outcome.ok && outcome.failure.reply) answer(chat, outcome.failure.reply);
 * // either way: confirm the update
 * ```
 */
export class IntakeGuard {
  readonly #deps: IntakeGuardDeps;
  readonly #delays: readonly number[];
  readonly #replays = new Map<string, (raw: string) => Promise<IntakeOutcome<unknown>>>();

  constructor(deps: IntakeGuardDeps) {
    this.#deps = deps;
    this.#delays = deps.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  }

  take<T>(source: IntakeSource, work: () => Promise<T>): Promise<IntakeOutcome<T>> {
    // One span per input, `agentd.intake` (a no-op without an OpenTelemetry SDK): what the work
    // starts (the task's enqueue, a store write) nests under it.
    return inSpan('agentd.intake', { 'agentd.channel': source.channel }, async (span) => {
      try {
        return { ok: true, value: await work() };
      } catch (error) {
        const outcome = await this.#failed(source, work, error);
        if (!outcome.ok) {
          span.setAttributes({
            'agentd.intake.code': outcome.failure.code,
            'agentd.dead_letter': outcome.deadLetter.id,
          });
        }
        return outcome;
      }
    });
  }

  async #failed<T>(
    source: IntakeSource,
    work: () => Promise<T>,
    first: unknown,
  ): Promise<IntakeOutcome<T>> {
    let error = first;
    let failure = this.#classify(error);
    for (let i = 0; !failure.permanent && i < this.#delays.length; i++) {
      this.#deps.logger.warn(
        { channel: source.channel, key: source.key, code: failure.code, attempt: i + 1 },
        `could not take in a ${source.channel} input (${failure.reason}); retrying`,
      );
      await this.#sleep(this.#delays[i] as number);
      try {
        return { ok: true, value: await work() };
      } catch (again) {
        error = again;
        failure = this.#classify(again);
      }
    }
    // The store itself is out of reach (a database restart): the input is fine and stays with
    // its sender (an unconfirmed Telegram update, a webhook answered 503), who delivers it again.
    if (failure.code === 'E_STORE_UNAVAILABLE') throw error;
    const deadLetter = await this.#keep(source, failure, error);
    return { ok: false, failure, deadLetter };
  }

  #classify(error: unknown): IntakeFailure {
    if (error instanceof IntakeClosedError) throw error;
    return classifyIntakeError(error);
  }

  async #keep(source: IntakeSource, failure: IntakeFailure, error: unknown): Promise<DeadLetter> {
    const { logger, clock } = this.#deps;
    const store = this.#deps.store();
    if (!store?.addDeadLetter) {
      logger.error(
        { err: error, channel: source.channel, key: source.key },
        'could not take in an input, and this host has no store for dead letters',
      );
      throw error;
    }
    let raw: string;
    try {
      raw = source.raw();
    } catch (rawError) {
      raw = `(the raw input could not be serialised: ${errorMessage(rawError)})`;
    }
    let kept: { letter: DeadLetter; created: boolean };
    try {
      kept = await store.addDeadLetter(
        {
          channel: source.channel,
          code: failure.code,
          reason: failure.reason,
          raw,
          ...(source.key !== undefined && { key: source.key }),
          ...(source.replyTo !== undefined && { replyTo: source.replyTo }),
        },
        clock.now(),
      );
    } catch (storeError) {
      // Nowhere to keep it: the input stays with its sender, who delivers it again.
      logger.error(
        { err: storeError, cause: failure.reason, channel: source.channel, key: source.key },
        'could not take in an input, nor keep it as a dead letter; it stays with its sender',
      );
      throw error;
    }
    const { letter, created } = kept;
    if (created) {
      logger.warn(
        {
          channel: source.channel,
          key: source.key,
          deadLetter: letter.id,
          code: failure.code,
          permanent: failure.permanent,
        },
        `kept a ${source.channel} input as dead letter ${letter.id}: ${failure.reason}`,
      );
      await raiseAlert(this.#deps.notifier(), this.#deps.events, {
        severity: 'warning',
        source: source.channel,
        title: `A ${source.channel} input could not be taken`,
        message: `dead letter ${letter.id} (${failure.code}): ${failure.reason}. \`agentd dead-letters\` lists it; \`agentd dead-letters --discard ${letter.id}\` clears it.`,
        // One alert per dead letter, never folded into another's cooldown.
        dedupeKey: `dead-letter:${letter.id}`,
      });
    }
    return letter;
  }

  /**
   * Lets {@link IntakeGuard.retry} hand the channel's dead letters back to it: `replay` takes
   * the raw input in again (through {@link IntakeGuard.take}, with the same key). Returns the
   * function that removes it (call it when the channel stops).
   */
  onRetry(channel: string, replay: (raw: string) => Promise<IntakeOutcome<unknown>>): () => void {
    this.#replays.set(channel, replay);
    return () => {
      if (this.#replays.get(channel) === replay) this.#replays.delete(channel);
    };
  }

  /**
   * Takes an open dead letter in again through its channel (once the cause is fixed: the agent
   * is back, the limit raised). Taken, it is marked `retried`; failing again, it stays open and
   * no second alert is raised. Throws `E_NOT_FOUND`, `E_CONFLICT` (not open), `E_TRUNCATED`
   * (only part of it was kept) or `E_NO_REPLAY` (its channel does not run in this host).
   *
   * @example
   * ```ts
   * const { outcome } = await guard.retry('dl_7');
   * outcome.ok; // true: taken in this time
   * ```
   */
  async retry(id: string): Promise<{ letter: DeadLetter; outcome: IntakeOutcome<unknown> }> {
    const store = this.#deps.store();
    if (!store?.getDeadLetter || !store.settleDeadLetter) {
      throw new AgentdError('E_NO_DEAD_LETTERS', 'this host has no store for dead letters');
    }
    const letter = await store.getDeadLetter(id);
    if (!letter) throw new AgentdError('E_NOT_FOUND', `no dead letter with id ${id}`);
    if (letter.status !== 'open') {
      throw new AgentdError('E_CONFLICT', `dead letter ${id} is already ${letter.status}`);
    }
    if (letter.truncated) {
      throw new AgentdError(
        'E_TRUNCATED',
        `only the first ${formatSize(Buffer.byteLength(letter.raw))} of dead letter ${id} were kept: it cannot be taken in again`,
      );
    }
    const replay = this.#replays.get(letter.channel);
    if (!replay) {
      throw new AgentdError(
        'E_NO_REPLAY',
        `channel "${letter.channel}" does not run in this host, or cannot take its dead letters again`,
      );
    }
    const outcome = await replay(letter.raw);
    if (!outcome.ok) return { letter, outcome };
    const settled = await store.settleDeadLetter(id, 'retried', this.#deps.clock.now());
    return { letter: settled ?? letter, outcome };
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#deps.clock.setTimeout(resolve, ms));
  }
}

/**
 * The host's {@link IntakeGuard}, provided by the kernel to every plugin.
 *
 * @example
 * ```ts
 * const guard = ctx.resolve(IntakeGuardToken);
 * ```
 */
export const IntakeGuardToken = createToken<IntakeGuard>('agentd.intake-guard');
