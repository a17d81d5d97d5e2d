import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A JSON object as the Bot API sends and receives it. */
export type BotApiObject = Record<string, unknown>;

/** One call the fake server received. */
export interface RecordedCall {
  method: string;
  params: BotApiObject;
  /** Set when the fake refused the call (a wrong token, or a failure set by `failNext`). */
  failed?: boolean;
  /** When the fake received it (epoch ms). */
  at: number;
}

/** How the fake answers the next call(s) of a method instead of serving it. */
export type FakeFailure =
  | { status: 429; retryAfter: number }
  | { status: 500 | 502 | 503 }
  | { status: 400; description: string; migrateToChatId?: number }
  | { status: 401 }
  | { status: 'malformed' };

/** Who sends a fake message. */
export interface FakeUser {
  id: number;
  firstName?: string;
  username?: string;
  isBot?: boolean;
}

/**
 * Options for {@link FakeBotApi.start}.
 *
 * @example
 * ```ts
 * const api = await FakeBotApi.start({ token: '123:test' });
 * ```
 */
export interface FakeBotApiOptions {
  /** The token the fake accepts; any other answers 401 Unauthorized (default `123456:TEST`). */
  token?: string;
  /** The bot's user name in `getMe` (default `agentd_test_bot`). */
  username?: string;
}

interface PendingPoll {
  offset: number;
  limit: number;
  respond: (updates: BotApiObject[]) => void;
  /** Ends the poll with 409 Conflict. */
  conflict: () => void;
}

interface Waiter {
  predicate: () => boolean;
  resolve: () => void;
}

const BOT_ID = 900_000_001;

/**
 * A fake Telegram Bot API server on 127.0.0.1 for tests: real HTTP, the real long-polling
 * protocol (`getUpdates` with `offset` confirms, `timeout` holds the request open), and the
 * calls a bot makes recorded in order. It can be told to fail a method's next calls (429 with
 * `retry_after`, 5xx, a group's migration, malformed JSON) and to deliver confirmed updates
 * again, as Telegram may after a crash. Point a bot at it with `apiRoot: api.url`.
 *
 * @example
 * ```ts
 * import { FakeBotApi } from '@agentd/plugin-telegram/testing';
 *
 * const api = await FakeBotApi.start();
 * const host = createHost({
 *   plugins: [sqlite({ path }), telegram({ token: api.token, apiRoot: api.url, allowedUsers: [42] })],
 *   agents: [agent('echo', (input) => `you said: ${input}`)],
 * });
 * await host.start();
 * api.sendText({ id: 42 }, 'hello');
 * const [reply] = await api.waitForMessages(1);
 * reply.text; // 'you said: hello'
 * await host.stop();
 * await api.close();
 * ```
 */
export class FakeBotApi {
  /** The `apiRoot` to give the bot (no trailing slash). */
  readonly url: string;
  /** The token the fake accepts. */
  readonly token: string;
  /** Every call received, in order (including failed ones). */
  readonly calls: RecordedCall[] = [];
  /**
   * The most `getUpdates` calls that were open at once: 1 when the bot polls from one place at a
   * time, as Telegram requires.
   */
  maxOpenPolls = 0;
  /**
   * Long polls ended with 409 Conflict because another `getUpdates` came while they were open,
   * as Telegram ends them ("terminated by other getUpdates request").
   */
  conflicts = 0;

  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #username: string;
  readonly #updates: BotApiObject[] = [];
  readonly #failures = new Map<string, (FakeFailure | undefined)[]>();
  readonly #polls = new Set<PendingPoll>();
  readonly #waiters = new Set<Waiter>();
  /** Methods whose calls are left unanswered for now, and the calls waiting. */
  readonly #held = new Map<string, (() => void)[]>();
  readonly #messageIds = new Map<string, number>();
  #nextUpdateId = 1000;
  #confirmedBelow = 0;

  private constructor(server: Server, url: string, options: FakeBotApiOptions) {
    this.#server = server;
    this.url = url;
    this.token = options.token ?? '123456:TEST';
    this.#username = options.username ?? 'agentd_test_bot';
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** The bot's connections open now (keep-alive ones too): 0 once a stopped bot has hung up. */
  get openConnections(): number {
    return this.#sockets.size;
  }

  /** Starts a fake server on a free loopback port. */
  static async start(options: FakeBotApiOptions = {}): Promise<FakeBotApi> {
    let fake: FakeBotApi | undefined;
    const server = createServer((req, res) => {
      // A request whose body breaks off is dropped, as a real server would.
      if (fake) fake.#serve(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeBotApi(server, `http://127.0.0.1:${port}`, options);
    return fake;
  }

  /**
   * Queues an update; gives it the next `update_id` unless it has one. Returns the id.
   *
   * @example
   * ```ts
   * api.pushUpdate({ edited_message: { message_id: 1, date: 0, chat: { id: 1, type: 'private' } } });
   * ```
   */
  pushUpdate(update: BotApiObject): number {
    const id = typeof update.update_id === 'number' ? update.update_id : this.#nextUpdateId++;
    this.#nextUpdateId = Math.max(this.#nextUpdateId, id + 1);
    this.#updates.push({ ...update, update_id: id });
    this.#answerPolls();
    return id;
  }

  /**
   * Queues a text message from `user` in their private chat (or in `chatId`); returns the
   * update's id. `text: undefined` sends a sticker instead.
   */
  sendText(
    user: FakeUser,
    text: string | undefined,
    options: { chatId?: number; messageId?: number; caption?: string } = {},
  ): number {
    const chatId = options.chatId ?? user.id;
    const message: BotApiObject = {
      message_id: options.messageId ?? this.#nextMessageId(chatId),
      date: Math.floor(Date.now() / 1000),
      chat:
        chatId === user.id
          ? { id: chatId, type: 'private', first_name: user.firstName ?? 'Test' }
          : { id: chatId, type: 'group', title: 'Test group' },
      from: {
        id: user.id,
        is_bot: user.isBot ?? false,
        first_name: user.firstName ?? 'Test',
        ...(user.username ? { username: user.username } : {}),
      },
    };
    if (text !== undefined) message.text = text;
    else if (options.caption !== undefined) {
      message.photo = [{ file_id: 'photo', file_unique_id: 'p', width: 1, height: 1 }];
      message.caption = options.caption;
    } else {
      message.sticker = { file_id: 'sticker', file_unique_id: 's', type: 'regular' };
    }
    return this.pushUpdate({ message });
  }

  /**
   * Makes calls of `method` fail as `failure` says instead of being served: `times` calls
   * (default 1), after letting `after` calls through first (default 0).
   *
   * @example
   * ```ts
   * api.failNext('sendMessage', { status: 429, retryAfter: 1 });
   * api.failNext('sendMessage', { status: 500 }, { after: 1 }); // the second call fails
   * ```
   */
  failNext(
    method: string,
    failure: FakeFailure,
    options: { times?: number; after?: number } = {},
  ): void {
    const queue = this.#failures.get(method) ?? [];
    for (let i = 0; i < (options.after ?? 0); i++) queue.push(undefined);
    for (let i = 0; i < (options.times ?? 1); i++) queue.push(failure);
    this.#failures.set(method, queue);
  }

  /**
   * Leaves the calls of `method` unanswered, as a slow Telegram would, until the returned
   * function is called: then the calls held are served in the order they came, and later ones
   * at once. A held call keeps its connection busy; it is recorded when it is served.
   *
   * @example
   * ```ts
   * const release = api.hold('sendMessage');
   * await api.waitFor(() => api.heldCalls >= 3);
   * release();
   * ```
   */
  hold(method: string): () => void {
    if (!this.#held.has(method)) this.#held.set(method, []);
    return () => {
      const waiting = this.#held.get(method) ?? [];
      this.#held.delete(method);
      for (const serve of waiting) serve();
    };
  }

  /** Calls held by {@link hold} and not yet answered. */
  get heldCalls(): number {
    let n = 0;
    for (const waiting of this.#held.values()) n += waiting.length;
    return n;
  }

  /**
   * Forgets confirmations from `updateId` on, so those updates are delivered again: what
   * Telegram does when a bot crashed before confirming (at-least-once delivery).
   */
  redeliverFrom(updateId: number): void {
    this.#confirmedBelow = Math.min(this.#confirmedBelow, updateId);
    this.#answerPolls();
  }

  /** Updates are confirmed below this id (the highest `offset` a bot passed). */
  get confirmedBelow(): number {
    return this.#confirmedBelow;
  }

  /** The `sendMessage` calls that succeeded, in order, optionally only to one chat. */
  messages(chatId?: number | string): BotApiObject[] {
    return this.#served('sendMessage').filter(
      (p) => chatId === undefined || String(p.chat_id) === String(chatId),
    );
  }

  /**
   * The command menu the bot published last with `setMyCommands` in the default scope (no
   * `scope`, no `language_code`), or undefined when it published none.
   *
   * @example
   * ```ts
   * api.commandMenu()?.map((c) => c.command); // ['sessions', 'new', 'system']
   * ```
   */
  commandMenu(): { command: string; description: string }[] | undefined {
    const published = this.#served('setMyCommands').filter(
      (p) => p.scope === undefined && p.language_code === undefined,
    );
    const last = published.at(-1);
    return last ? (last.commands as { command: string; description: string }[]) : undefined;
  }

  /** Calls of `method` that were served (not failed on purpose). */
  #served(method: string): BotApiObject[] {
    return this.calls.filter((c) => c.method === method && !c.failed).map((c) => c.params);
  }

  /** Resolves once `count` messages were sent (to `chatId`, when given), or rejects after `timeoutMs`. */
  async waitForMessages(
    count: number,
    options: { chatId?: number | string; timeoutMs?: number } = {},
  ): Promise<BotApiObject[]> {
    await this.waitFor(
      () => this.messages(options.chatId).length >= count,
      options.timeoutMs ?? 10_000,
      `${count} sent message(s)`,
    );
    return this.messages(options.chatId);
  }

  /**
   * Resolves once `predicate` holds, or rejects after `timeoutMs`. It is checked now and after
   * each call the fake receives, so it suits conditions on what the bot asked of the fake.
   */
  waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'the condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`fake Bot API: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Answers pending long polls with nothing and closes the server. */
  async close(): Promise<void> {
    for (const poll of this.#polls) poll.respond([]);
    this.#polls.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #nextMessageId(chatId: number | string): number {
    const key = String(chatId);
    const next = (this.#messageIds.get(key) ?? 0) + 1;
    this.#messageIds.set(key, next);
    return next;
  }

  #record(call: Omit<RecordedCall, 'at'>): void {
    this.calls.push({ ...call, at: Date.now() });
    for (const waiter of this.#waiters) if (waiter.predicate()) waiter.resolve();
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? '/', this.url).pathname);
    const body = await readBody(req);
    if (!match) return reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    const [, token, method = ''] = match;
    let params: BotApiObject = {};
    try {
      if (body.length > 0) params = JSON.parse(body) as BotApiObject;
    } catch {
      return reply(res, 400, { ok: false, error_code: 400, description: 'Bad Request: bad JSON' });
    }
    if (token !== this.token) {
      this.#record({ method, params, failed: true });
      return reply(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    }
    const failure = this.#failures.get(method)?.shift();
    if (failure) {
      this.#record({ method, params, failed: true });
      return fail(res, failure);
    }
    if (method === 'getUpdates') return this.#getUpdates(params, res);
    const held = this.#held.get(method);
    if (held) {
      held.push(() => this.#answer(method, params, res));
      for (const waiter of this.#waiters) if (waiter.predicate()) waiter.resolve();
      return;
    }
    this.#answer(method, params, res);
  }

  #answer(method: string, params: BotApiObject, res: ServerResponse): void {
    const result = this.#result(method, params);
    this.#record({ method, params });
    if (result === undefined) {
      reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    } else {
      reply(res, 200, { ok: true, result });
    }
  }

  #result(method: string, params: BotApiObject): unknown {
    switch (method) {
      case 'getMe':
        return {
          id: BOT_ID,
          is_bot: true,
          first_name: 'agentd test',
          username: this.#username,
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
        };
      case 'sendMessage': {
        const chatId = params.chat_id as number | string;
        return {
          message_id: this.#nextMessageId(chatId),
          date: Math.floor(Date.now() / 1000),
          chat: { id: Number(chatId), type: 'private' },
          from: { id: BOT_ID, is_bot: true, first_name: 'agentd test' },
          text: params.text,
        };
      }
      case 'sendChatAction':
      case 'setWebhook':
      case 'deleteWebhook':
      case 'setMyCommands':
        return true;
      default:
        return undefined;
    }
  }

  #getUpdates(params: BotApiObject, res: ServerResponse): void {
    const offset = typeof params.offset === 'number' ? params.offset : 0;
    if (offset > this.#confirmedBelow) this.#confirmedBelow = offset;
    const limit = typeof params.limit === 'number' ? params.limit : 100;
    const timeoutSeconds = typeof params.timeout === 'number' ? params.timeout : 0;
    this.#record({ method: 'getUpdates', params });
    // Telegram serves one poller per bot: a new poll ends the open ones with 409 Conflict.
    this.maxOpenPolls = Math.max(this.maxOpenPolls, this.#polls.size + 1);
    for (const open of [...this.#polls]) {
      this.conflicts++;
      open.conflict();
    }
    const poll: PendingPoll = {
      offset,
      limit,
      respond: (updates) => {
        clearTimeout(timer);
        this.#polls.delete(poll);
        reply(res, 200, { ok: true, result: updates });
      },
      conflict: () => {
        clearTimeout(timer);
        this.#polls.delete(poll);
        reply(res, 409, {
          ok: false,
          error_code: 409,
          description:
            'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
        });
      },
    };
    const timer = setTimeout(() => poll.respond([]), timeoutSeconds * 1000);
    res.on('close', () => {
      clearTimeout(timer);
      this.#polls.delete(poll);
    });
    const ready = this.#available(poll);
    if (ready.length > 0 || timeoutSeconds === 0) poll.respond(ready);
    else this.#polls.add(poll);
  }

  #available(poll: PendingPoll): BotApiObject[] {
    const from = Math.max(poll.offset, this.#confirmedBelow);
    return this.#updates
      .filter((u) => (u.update_id as number) >= from)
      .sort((a, b) => (a.update_id as number) - (b.update_id as number))
      .slice(0, poll.limit);
  }

  #answerPolls(): void {
    for (const poll of this.#polls) {
      const ready = this.#available(poll);
      if (ready.length > 0) poll.respond(ready);
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function fail(res: ServerResponse, failure: FakeFailure): void {
  if (failure.status === 'malformed') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok": tru');
    return;
  }
  reply(res, failure.status, { ok: false, error_code: failure.status, ...failureDetails(failure) });
}

function failureDetails(failure: Exclude<FakeFailure, { status: 'malformed' }>): BotApiObject {
  switch (failure.status) {
    case 429:
      return {
        description: `Too Many Requests: retry after ${failure.retryAfter}`,
        parameters: { retry_after: failure.retryAfter },
      };
    case 400:
      return {
        description: failure.description,
        ...(failure.migrateToChatId === undefined
          ? {}
          : { parameters: { migrate_to_chat_id: failure.migrateToChatId } }),
      };
    case 401:
      return { description: 'Unauthorized' };
    default:
      return { description: 'Internal Server Error' };
  }
}
