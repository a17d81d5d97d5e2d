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
import { type Api, GrammyError } from 'grammy';
import { grammySignal } from './grammy-signal.js';
import { splitText } from './split-text.js';
import { describeError } from './update-poller.js';

/** StateStore namespace of the parts already delivered per idempotency key. */
const SENT_NAMESPACE = 'telegram.sent';
/** A retried send comes within the reply outbox's hour or so; keep the record a week. */
const SENT_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * What {@link TelegramChannel} needs.
 *
 * @example
 * ```ts
 * new TelegramChannel({ name: 'telegram', api, state: () => stateStore, logger });
 * ```
 */
export interface TelegramChannelDeps {
  name: string;
  api: Api;
  /** Where delivered parts are remembered per idempotency key (absent: no de-duplication). */
  state: () => StateStore | undefined;
  logger: Logger;
}

// Telegram chat ids fit in 52 bits; a JSON number carries them exactly.
function chatIdOf(to: Address): number | string {
  return /^-?\d+$/.test(to.id) ? Number(to.id) : to.id;
}

/**
 * The Telegram {@link Channel}: sends a message to a chat (and topic), split into parts at
 * Telegram's 4,096-unit limit. `html` is sent with `parse_mode: HTML`; `markdown` and `plain`
 * as plain text, because Telegram's MarkdownV2 rejects any unescaped special character and an
 * agent's Markdown rarely survives it. Rate limits (429 with `retry_after`) and server errors are
 * retried by grammY's auto-retry before `send` rejects. A group that became a supergroup is
 * followed to its new chat id.
 *
 * With an idempotency key and a StateStore, the parts delivered are remembered: a retried send
 * delivers only the parts still missing, so a reply is never shown twice.
 *
 * @example
 * ```ts
 * await channel.send({ channel: 'telegram', id: '42' }, { text: 'Done: 3 files changed.' });
 * ```
 */
export class TelegramChannel implements Channel {
  readonly name: string;
  readonly #deps: TelegramChannelDeps;

  constructor(deps: TelegramChannelDeps) {
    this.name = deps.name;
    this.#deps = deps;
  }

  async send(
    to: Address,
    message: OutboundMessage,
    options: SendOptions = {},
  ): Promise<SentMessage> {
    const parts = splitText(message.text);
    const state = options.idempotencyKey === undefined ? undefined : this.#deps.state();
    const key = options.idempotencyKey ?? '';
    const ids: string[] = state ? await sentIds(state, key) : [];
    let chatId = chatIdOf(to);
    for (let i = ids.length; i < parts.length; i++) {
      const other = {
        ...(to.thread === undefined ? {} : { message_thread_id: Number(to.thread) }),
        ...(message.format === 'html' ? { parse_mode: 'HTML' as const } : {}),
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
      const text = parts[i] as string;
      let sent: { message_id: number };
      try {
        sent = await this.#deps.api.sendMessage(chatId, text, other, grammySignal(options.signal));
      } catch (error) {
        const migrated = migratedChatId(error);
        if (migrated === undefined) throw sendError(error, to);
        this.#deps.logger.info(
          { from: chatId, to: migrated },
          'the group became a supergroup: sending to its new chat id',
        );
        chatId = migrated;
        try {
          sent = await this.#deps.api.sendMessage(
            chatId,
            text,
            other,
            grammySignal(options.signal),
          );
        } catch (retryError) {
          throw sendError(retryError, to);
        }
      }
      ids.push(String(sent.message_id));
      if (state) await state.set(SENT_NAMESPACE, key, ids, { ttlMs: SENT_TTL_MS });
    }
    return { ids };
  }

  async indicateActivity(to: Address): Promise<void> {
    await this.#deps.api.sendChatAction(chatIdOf(to), 'typing', {
      ...(to.thread === undefined ? {} : { message_thread_id: Number(to.thread) }),
    });
  }
}

async function sentIds(state: StateStore, key: string): Promise<string[]> {
  const value = await state.get(SENT_NAMESPACE, key);
  return Array.isArray(value) ? value.map(String) : [];
}

function migratedChatId(error: unknown): number | undefined {
  return error instanceof GrammyError ? error.parameters.migrate_to_chat_id : undefined;
}

function sendError(error: unknown, to: Address): AgentdError {
  return new AgentdError(
    'E_TELEGRAM_SEND',
    `could not send to Telegram chat ${to.id}: ${describeError(error)}`,
  );
}
