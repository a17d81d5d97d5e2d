import {
  type Address,
  AgentdError,
  type Channel,
  type Logger,
  type OutboundMessage,
  type SendOptions,
  type SentMessage,
  type StateStore,
} from '@agentd/core';
import type { Api } from 'grammy';
import { describeError, isGrammyError } from './describe-error.js';
import { grammySignal, withDeadline } from './signals.js';
import { splitText, TELEGRAM_TEXT_LIMIT } from './split-text.js';

/** StateStore namespace of the parts already delivered per idempotency key. */
const SENT_NAMESPACE = 'telegram.sent';
/** A retried send comes within the reply outbox's hour or so; keep the record a week. */
const SENT_TTL_MS = 7 * 24 * 3600 * 1000;
/**
 * The longest one `send` may take, retries included (up to a second more: sends share their
 * deadline timers, see `sharedDeadline`). The reply outbox holds a reply it took up for 60 s; a
 * send that ends before lets the outbox retry it without another host sending it meanwhile.
 */
export const SEND_DEADLINE_MS = 45_000;
/** "typing…" shows for about 5 s; a chat action that takes longer is not worth waiting for. */
const ACTIVITY_DEADLINE_MS = 5_000;

/**
 * What {@link TelegramChannel} needs.
 *
 * @example
 * ```ts
 * new TelegramChannel({ name: 'telegram', api, activityApi, state: () => stateStore, logger });
 * ```
 */
export interface TelegramChannelDeps {
  name: string;
  /** Sends messages; may retry inside a call (grammY's auto-retry for 429). */
  api: Api;
  /** Sends chat actions: best effort, no retries. */
  activityApi: Api;
  /** Where delivered parts are remembered per idempotency key (absent: no de-duplication). */
  state: () => StateStore | undefined;
  logger: Logger;
  /** Hears each send's outcome (the plugin emits `channel.sent` / `channel.send_failed`). */
  onSent?: (outcome: { parts: number } | { code: string }) => void;
}

// Telegram chat ids fit in 52 bits; a JSON number carries them exactly.
function chatIdOf(to: Address): number | string {
  return /^-?\d+$/.test(to.id) ? Number(to.id) : to.id;
}

const HTML_ENTITIES: Record<string, string> = {
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&amp;': '&',
};

/** HTML as the plain text Telegram would show: tags dropped, the entities it knows decoded. */
function htmlToPlain(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&(lt|gt|quot|#39|amp);/g, (e) => HTML_ENTITIES[e] ?? e);
}

/**
 * The Telegram {@link Channel}: sends a message to a chat (and topic), split into parts at
 * Telegram's 4,096-unit limit. `html` that fits in one message is sent with `parse_mode: HTML`
 * (longer HTML goes as its plain text: a cut through a tag would be refused); `markdown` and
 * `plain` as plain text, because Telegram's MarkdownV2 rejects any unescaped special character
 * and an agent's Markdown rarely survives it. A 429 whose `retry_after` is short is waited out
 * (grammY's auto-retry); anything else fails the send, for the caller (the reply outbox) to
 * retry later. A group that became a supergroup is followed to its new chat id.
 *
 * Sends to one chat go out one after another, so replies keep the order of the tasks that made
 * them. With an idempotency key and a StateStore, the parts delivered are remembered: a
 * retried send delivers only the parts still missing, so a reply is not shown twice.
 *
 * @example
 * ```ts
 * await channel.send({ channel: 'telegram', id: '42' }, { text: 'Done: 3 files changed.' });
 * ```
 */
export class TelegramChannel implements Channel {
  readonly name: string;
  readonly #deps: TelegramChannelDeps;
  /** The last send queued per chat: the next one to the chat starts after it settles. */
  readonly #lastSend = new Map<string, Promise<unknown>>();

  constructor(deps: TelegramChannelDeps) {
    this.name = deps.name;
    this.#deps = deps;
  }

  /** A chat is a (possibly negative) number or a public `@username`; a topic is a number. */
  checkAddress(to: Address): string | undefined {
    if (!/^-?\d{1,20}$/.test(to.id) && !/^@[A-Za-z]\w{3,31}$/.test(to.id)) {
      return 'a Telegram chat id is a number (e.g. "123456789", "-100123") or a public @username';
    }
    if (to.thread !== undefined && !/^\d{1,20}$/.test(to.thread)) {
      return 'a Telegram topic (thread) id is a number';
    }
    return undefined;
  }

  send(to: Address, message: OutboundMessage, options: SendOptions = {}): Promise<SentMessage> {
    const chat = to.id;
    const previous = this.#lastSend.get(chat) ?? Promise.resolve();
    const next = previous.then(
      () => this.#send(to, message, options),
      () => this.#send(to, message, options),
    );
    const observe = this.#deps.onSent;
    if (observe) {
      next.then(
        (sent) => observe({ parts: sent.ids.length }),
        (error: unknown) =>
          observe({ code: error instanceof AgentdError ? error.code : 'E_TELEGRAM_SEND' }),
      );
    }
    const settled = next.catch(() => {});
    this.#lastSend.set(chat, settled);
    void settled.then(() => {
      if (this.#lastSend.get(chat) === settled) this.#lastSend.delete(chat);
    });
    return next;
  }

  async #send(to: Address, message: OutboundMessage, options: SendOptions): Promise<SentMessage> {
    const html = message.format === 'html' && message.text.length <= TELEGRAM_TEXT_LIMIT;
    const text = message.format === 'html' && !html ? htmlToPlain(message.text) : message.text;
    // Telegram refuses an empty or blank text.
    const parts = splitText(text).filter((part) => part.trim() !== '');
    const state = options.idempotencyKey === undefined ? undefined : this.#deps.state();
    const key = options.idempotencyKey ?? '';
    // A first attempt cannot have delivered anything yet: no record to look up.
    const ids: string[] = state && !options.firstAttempt ? await sentIds(state, key) : [];
    const signal = grammySignal(withDeadline(options.signal, SEND_DEADLINE_MS));
    let chatId = chatIdOf(to);
    for (let i = ids.length; i < parts.length; i++) {
      const other = {
        ...(to.thread === undefined ? {} : { message_thread_id: Number(to.thread) }),
        ...(html ? { parse_mode: 'HTML' as const } : {}),
        ...(message.silent ? { disable_notification: true } : {}),
        ...(i === 0 && message.inReplyTo !== undefined
          ? {
              reply_parameters: {
                message_id: Number(message.inReplyTo),
                allow_sending_without_reply: true,
              },
            }
          : {}),
      };
      const part = parts[i] as string;
      let sent: { message_id: number };
      try {
        sent = await this.#deps.api.sendMessage(chatId, part, other, signal);
      } catch (error) {
        const migrated = migratedChatId(error);
        if (migrated === undefined) throw sendError(error, to);
        this.#deps.logger.info(
          { from: chatId, to: migrated },
          'the group became a supergroup: sending to its new chat id',
        );
        chatId = migrated;
        try {
          sent = await this.#deps.api.sendMessage(chatId, part, other, signal);
        } catch (retryError) {
          throw sendError(retryError, to);
        }
      }
      ids.push(String(sent.message_id));
      if (state) await this.#recordSent(state, key, ids);
    }
    return { ids };
  }

  /**
   * Remembers the parts delivered so far under the send's idempotency key. A failure to write
   * it is logged, not thrown: the part is in the chat already, and a send that rejected now
   * would be retried by the outbox and show the part twice. (A later part's record carries
   * every id, so a retry still skips what went out, unless the last record is the one lost.)
   */
  async #recordSent(state: StateStore, key: string, ids: string[]): Promise<void> {
    try {
      await state.set(SENT_NAMESPACE, key, ids, { ttlMs: SENT_TTL_MS });
    } catch (error) {
      this.#deps.logger.warn(
        { err: error, parts: ids.length },
        'a Telegram message was delivered but could not be recorded as delivered; a retry of it may show it again',
      );
    }
  }

  async indicateActivity(to: Address): Promise<void> {
    try {
      await this.#deps.activityApi.sendChatAction(
        chatIdOf(to),
        'typing',
        to.thread === undefined ? {} : { message_thread_id: Number(to.thread) },
        grammySignal(AbortSignal.timeout(ACTIVITY_DEADLINE_MS)),
      );
    } catch (error) {
      throw sendError(error, to);
    }
  }
}

async function sentIds(state: StateStore, key: string): Promise<string[]> {
  const value = await state.get(SENT_NAMESPACE, key);
  return Array.isArray(value) ? value.map(String) : [];
}

function migratedChatId(error: unknown): number | undefined {
  return isGrammyError(error) ? error.parameters.migrate_to_chat_id : undefined;
}

function sendError(error: unknown, to: Address): AgentdError {
  return new AgentdError(
    'E_TELEGRAM_SEND',
    `could not send to Telegram chat ${to.id}: ${describeError(error)}`,
  );
}
