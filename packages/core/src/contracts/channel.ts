import { createToken } from '../kernel/token.js';
import type { JsonObject } from './json.js';
import type { NewTask } from './task.js';

/**
 * Where a message comes from or goes to: a channel name plus that channel's own address
 * (a Telegram chat id, an e-mail address, a webhook route). Stored in task metadata as `replyTo`,
 * so a result finds its way back after a restart.
 */
export interface Address {
  /** Name of the channel plugin, e.g. `telegram`. */
  channel: string;
  /** The channel's id for the conversation, e.g. a chat id as a string (ids exceed 2^31). */
  id: string;
  /** Optional sub-conversation: a thread or topic id. */
  thread?: string;
}

/** Who sent an inbound message, as the channel knows them. */
export interface Sender {
  /** Stable id on the channel (a Telegram user id as a string). */
  id: string;
  displayName?: string;
}

/** A message a channel received. */
export interface InboundMessage {
  /**
   * Unique per channel and stable across re-deliveries (Telegram `update_id`, a webhook's
   * delivery id). The router turns it into the task's idempotency key, so a replay is not doubled.
   */
  id: string;
  /** Where replies go. */
  from: Address;
  sender: Sender;
  text: string;
  /** Epoch milliseconds. */
  receivedAt: number;
  /** Channel-specific extras worth keeping with the task (message id, language, attachments). */
  metadata?: JsonObject;
}

/** Text formatting of an outbound message; channels degrade to plain text when unsupported. */
export type MessageFormat = 'plain' | 'markdown' | 'html';

/** A message to deliver. */
export interface OutboundMessage {
  text: string;
  format?: MessageFormat;
  /** Channel message id this answers, when the channel supports threading replies. */
  inReplyTo?: string;
  /** Deliver without a notification sound, where supported. */
  silent?: boolean;
}

/** Options for {@link Channel.send}. */
export interface SendOptions {
  signal?: AbortSignal;
  /**
   * Same key, same message: a channel that can detect a repeat (e.g. by remembering sent keys in
   * the StateStore) must not deliver it twice when a send is retried.
   */
  idempotencyKey?: string;
}

/** What a channel reports after delivering. */
export interface SentMessage {
  /** Channel ids of the delivered parts (long texts may be split). */
  ids: string[];
}

/**
 * A way in and out of the host: Telegram, the HTTP API, e-mail, a terminal. A channel receives
 * inbound messages and hands them to the host's {@link InboundRouter}; it delivers outbound
 * messages to an address. It never touches the stores directly.
 *
 * Register channels in the {@link ChannelRegistry} from `register(ctx)`.
 *
 * @example
 * ```ts
 * const console: Channel = {
 *   name: 'console',
 *   async send(to, message) { process.stdout.write(`${message.text}\n`); return { ids: [] }; },
 * };
 * ctx.resolve(ChannelRegistryToken).add(console);
 * ```
 */
export interface Channel {
  /** Unique name, equal to `Address.channel` for its addresses. */
  readonly name: string;
  /** Delivers `message` to `to`. Rejects when delivery failed after the channel's own retries. */
  send(to: Address, message: OutboundMessage, options?: SendOptions): Promise<SentMessage>;
  /** Shows "typing..." or similar while work runs, where the channel supports it. */
  indicateActivity?(to: Address): Promise<void>;
}

/** The host's channels by name. Provided by the kernel. */
export interface ChannelRegistry {
  add(channel: Channel): void;
  get(name: string): Channel | undefined;
  list(): Channel[];
  /** Sends through the channel named in `to.channel`; rejects if there is none. */
  send(to: Address, message: OutboundMessage, options?: SendOptions): Promise<SentMessage>;
}

export const ChannelRegistryToken = createToken<ChannelRegistry>('agentd.channels');

/** What the router did with an inbound message. */
export interface DispatchReceipt {
  /** `accepted`: persisted as a task; `duplicate`: seen before; `handled`: a command answered it. */
  outcome: 'accepted' | 'duplicate' | 'handled' | 'refused';
  /** The task created (or found, for a duplicate), when there is one. */
  taskId?: string;
  /** Text the channel should send back at once (a command's answer, a refusal). */
  reply?: string;
}

/** A handler the router offers an inbound message to before it becomes a task (commands). */
export type InboundHandler = (
  message: InboundMessage,
) => Promise<DispatchReceipt | undefined> | DispatchReceipt | undefined;

/**
 * Shapes the task an inbound message becomes, after every handler declined it: sessions bind it
 * to the user's active session, budgets refuse it. Return the task (changed or not), or a receipt
 * to answer the message without a task (for example a refusal with a reply).
 */
export type EnqueueHook = (
  message: InboundMessage,
  task: NewTask,
) => Promise<NewTask | DispatchReceipt> | NewTask | DispatchReceipt;

/**
 * Where channels hand inbound messages. `dispatch` waits at the readiness barrier until every
 * plugin has started, and resolves only once the message is persisted, so a channel may
 * acknowledge the message to its sender (confirm the update, answer 2xx) only after it resolves.
 * Rejects with `IntakeClosedError` while the host stops: do not acknowledge then.
 */
export interface InboundRouter {
  dispatch(message: InboundMessage): Promise<DispatchReceipt>;
  /** Adds a handler consulted in order before the default (which makes a task). */
  use(handler: InboundHandler): () => void;
  /** Adds a hook that shapes (or refuses) the task of a message no handler took, in order. */
  beforeEnqueue?(hook: EnqueueHook): () => void;
}

export const InboundRouterToken = createToken<InboundRouter>('agentd.router');

/**
 * Delivers a channel's immediate answers (a command's reply, a refusal, a welcome) through the
 * host's reply outbox: recorded in the store, then sent, and retried like a task's reply, so
 * one failed send does not lose it. Provided by the kernel's runner plugin whenever the host
 * has a task store; `tryResolve` it and send directly when absent.
 *
 * @example
 * ```ts
 * const answers = ctx.tryResolve(AnswersToken);
 * await answers?.answer({ channel: 'telegram', id: '42' }, 'Switched to session "work".', {
 *   key: 'telegram:answer:42:17',
 *   inReplyTo: '17',
 * });
 * ```
 */
export interface AnswerSender {
  /**
   * Resolves once the answer was recorded and a first send tried (it is retried later if that
   * failed). `key` identifies the answer: the same key is answered once.
   */
  answer(to: Address, text: string, options: { key: string; inReplyTo?: string }): Promise<void>;
}

export const AnswersToken = createToken<AnswerSender>('agentd.answers');
