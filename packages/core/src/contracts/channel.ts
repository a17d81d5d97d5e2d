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
  /**
   * The name this host goes by on the channel (a Telegram bot's username), when the channel
   * knows it. A command addressed as `/cmd@name` is this host's when `name` matches (case
   * aside) and another bot's when it does not: the router ignores those. Unset, every
   * `/cmd@name` counts as this host's.
   */
  botName?: string;
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
  /**
   * Set when no earlier attempt with this `idempotencyKey` can have delivered anything: the
   * reply outbox's first attempt right after the task ended (no other deliverer may take the
   * reply for `REPLY_HOLD_MS`). A channel that remembers the parts it delivered per key may skip
   * looking them up then; it still records what it delivers, for a retry.
   */
  firstAttempt?: boolean;
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
  /**
   * Says what is wrong with `to` as an address of this channel (a Telegram chat id that is not
   * a number), or undefined when it could be one. Checked before work is accepted for it (the
   * HTTP API's `replyTo`), so a reply is not owed to an address that can never take it.
   */
  checkAddress?(to: Address): string | undefined;
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
  /**
   * `accepted`: persisted as a task; `duplicate`: seen before; `handled`: a middleware (a
   * command) answered it; `refused`: a middleware turned it down (a budget); `ignored`: not for
   * this host (a command addressed to another bot), nothing stored or answered.
   */
  outcome: 'accepted' | 'duplicate' | 'handled' | 'refused' | 'ignored';
  /** The task created (or found, for a duplicate), when there is one. */
  taskId?: string;
  /** Text the channel should send back at once (a command's answer, a refusal). */
  reply?: string;
}

/** An inbound text that starts with `/name`, parsed once by the router. */
export interface ParsedCommand {
  /** The command without its slash and mention, as typed: `new` for `/new@my_bot work`. */
  name: string;
  /** The words after the command, split on whitespace. */
  args: string[];
  /** Everything after the command, trimmed (for commands that take free text). */
  argText: string;
  /** The bot named after `@` (`my_bot` in `/new@my_bot`), when there was one. */
  addressedTo?: string;
  /** The message text with the `@name` mention removed: `/new work`. */
  text: string;
}

/**
 * What a middleware sees: the message, its command (when it is one addressed to this host),
 * and the task the end of the chain will enqueue, which a middleware may change before it
 * calls `next()`.
 */
export interface InboundContext {
  readonly message: InboundMessage;
  /** The parsed command when the text is `/name ...` addressed to this host, else undefined. */
  readonly command: ParsedCommand | undefined;
  /**
   * The task this message becomes if every middleware calls `next()`. Defaults: the text (with
   * a `@botname` mention removed) as input, type `message`, the channel message id as
   * idempotency key, the user's conversation as session key, the sender as `replyTo`, the
   * sender id and channel metadata as metadata. Change fields in place (`ctx.task.agent = ...`)
   * or replace the object.
   */
  task: NewTask;
}

/** Runs the rest of the chain; resolves with its receipt. Call it at most once. */
export type InboundNext = () => Promise<DispatchReceipt>;

/**
 * One link of the inbound chain (Koa, Hono and grammY style). Answer the message yourself by
 * returning a receipt without calling `next` (a command, a refusal), or pass it on with
 * `return next()`, after changing `ctx.task` if you like. Code after `await next()` sees the
 * receipt of everything downstream (the created task's id).
 *
 * @example
 * ```ts
 * const vipAgent: InboundMiddleware = (ctx, next) => {
 *   if (ctx.message.sender.id === '42') ctx.task.agent = 'claude';
 *   return next();
 * };
 * ```
 */
export type InboundMiddleware = (
  ctx: InboundContext,
  next: InboundNext,
) => Promise<DispatchReceipt> | DispatchReceipt;

/**
 * Where in the chain a middleware runs. The chain is `commands`, then `admission`, then
 * `routing`, each in registration order, then the enqueue:
 * - `commands`: answers without a task (`/sessions`, `/system`); runs first, so a command
 *   still works for a user over budget.
 * - `admission`: refuses work (budgets, quotas) before anything is made for it.
 * - `routing`: shapes the task (its session, agent, metadata). The default.
 */
export type InboundPhase = 'commands' | 'admission' | 'routing';

/** Options of {@link InboundRouter.use}. */
export interface UseOptions {
  /** Default `commands` for a {@link CommandMiddleware}, `routing` for any other. */
  phase?: InboundPhase;
}

/** A command as channels publish it (Telegram's command menu). */
export interface CommandInfo {
  /** Without the slash: `sessions`. */
  name: string;
  /** One line for the menu: `List your sessions`. */
  description: string;
}

/** A middleware made by `command()`: it carries its name and description for the menu. */
export type CommandMiddleware = InboundMiddleware & { readonly command: CommandInfo };

/**
 * Where channels hand inbound messages. `dispatch` waits at the readiness barrier until every
 * plugin has started, and resolves only once the message is persisted, so a channel may
 * acknowledge the message to its sender (confirm the update, answer 2xx) only after it resolves.
 * Rejects with `IntakeClosedError` while the host stops: do not acknowledge then.
 *
 * Plugins add {@link InboundMiddleware} with `use`, in `register` or `start`; the chain's end
 * enqueues the task (idempotency key: the channel message id).
 *
 * @example
 * ```ts
 * const router = ctx.resolve(InboundRouterToken);
 * router.use(command('ping', () => 'pong', { description: 'Check that the host answers' }));
 * router.use((inbound, next) => (quotaLeft() ? next() : { outcome: 'refused', reply: 'Quota used up.' }), {
 *   phase: 'admission',
 * });
 * const receipt = await router.dispatch(message); // { outcome: 'accepted', taskId: '...' }
 * ```
 */
export interface InboundRouter {
  dispatch(message: InboundMessage): Promise<DispatchReceipt>;
  /**
   * Adds a middleware to the chain, in its phase (see {@link InboundPhase}) after the ones
   * already there. Returns a function that removes it.
   */
  use(middleware: InboundMiddleware, options?: UseOptions): () => void;
  /** The commands registered with `command()`, in chain order, for channels to publish. */
  commands(): CommandInfo[];
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
