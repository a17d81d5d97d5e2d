import type { Address, InboundMessage, InboundRouter, Logger } from '@agentd/core';
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
   * rate-limited send must not hold up the next update.
   */
  reply: (to: Address, text: string, inReplyTo: number) => void;
  isAllowed: (userId: string) => boolean;
  texts: { refusal: string; welcome: string; textOnly: string };
  /** The bot's username, to recognise `/command@username` in groups. */
  username: () => string | undefined;
  logger: Logger;
  now: () => number;
}

/**
 * Turns Telegram updates into inbound messages for the host's router. Only messages with a
 * sender are taken: edits, channel posts and messages from bots are skipped. A user not on the
 * allow-list gets a polite refusal and nothing is stored; a message without text or caption
 * gets a "text only" answer; `/start` gets the welcome. Everything else is dispatched with the
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
    const message = update.message;
    if (!message?.from || message.from.is_bot) {
      this.#deps.logger.debug(
        { updateId: update.update_id },
        'skipped an update without a user message',
      );
      return;
    }
    const to = addressOf(this.#deps.channel, message);
    const userId = String(message.from.id);
    if (!this.#deps.isAllowed(userId)) {
      this.#refuse(to, userId, message.message_id);
      return;
    }
    const text = this.#commandWithoutUsername(message.text ?? message.caption ?? '');
    if (text.trim() === '') {
      this.#deps.reply(to, this.#deps.texts.textOnly, message.message_id);
      return;
    }
    if (/^\/start(\s|$)/.test(text)) {
      this.#deps.reply(to, this.#deps.texts.welcome, message.message_id);
      return;
    }
    const inbound: InboundMessage = {
      id: `${message.chat.id}:${message.message_id}`,
      from: to,
      sender: { id: userId, displayName: displayName(message) },
      text,
      receivedAt: message.date * 1000,
      metadata: {
        telegram: {
          updateId: update.update_id,
          messageId: message.message_id,
          chatType: message.chat.type,
          ...(message.from.language_code ? { languageCode: message.from.language_code } : {}),
        },
      },
    };
    const receipt = await this.#deps.router.dispatch(inbound);
    if (receipt.reply) this.#deps.reply(to, receipt.reply, message.message_id);
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
    this.#deps.reply(to, this.#deps.texts.refusal, messageId);
  }

  /** `/tasks@my_bot args` → `/tasks args` when `my_bot` is this bot (commands in groups). */
  #commandWithoutUsername(text: string): string {
    const username = this.#deps.username();
    if (!username || !text.startsWith('/')) return text;
    return text.replace(
      /^(\/[A-Za-z0-9_]+)@([A-Za-z0-9_]+)/,
      (whole, command: string, to: string) =>
        to.toLowerCase() === username.toLowerCase() ? command : whole,
    );
  }
}

function addressOf(channel: string, message: Message): Address {
  const to: Address = { channel, id: String(message.chat.id) };
  if (message.is_topic_message && message.message_thread_id !== undefined) {
    to.thread = String(message.message_thread_id);
  }
  return to;
}

function displayName(message: Message): string | undefined {
  const from = message.from;
  if (!from) return undefined;
  const full = [from.first_name, from.last_name].filter(Boolean).join(' ');
  return full || from.username;
}
