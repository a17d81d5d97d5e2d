import {
  type Address,
  type InboundMessage,
  type InboundRouter,
  InvalidInputError,
  type Logger,
} from '@agentd/core';
import { isForBot, parseCommand } from '@agentd/core/host';
import type { Message, Update } from 'grammy/types';

/** How often at most a user who is not on the allow-list is told so. */
const REFUSAL_EVERY_MS = 3600_000;
/** Refusal times are forgotten past this many users (an unknown user flood must not grow memory). */
const REFUSALS_REMEMBERED = 10_000;

/**
 * What {@link TelegramInbound} needs.
 *
 * @example
 * ```ts
 * const deps: TelegramInboundDeps = { channel: 'telegram', router, reply, isAllowed, texts, username, logger, now };
 * ```
 */
export interface TelegramInboundDeps {
  /** The channel name addresses carry. */
  channel: string;
  router: InboundRouter;
  /**
   * Sends an immediate answer (a refusal, a command's reply) in the background: a slow or
   * rate-limited send must not hold up the next update. `durable` answers go through the
   * host's reply outbox (stored, retried); a refusal to a stranger is sent once and stores
   * nothing.
   */
  reply: (to: Address, text: string, inReplyTo: number, durable: boolean) => void;
  isAllowed: (userId: string) => boolean;
  texts: { refusal: string; welcome: string; textOnly: string };
  /**
   * The bot's username, set on each inbound message as `botName`: the router then takes
   * `/command@username` in groups as this bot's and ignores `/command@otherbot`.
   */
  username: () => string | undefined;
  logger: Logger;
  now: () => number;
}

/**
 * Turns Telegram updates into inbound messages for the host's router. Only messages with a
 * sender are taken: edits, channel posts and messages from bots are skipped. A user not on the
 * allow-list gets a polite refusal and nothing is stored; a message without text or caption
 * gets a "text only" answer; `/start` gets the welcome; `/command@otherbot` is left to that
 * bot (the router ignores it, knowing this bot's name from the message's `botName`). A malformed message (no chat, a text that is not a string) throws an
 * `InvalidInputError`, which the intake guard keeps as a dead letter. Everything else is dispatched with the
 * id `<chat id>:<message id>`, which stays the same when Telegram delivers it again, so a
 * repeat is recognised as a duplicate by its task's idempotency key.
 *
 * @example
 * ```ts
 * const inbound = new TelegramInbound(deps);
 * await inbound.handle(update); // resolves once the message is persisted (answers go out behind)
 * ```
 */
export class TelegramInbound {
  readonly #deps: TelegramInboundDeps;
  readonly #refusedAt = new Map<string, number>();

  constructor(deps: TelegramInboundDeps) {
    this.#deps = deps;
  }

  async handle(update: Update): Promise<void> {
    const message = update.message as unknown;
    if (message === undefined || message === null) {
      this.#deps.logger.debug(
        { updateId: update.update_id },
        'skipped an update without a user message',
      );
      return;
    }
    const checked = checkMessage(message);
    if (!checked.from || checked.from.is_bot) {
      this.#deps.logger.debug(
        { updateId: update.update_id },
        'skipped an update without a user message',
      );
      return;
    }
    const to = addressOf(this.#deps.channel, checked);
    const userId = String(checked.from.id);
    if (!this.#deps.isAllowed(userId)) {
      this.#refuse(to, userId, checked.message_id);
      return;
    }
    const body = checked.text ?? checked.caption;
    if (body !== undefined && typeof body !== 'string') {
      throw new InvalidInputError(
        `the message's ${checked.text !== undefined ? 'text' : 'caption'} is not a string`,
        {
          reply: 'Sorry, I could not read that message.',
        },
      );
    }
    const text = body ?? '';
    const username = this.#deps.username();
    if (text.trim() === '') {
      this.#deps.reply(to, this.#deps.texts.textOnly, checked.message_id, true);
      return;
    }
    // `/start` is Telegram's own (the button a new user presses), so the channel answers it.
    const command = parseCommand(text);
    if (command?.name === 'start' && isForBot(command, username)) {
      this.#deps.reply(to, this.#deps.texts.welcome, checked.message_id, true);
      return;
    }
    const date = checked.date;
    const inbound: InboundMessage = {
      id: `${checked.chat.id}:${checked.message_id}`,
      from: to,
      sender: { id: userId, displayName: displayName(checked) },
      text,
      // A missing, negative or absurd date is the sender's bug: the time it arrived will do.
      receivedAt:
        typeof date === 'number' && date > 0 && date < MAX_DATE_SECONDS
          ? date * 1000
          : this.#deps.now(),
      metadata: {
        telegram: {
          updateId: update.update_id,
          messageId: checked.message_id,
          chatType: typeof checked.chat.type === 'string' ? checked.chat.type : 'unknown',
          ...(typeof checked.from.language_code === 'string'
            ? { languageCode: checked.from.language_code }
            : {}),
        },
      },
      ...(username !== undefined && { botName: username }),
    };
    const receipt = await this.#deps.router.dispatch(inbound);
    if (receipt.outcome === 'ignored') {
      this.#deps.logger.debug(
        { updateId: update.update_id, chat: to.id },
        'skipped a command addressed to another bot',
      );
    }
    if (receipt.reply) this.#deps.reply(to, receipt.reply, checked.message_id, true);
  }

  #refuse(to: Address, userId: string, messageId: number): void {
    const now = this.#deps.now();
    const last = this.#refusedAt.get(userId);
    this.#deps.logger.info(
      { user: userId, chat: to.id },
      'refused a message from a user not on the allow-list',
    );
    if (last !== undefined && now - last < REFUSAL_EVERY_MS) return;
    if (this.#refusedAt.size >= REFUSALS_REMEMBERED) this.#refusedAt.clear();
    this.#refusedAt.set(userId, now);
    this.#deps.reply(to, this.#deps.texts.refusal, messageId, false);
  }
}

/** Seconds past the epoch of the year 9999: a later `date` is not a time. */
const MAX_DATE_SECONDS = 253_402_300_799;

/** A Telegram id as JSON carries it: a safe integer (chat ids exceed 2^31, not 2^53). */
const isId = (value: unknown): value is number => Number.isSafeInteger(value);

/**
 * The message, checked for what the plugin relies on: a chat with an id, a message id, and a
 * sender (when present) with an id. Anything else is malformed: an {@link InvalidInputError},
 * which the intake guard keeps as a dead letter instead of retrying it.
 */
function checkMessage(message: unknown): Message {
  if (typeof message !== 'object' || Array.isArray(message)) {
    throw new InvalidInputError("the update's message is not an object");
  }
  const m = message as Partial<Message> & Record<string, unknown>;
  if (typeof m.chat !== 'object' || m.chat === null || !isId(m.chat.id)) {
    throw new InvalidInputError('the message has no chat with a numeric id');
  }
  if (!isId(m.message_id)) {
    throw new InvalidInputError('the message has no numeric message_id');
  }
  if (m.from !== undefined && (typeof m.from !== 'object' || m.from === null || !isId(m.from.id))) {
    throw new InvalidInputError("the message's sender has no numeric id");
  }
  return m as Message;
}

/**
 * Where an answer about `update` goes, when the update names a chat and a message (even one
 * otherwise malformed): what the intake guard's failure reply needs.
 *
 * @example
 * ```ts
 * replyTargetOf('telegram', update); // { to: { channel: 'telegram', id: '42' }, messageId: 7 }
 * ```
 */
export function replyTargetOf(
  channel: string,
  update: Update,
): { to: Address; messageId: number } | undefined {
  const m = update?.message as Partial<Message> | undefined;
  if (typeof m !== 'object' || m === null) return undefined;
  if (typeof m.chat !== 'object' || m.chat === null || !isId(m.chat.id)) return undefined;
  if (!isId(m.message_id)) return undefined;
  const from = m.from as { id?: unknown; is_bot?: unknown } | undefined;
  if (typeof from !== 'object' || from === null || !isId(from.id) || from.is_bot === true) {
    return undefined;
  }
  return { to: addressOf(channel, m as Message), messageId: m.message_id };
}

/**
 * The lane an update is handled in: its chat. One chat's updates are taken one after another,
 * in order (its session, its tasks' order); different chats' updates side by side. Updates
 * without a chat id share one lane.
 *
 * @example
 * ```ts
 * chatLaneOf(update); // '42'
 * ```
 */
export function chatLaneOf(update: Update): string {
  const chat = (update?.message as { chat?: { id?: unknown } } | null | undefined)?.chat;
  return typeof chat === 'object' && chat !== null && isId(chat.id) ? String(chat.id) : '';
}

function addressOf(channel: string, message: Message): Address {
  const to: Address = { channel, id: String(message.chat.id) };
  if (message.is_topic_message === true && isId(message.message_thread_id)) {
    to.thread = String(message.message_thread_id);
  }
  return to;
}

/**
 * Control characters (terminal escapes, NUL) and invisible format characters (bidirectional
 * overrides, zero-width spaces): a name is shown in logs and tables, where they could reorder,
 * hide or restyle text.
 */
const UNSAFE_IN_NAMES = /[\p{Cc}\p{Cf}]/gu;

function displayName(message: Message): string | undefined {
  const from = message.from;
  if (!from) return undefined;
  const parts = [from.first_name, from.last_name].filter(
    (p): p is string => typeof p === 'string' && p !== '',
  );
  const full = parts.join(' ') || (typeof from.username === 'string' ? from.username : '');
  const clean = full.replace(UNSAFE_IN_NAMES, '').slice(0, 200);
  return clean || undefined;
}
