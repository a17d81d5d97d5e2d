import type {
  Address,
  Channel,
  Clock,
  JsonValue,
  OutboundMessage,
  SendOptions,
  SentMessage,
  StateStore,
} from '@agentd/core';

/**
 * Name of the channel behind the chat routes of the HTTP API (what `agentd chat` talks to); its
 * addresses are conversation ids.
 *
 * @example
 * ```ts
 * const to = { channel: CHAT_CHANNEL, id: 'terminal-alice' };
 * ```
 */
export const CHAT_CHANNEL = 'api';

/** A conversation id: letters, digits and `._:-`, 1 to 100 of them. */
const CONVERSATION = /^[A-Za-z0-9._:-]{1,100}$/;
/** Messages a conversation keeps for a client to fetch. */
const KEEP_PER_CONVERSATION = 200;
/** How long a delivered message is kept in the StateStore (a client that comes back later). */
const KEEP_MS = 24 * 3600_000;
const NAMESPACE = 'chat-channel';
/** Idempotency keys remembered in memory. */
const MEMORY_KEYS = 10_000;

/** A message delivered to a conversation, as a client fetches it. */
export interface ChatMessage {
  /** Position in the conversation; the cursor of the next fetch (`after`). Sorts as text. */
  seq: string;
  text: string;
  /** Epoch milliseconds of delivery. */
  at: number;
}

/**
 * Tells whether `id` may name a conversation of the chat channel.
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

/**
 * The chat {@link Channel}: a mailbox per conversation that HTTP clients read with a long poll.
 * A send is recorded (in the StateStore when the host has one, so it survives a restart, and in
 * memory) before it resolves, so the reply outbox counts it delivered only once a client can
 * fetch it; the same idempotency key is delivered once.
 *
 * @example
 * ```ts
 * const chat = new ChatChannel(() => state, clock);
 * await chat.send({ channel: 'api', id: 'terminal-alice' }, { text: 'hello' });
 * const { messages } = await chat.read('terminal-alice', '', 1000);
 * ```
 */
export class ChatChannel implements Channel {
  readonly name = CHAT_CHANNEL;
  readonly #state: () => StateStore | undefined;
  readonly #clock: Clock;
  readonly #boxes = new Map<string, ChatMessage[]>();
  readonly #waiters = new Map<string, Set<() => void>>();
  /** Idempotency keys delivered (memory; the StateStore holds them across restarts). */
  readonly #delivered = new Set<string>();
  #counter = 0;

  constructor(state: () => StateStore | undefined, clock: Clock) {
    this.#state = state;
    this.#clock = clock;
  }

  checkAddress(to: Address): string | undefined {
    return isConversationId(to.id)
      ? undefined
      : 'a conversation id is 1-100 letters, digits and ._:- characters';
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
      if (state !== undefined && (await state.get(NAMESPACE, `key:${key}`)) !== undefined) {
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

  async #append(conversation: string, text: string, key: string | undefined): Promise<SentMessage> {
    const state = this.#state();
    // Loaded before this message is stored, or the load would find it and it would count twice.
    const box = await this.#box(conversation);
    const at = this.#clock.now();
    const seq = `${String(at).padStart(15, '0')}-${String(++this.#counter).padStart(9, '0')}`;
    const entry: ChatMessage = { seq, text, at };
    if (state) {
      await state.set(NAMESPACE, `msg:${conversation}/${seq}`, { ...entry }, { ttlMs: KEEP_MS });
      if (key !== undefined) await state.set(NAMESPACE, `key:${key}`, seq, { ttlMs: KEEP_MS });
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
    if (now.length > 0 || timeoutMs <= 0 || signal?.aborted) return { messages: now };
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

  /** Wakes every waiting read (the host stops: a long poll must not hold the drain up). */
  wakeAll(): void {
    for (const waiters of this.#waiters.values()) for (const wake of [...waiters]) wake();
  }

  /** The conversation's messages in memory, loaded from the StateStore on first use. */
  async #box(conversation: string): Promise<ChatMessage[]> {
    let box = this.#boxes.get(conversation);
    if (box) return box;
    const state = this.#state();
    const stored = state ? await state.list(NAMESPACE, `msg:${conversation}/`) : [];
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
