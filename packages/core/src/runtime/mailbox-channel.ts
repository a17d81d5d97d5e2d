import { z } from 'zod';
import type {
  Address,
  AnswerSender,
  Channel,
  DispatchReceipt,
  InboundRouter,
  OutboundMessage,
  SendOptions,
  SentMessage,
} from '../contracts/channel.js';
import type { Clock } from '../contracts/clock.js';
import { HttpError } from '../contracts/http.js';
import type { JsonValue } from '../contracts/json.js';
import type { StateStore } from '../contracts/state.js';

/** A conversation id: letters, digits and `._:-`, 1 to 100 of them. */
const CONVERSATION = /^[A-Za-z0-9._:-]{1,100}$/;
/** Messages a conversation keeps for a client to fetch. */
const KEEP_PER_CONVERSATION = 200;
/** How long a delivered message is kept in the StateStore (a client that comes back later). */
const KEEP_MS = 24 * 3600_000;
/** Idempotency keys remembered in memory. */
const MEMORY_KEYS = 10_000;

/** Longest chat message a mailbox channel's clients may post, in characters. */
export const MAX_CHAT_TEXT = 16_000;

/**
 * Text a person typed: tabs and line breaks are text, other C0 controls (NUL, ESC) and DEL are
 * not, and are refused rather than stored (an ESC sequence could act on whoever reads it).
 *
 * @example
 * ```ts
 * TYPED_TEXT.test('two\nlines'); // true
 * TYPED_TEXT.test('\u001b[2J'); // false
 * ```
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
export const TYPED_TEXT = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/u;

/** A message delivered to a conversation, as a client fetches it. */
export interface ChatMessage {
  /** Position in the conversation; the cursor of the next fetch (`after`). Sorts as text. */
  seq: string;
  text: string;
  /** Epoch milliseconds of delivery. */
  at: number;
  /** `client` for a message the client posted (kept with `keepInbound`); absent for the host's. */
  from?: 'client';
}

/**
 * Tells whether `id` may name a conversation of a mailbox channel.
 *
 * @example
 * ```ts
 * isConversationId('terminal-alice'); // true
 * isConversationId('a/b'); // false
 * ```
 */
export function isConversationId(id: string): boolean {
  return CONVERSATION.test(id);
}

const chatPostSchema = z
  .object({
    text: z
      .string()
      .min(1)
      .max(MAX_CHAT_TEXT)
      .regex(TYPED_TEXT, 'must not contain control characters')
      .refine((t) => t.trim() !== '', 'must not be blank'),
    /** The client's id of the message: sending it again is recognised, not run twice. */
    id: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'must be 1-100 letters, digits and ._:- characters')
      .optional(),
    /** How the sender is shown (logs, session listings). */
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
      .optional(),
  })
  .strict();

/** A chat message as a client posts it: `{ text, id?, name? }`. */
export type ChatPost = z.infer<typeof chatPostSchema>;

/**
 * Checks a posted chat message body; throws a 400 {@link HttpError} that names every problem
 * (blank, too long, control characters, a bad id, unknown fields, wrong types).
 *
 * @example
 * ```ts
 * const { text, id } = parseChatPost(request.json());
 * ```
 */
export function parseChatPost(body: unknown): ChatPost {
  const parsed = chatPostSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(
    (i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`,
  );
  throw new HttpError(400, 'bad_request', `invalid message: ${issues.join('; ')}`);
}

/** Options of {@link MailboxChannel}. */
export interface MailboxChannelOptions {
  /** The channel's name (`Address.channel` of its addresses): `api`, `web`. */
  name: string;
  /** The StateStore namespace of its messages (default `mailbox:<name>`). */
  namespace?: string;
  /** The host's StateStore, read per use (absent: messages live in memory only). */
  state: () => StateStore | undefined;
  clock: Clock;
}

/** What {@link MailboxChannel.receive} hands the router. */
export interface MailboxInbound {
  conversation: string;
  /**
   * The client's message id, unique in its conversation: a repeat is recognised (outcome
   * `duplicate`).
   */
  id: string;
  text: string;
  /** How the sender is shown. */
  name?: string;
}

/** Options of {@link MailboxChannel.receive}. */
export interface ReceiveOptions {
  /**
   * Keep the client's message in the conversation's mailbox too (marked `from: 'client'`), so a
   * client that comes back reads both sides, and refuse a repeat of its id before the router
   * sees it (outcome `duplicate`, nothing run again: not even a command).
   */
  keepInbound?: boolean;
}

/**
 * A chat {@link Channel} whose clients read their replies from a mailbox per conversation
 * (a long poll): the HTTP API's `api` channel, the dashboard's `web` channel. A send is
 * recorded (in the StateStore when the host has one, so it survives a restart, and in memory)
 * before it resolves, so the reply outbox counts it delivered only once a client can fetch it;
 * the same idempotency key is delivered once.
 *
 * @example
 * ```ts
 * const chat = new MailboxChannel({ name: 'web', state: () => state, clock });
 * await chat.receive(router, answers, { conversation: 'local', id: 'm-1', text: 'hello' });
 * const { messages } = await chat.read('local', '', 30_000); // the agent's reply, once it ran
 * ```
 */
export class MailboxChannel implements Channel {
  readonly name: string;
  readonly #namespace: string;
  readonly #state: () => StateStore | undefined;
  readonly #clock: Clock;
  readonly #boxes = new Map<string, ChatMessage[]>();
  readonly #waiters = new Map<string, Set<() => void>>();
  /** Idempotency keys delivered (memory; the StateStore holds them across restarts). */
  readonly #delivered = new Set<string>();
  #counter = 0;
  #stopping = false;

  constructor(options: MailboxChannelOptions) {
    this.name = options.name;
    this.#namespace = options.namespace ?? `mailbox:${options.name}`;
    this.#state = options.state;
    this.#clock = options.clock;
  }

  checkAddress(to: Address): string | undefined {
    return isConversationId(to.id)
      ? undefined
      : 'a conversation id is 1-100 letters, digits and ._:- characters';
  }

  /**
   * Hands a client's message to the router as this channel's (commands, budgets and sessions
   * apply as on any channel) and puts a command's answer or a refusal in the conversation's
   * mailbox (through the reply outbox when the host has one). Resolves once the message is
   * persisted (or answered): only then may the client be told it was taken.
   */
  async receive(
    router: InboundRouter,
    answers: AnswerSender | undefined,
    inbound: MailboxInbound,
    options: ReceiveOptions = {},
  ): Promise<DispatchReceipt> {
    const from = { channel: this.name, id: inbound.conversation };
    let kept: { seq: string; key: string } | undefined;
    if (options.keepInbound) {
      const key = `in:${inbound.conversation}:${inbound.id}`;
      if (!(await this.#claim(key))) return { outcome: 'duplicate' };
      try {
        const [seq] = (await this.#append(inbound.conversation, inbound.text, undefined, 'client'))
          .ids;
        kept = { seq: seq!, key };
      } catch (error) {
        await this.#release(key);
        throw error;
      }
    }
    let receipt: DispatchReceipt;
    try {
      receipt = await router.dispatch({
        // The router keys a message by channel and id: the conversation in the id keeps two
        // clients' ids apart (both may number their messages from 1).
        id: `${inbound.conversation}:${inbound.id}`,
        from,
        sender: {
          id: inbound.conversation,
          ...(inbound.name !== undefined && { displayName: inbound.name }),
        },
        text: inbound.text,
        receivedAt: this.#clock.now(),
      });
    } catch (error) {
      // Not taken (the host stops): the client may send it again, with the same id.
      if (kept) await this.#unkeep(inbound.conversation, kept.seq, kept.key);
      throw error;
    }
    if (receipt.reply !== undefined) {
      const key = `${this.name}:answer:${inbound.conversation}:${inbound.id}`;
      await (answers
        ? answers.answer(from, receipt.reply, { key })
        : this.send(from, { text: receipt.reply }, { idempotencyKey: key }));
    }
    return receipt;
  }

  /** Marks `key` taken, in memory and in the StateStore (atomically); false when it was. */
  async #claim(key: string): Promise<boolean> {
    if (this.#delivered.has(key)) return false;
    this.#remember(key);
    const state = this.#state();
    if (!state) return true;
    if (!(await state.compareAndSet(this.#namespace, `key:${key}`, undefined, 1))) return false;
    // compareAndSet keeps no TTL: set again so the claim is forgotten with the message.
    await state.set(this.#namespace, `key:${key}`, 1, { ttlMs: KEEP_MS });
    return true;
  }

  async #release(key: string): Promise<void> {
    this.#delivered.delete(key);
    await this.#state()?.delete(this.#namespace, `key:${key}`);
  }

  async #unkeep(conversation: string, seq: string, key: string): Promise<void> {
    const box = this.#boxes.get(conversation);
    const at = box?.findIndex((m) => m.seq === seq) ?? -1;
    if (at !== -1) box?.splice(at, 1);
    await this.#state()?.delete(this.#namespace, `msg:${conversation}/${seq}`);
    await this.#release(key);
  }

  async send(
    to: Address,
    message: OutboundMessage,
    options: SendOptions = {},
  ): Promise<SentMessage> {
    const state = this.#state();
    const key = options.idempotencyKey;
    if (key !== undefined) {
      // Marked before any await: two sends of one reply at once (a sweep meeting the first
      // attempt) must not both pass the check.
      if (this.#delivered.has(key)) return { ids: [] };
      this.#remember(key);
      if (state !== undefined && (await state.get(this.#namespace, `key:${key}`)) !== undefined) {
        return { ids: [] };
      }
    }
    try {
      return await this.#append(to.id, message.text, key);
    } catch (error) {
      if (key !== undefined) this.#delivered.delete(key);
      throw error;
    }
  }

  async #append(
    conversation: string,
    text: string,
    key: string | undefined,
    from?: 'client',
  ): Promise<SentMessage> {
    const state = this.#state();
    // Loaded before this message is stored, or the load would find it and it would count twice.
    const box = await this.#box(conversation);
    const at = this.#clock.now();
    const seq = `${String(at).padStart(15, '0')}-${String(++this.#counter).padStart(9, '0')}`;
    const entry: ChatMessage = { seq, text, at, ...(from && { from }) };
    if (state) {
      await state.set(
        this.#namespace,
        `msg:${conversation}/${seq}`,
        { ...entry },
        { ttlMs: KEEP_MS },
      );
      if (key !== undefined)
        await state.set(this.#namespace, `key:${key}`, seq, { ttlMs: KEEP_MS });
    }
    box.push(entry);
    if (box.length > KEEP_PER_CONVERSATION) box.splice(0, box.length - KEEP_PER_CONVERSATION);
    const waiters = this.#waiters.get(conversation);
    if (waiters) for (const wake of [...waiters]) wake();
    return { ids: [seq] };
  }

  /**
   * The messages of `conversation` after the cursor `after` (`''`: all kept), waiting up to
   * `timeoutMs` for one to arrive when there is none yet.
   */
  async read(
    conversation: string,
    after: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<{ messages: ChatMessage[] }> {
    const newer = async () => (await this.#box(conversation)).filter((m) => m.seq > after);
    const now = await newer();
    if (now.length > 0 || timeoutMs <= 0 || signal?.aborted || this.#stopping) {
      return { messages: now };
    }
    await new Promise<void>((resolve) => {
      let waiters = this.#waiters.get(conversation);
      if (!waiters) {
        waiters = new Set();
        this.#waiters.set(conversation, waiters);
      }
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        waiters.delete(done);
        if (waiters.size === 0) this.#waiters.delete(conversation);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
    return { messages: await newer() };
  }

  #remember(key: string): void {
    this.#delivered.add(key);
    // The StateStore remembers for a day; memory only needs the recent ones.
    if (this.#delivered.size > MEMORY_KEYS) {
      const oldest = this.#delivered.values().next().value;
      if (oldest !== undefined) this.#delivered.delete(oldest);
    }
  }

  /**
   * Wakes every waiting read and makes later reads answer at once (the host stops: a long poll
   * must not hold the drain up). A host is not started twice, so this is for good.
   */
  wakeAll(): void {
    this.#stopping = true;
    for (const waiters of this.#waiters.values()) for (const wake of [...waiters]) wake();
  }

  /** The conversation's messages in memory, loaded from the StateStore on first use. */
  async #box(conversation: string): Promise<ChatMessage[]> {
    let box = this.#boxes.get(conversation);
    if (box) return box;
    const state = this.#state();
    const stored = state ? await state.list(this.#namespace, `msg:${conversation}/`) : [];
    box = this.#boxes.get(conversation);
    if (box) return box;
    box = stored
      .map(({ value }) => value as JsonValue as unknown as ChatMessage)
      .sort((a, b) => (a.seq < b.seq ? -1 : 1))
      .slice(-KEEP_PER_CONVERSATION);
    this.#boxes.set(conversation, box);
    return box;
  }
}
