import { setTimeout as sleep } from 'node:timers/promises';
import {
  agent,
  ChannelRegistryToken,
  command,
  createHost,
  HealthRegistryToken,
  type Host,
  InboundRouterToken,
  NotifierToken,
  type Plugin,
  type Task,
  TaskStoreToken,
} from '@agentd/core';
import type { CommandsConfig } from '@agentd/core/chat-commands';
import { memoryLogger, useTestHosts } from '@agentd/core/testing';
import { sqlite } from '@agentd/store-sqlite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SENDING_CONNECTIONS } from './bot-api-fetch.js';
import type { TelegramOptions } from './options.js';
import { telegram } from './plugin.js';
import { TELEGRAM_TEXT_LIMIT } from './split-text.js';
import { FakeBotApi } from './testing/fake-bot-api.js';

// Vitest runs afterEach hooks last-registered first: the hosts stop before their servers close.
const apis: FakeBotApi[] = [];
afterEach(async () => {
  await Promise.all(apis.splice(0).map((api) => api.close()));
});
const { hosts, dbPath } = useTestHosts('agentd-telegram-');

const ALICE = { id: 42, firstName: 'Alice' };
const MALLORY = { id: 666, firstName: 'Mallory' };
const BIG_ID_USER = { id: 5_000_000_123, firstName: 'Big' }; // beyond 2^32

/** The built-in chat commands as everyone's menu lists them (no operator's /status). */
const CHAT_COMMAND_MENU = [
  { command: 'help', description: 'List the commands' },
  { command: 'tasks', description: 'Your recent tasks' },
  { command: 'task', description: 'Start a background task: /task TEXT, or see one: /task ID' },
  { command: 'cancel', description: 'Cancel a task or reminder: /cancel ID' },
  {
    command: 'remind',
    description:
      'Set a reminder: /remind 18:30 TEXT, /remind in 10m TEXT, /remind tomorrow 9:00 TEXT',
  },
  { command: 'reminders', description: 'Your pending reminders' },
  { command: 'timezone', description: 'Show or set your time zone: /timezone Europe/Berlin' },
];

async function fakeApi(): Promise<FakeBotApi> {
  const api = await FakeBotApi.start({ token: '123456:SECRET-test-token' });
  apis.push(api);
  return api;
}

interface BotHost {
  host: Host;
  logs: () => string;
  tasks: () => Promise<Task[]>;
}

async function startBot(
  api: FakeBotApi,
  options: Partial<TelegramOptions> = {},
  extra: {
    plugins?: Plugin[];
    path?: string;
    run?: (input: unknown) => unknown;
    commands?: CommandsConfig;
  } = {},
): Promise<BotHost> {
  const { logger, text } = memoryLogger();
  const host = createHost({
    logger,
    agents: [
      agent('echo', async (input) => {
        const out = extra.run ? await extra.run(input) : `echo: ${String(input)}`;
        return out as string;
      }),
    ],
    plugins: [
      sqlite({ path: extra.path ?? dbPath() }),
      telegram({
        token: api.token,
        apiRoot: api.url,
        allowedUsers: [ALICE.id, String(BIG_ID_USER.id)],
        pollTimeoutSeconds: 1,
        ...options,
      }),
      ...(extra.plugins ?? []),
    ],
    ...(extra.commands && { commands: extra.commands }),
  });
  hosts.push(host);
  await host.start();
  return { host, logs: text, tasks: () => host.resolve(TaskStoreToken).list({ limit: 1000 }) };
}

describe('telegram plugin, end to end against a fake Bot API server', () => {
  it('turns an allowed user’s message into a durable task and sends the result to the chat', async () => {
    const api = await fakeApi();
    const bot = await startBot(api);
    const updateId = api.sendText(ALICE, 'hello there');
    const [reply] = await api.waitForMessages(1);
    expect(reply).toMatchObject({ chat_id: ALICE.id, text: 'echo: hello there' });

    const [task] = await bot.tasks();
    expect(task).toMatchObject({
      status: 'completed',
      type: 'message',
      input: 'hello there',
      replyTo: { channel: 'telegram', id: String(ALICE.id) },
      idempotencyKey: `telegram:msg:${ALICE.id}:1`,
    });
    expect(task?.metadata).toMatchObject({ sender: String(ALICE.id) });
    // Confirmed to Telegram only after it was stored, by the next poll's offset.
    await api.waitFor(() => api.confirmedBelow > updateId);
    // Answered within a second: no "typing…" was worth a Bot API call.
    expect(api.calls.some((c) => c.method === 'sendChatAction')).toBe(false);
  });

  it('hangs up its connections to the Bot API when the host stops', async () => {
    const api = await fakeApi();
    const bot = await startBot(api);
    api.sendText(ALICE, 'hello');
    await api.waitForMessages(1);
    // Polling and sending keep-alive connections.
    expect(api.openConnections).toBeGreaterThan(0);
    await bot.host.stop();
    // At once, not when idle keep-alive sockets time out (undici's 4 s, the server's 5 s).
    await api.waitFor(() => api.openConnections === 0, 1_000, 'no open connection');
    expect(api.openConnections).toBe(0);
  });

  it('keeps fetching messages while every sending connection waits for Telegram', async () => {
    const api = await fakeApi();
    const bot = await startBot(api, { allowedUsers: '*' });
    const release = api.hold('sendMessage');
    // More replies than the sending pool has connections: some wait in its queue.
    for (let chat = 1; chat <= SENDING_CONNECTIONS + 8; chat++) api.sendText({ id: chat }, 'hi');
    await api.waitFor(() => api.heldCalls === SENDING_CONNECTIONS, 10_000, 'a full pool');
    // The poll open now may have started before the pool filled: two more polls, so that one
    // of them started after. A poll queued behind the replies would never reach the fake.
    const polls = () => api.calls.filter((c) => c.method === 'getUpdates').length;
    const pollsWhenFull = polls();
    await api.waitFor(() => polls() >= pollsWhenFull + 2, 10_000, 'polls after the pool filled');
    api.sendText({ id: 999 }, 'still heard');
    await vi.waitFor(async () => {
      expect((await bot.tasks()).some((t) => t.input === 'still heard')).toBe(true);
    });
    release();
    await api.waitForMessages(SENDING_CONNECTIONS + 9);
  });

  it('shows "typing…" in the chat while a task runs past a second', async () => {
    const api = await fakeApi();
    const slowly = async (input: unknown) => {
      await sleep(1_500);
      return `slow: ${String(input)}`;
    };
    await startBot(api, {}, { run: slowly });
    api.sendText(ALICE, 'think hard');
    const [reply] = await api.waitForMessages(1);
    expect(reply).toMatchObject({ chat_id: ALICE.id, text: 'slow: think hard' });
    const actions = api.calls.filter((c) => c.method === 'sendChatAction');
    expect(actions.map((c) => c.params)).toEqual([{ chat_id: ALICE.id, action: 'typing' }]);
    // Shown before the reply went out, not after.
    const sent = api.calls.findIndex((c) => c.method === 'sendMessage');
    expect(api.calls.indexOf(actions[0]!)).toBeLessThan(sent);
  });

  it('answers one chat’s messages in the order they were sent, even when a reply must wait', async () => {
    const api = await fakeApi();
    api.failNext('sendMessage', { status: 429, retryAfter: 1 });
    await startBot(
      api,
      {},
      {
        // Later messages finish faster: only ordering by session keeps the replies in order.
        run: async (input) => {
          const n = Number(String(input).replace('msg ', ''));
          await new Promise((r) => setTimeout(r, (6 - n) * 15));
          return `done ${n}`;
        },
      },
    );
    for (let n = 1; n <= 5; n++) api.sendText(ALICE, `msg ${n}`);
    const replies = await api.waitForMessages(5);
    expect(replies.map((r) => r.text)).toEqual(['done 1', 'done 2', 'done 3', 'done 4', 'done 5']);
  });

  it('refuses a user not on the allow-list, once an hour, and stores nothing', async () => {
    const api = await fakeApi();
    const bot = await startBot(api);
    api.sendText(MALLORY, 'let me in');
    const second = api.sendText(MALLORY, 'please');
    await api.waitFor(() => api.confirmedBelow > second);
    // The refusal goes out behind the poll loop, so it may arrive after the confirmation.
    await api.waitForMessages(1, { chatId: MALLORY.id });
    expect(api.messages(MALLORY.id).map((m) => m.text)).toEqual([
      'Sorry, this bot only works for the people it was set up for.',
    ]);
    expect(await bot.tasks()).toEqual([]);
    expect(bot.logs()).toContain('refused a message from a user not on the allow-list');
  });

  it('does not run a message twice when Telegram delivers it again after a restart', async () => {
    const api = await fakeApi();
    const path = dbPath();
    const first = await startBot(api, {}, { path });
    const updateId = api.sendText(ALICE, 'only once');
    await api.waitForMessages(1);
    await first.host.stop('restart');

    // At-least-once delivery: Telegram hands the same update to the restarted bot.
    api.redeliverFrom(updateId);
    const second = await startBot(api, {}, { path });
    await api.waitFor(() => api.calls.filter((c) => c.method === 'getUpdates').length > 0);
    await api.waitFor(() => api.confirmedBelow > updateId);
    const tasks = await second.tasks();
    expect(tasks).toHaveLength(1);
    expect(api.messages()).toHaveLength(1);
  });

  it('retries an update it could not store for a moment in place, then takes it in and confirms it', async () => {
    const api = await fakeApi();
    let failures = 1;
    const flakyDisk: Plugin = {
      name: 'flaky-disk',
      start(ctx) {
        ctx.resolve(InboundRouterToken).use((_inbound, next) => {
          if (failures-- > 0) {
            throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
          }
          return next();
        });
      },
    };
    const bot = await startBot(api, {}, { plugins: [flakyDisk] });
    const updateId = api.sendText(ALICE, 'survive this');
    const [reply] = await api.waitForMessages(1);
    expect(reply?.text).toBe('echo: survive this');
    expect(await bot.tasks()).toHaveLength(1);
    // A transient failure (the disk full) is retried with a backoff, not dead-lettered.
    expect(bot.logs()).toContain(
      'could not take in a telegram input (database or disk is full); retrying',
    );
    expect(await bot.host.resolve(TaskStoreToken).countOpenDeadLetters?.()).toBe(0);
    await api.waitFor(() => api.confirmedBelow > updateId);
  });

  it('splits a long reply into parts within Telegram’s limit, never inside an emoji', async () => {
    const api = await fakeApi();
    const long = `${'a'.repeat(TELEGRAM_TEXT_LIMIT - 1)}${'😀'.repeat(100)}`;
    await startBot(api, {}, { run: () => long });
    api.sendText(ALICE, 'write a lot');
    const parts = await api.waitForMessages(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(api.messages()).toHaveLength(2);
    expect(parts.map((p) => (p.text as string).length)).toEqual([TELEGRAM_TEXT_LIMIT - 1, 200]);
    expect(parts.map((p) => p.text).join('')).toBe(long);
  });

  it('waits out a 429 with retry_after and then delivers', async () => {
    const api = await fakeApi();
    api.failNext('sendMessage', { status: 429, retryAfter: 1 });
    await startBot(api);
    api.sendText(ALICE, 'busy day');
    const [reply] = await api.waitForMessages(1);
    expect(reply?.text).toBe('echo: busy day');
    const sends = api.calls.filter((c) => c.method === 'sendMessage');
    expect(sends.map((c) => c.failed ?? false)).toEqual([true, false]);
  });

  it('publishes the host’s commands as the bot’s menu once every plugin has started', async () => {
    const api = await fakeApi();
    // Added in start, after the telegram plugin started: the menu must still list it.
    const systemInfo: Plugin = {
      name: 'system-info',
      start(ctx) {
        ctx
          .resolve(InboundRouterToken)
          .use(command('system', () => 'cpu 3%', { description: 'Show CPU, memory and disks' }));
      },
    };
    const bot = await startBot(api, {}, { plugins: [systemInfo] });
    await api.waitFor(() => api.commandMenu() !== undefined, 10_000, 'the command menu');
    expect(api.commandMenu()).toEqual([
      ...CHAT_COMMAND_MENU,
      { command: 'sessions', description: 'List your sessions' },
      { command: 'new', description: 'Start a session: /new NAME [AGENT] [PERSONA...]' },
      { command: 'switch', description: 'Switch to another session: /switch NAME' },
      {
        command: 'timeout',
        description: 'Suspend the session after MINUTES idle: /timeout MINUTES [NAME]',
      },
      { command: 'archive', description: 'Archive a session: /archive NAME' },
      { command: 'system', description: 'Show CPU, memory and disks' },
    ]);
    expect(bot.logs()).not.toContain('could not publish the Telegram command menu');

    // In a group: `/system@thisbot` is answered, `/system@otherbot` left to that bot.
    api.sendText(ALICE, '/system@other_bot', { chatId: -1001 });
    api.sendText(ALICE, '/system@Agentd_Test_Bot', { chatId: -1001 });
    const [answer] = await api.waitForMessages(1, { chatId: -1001 });
    expect(answer?.text).toBe('cpu 3%');
    const last = api.sendText(ALICE, 'done', { chatId: -1001 });
    await api.waitFor(() => api.confirmedBelow > last);
    await api.waitForMessages(2, { chatId: -1001 });
    expect(api.messages(-1001).map((m) => m.text)).toEqual(['cpu 3%', 'echo: done']);
    expect((await bot.tasks()).filter((t) => t.type === 'message').map((t) => t.input)).toEqual([
      'done',
    ]);
  });

  it('keeps working when the command menu cannot be published, and says so in the log', async () => {
    const api = await fakeApi();
    api.failNext('setMyCommands', { status: 400, description: 'Bad Request: BOT_COMMAND_INVALID' });
    const bot = await startBot(api);
    await vi.waitFor(() =>
      expect(bot.logs()).toContain('could not publish the Telegram command menu'),
    );
    expect(api.commandMenu()).toBeUndefined();
    api.sendText(ALICE, '/sessions');
    const [answer] = await api.waitForMessages(1);
    expect(answer?.text).toBe('No sessions yet; send a message to start one.');
  });

  it('answers stickers with the text-only note, reads captions, welcomes /start, strips @bot from commands', async () => {
    const api = await fakeApi();
    // Unknown commands go to the agent here, so the mention's removal shows in the task.
    const bot = await startBot(api, {}, { commands: { unknown: 'agent' } });
    api.sendText(ALICE, undefined); // a sticker
    api.sendText(ALICE, undefined, { caption: 'what is in this photo?' });
    api.sendText(ALICE, '/start');
    const last = api.sendText(ALICE, '/weather@agentd_test_bot now', { chatId: -1001 });
    await api.waitFor(() => api.confirmedBelow > last);
    await api.waitForMessages(4);
    expect(api.messages(ALICE.id).map((m) => m.text)).toEqual(
      expect.arrayContaining([
        'Sorry, I can only read text messages (or the captions of photos and files).',
        'Hello! Send me a message and I will get to work on it.',
        'echo: what is in this photo?',
      ]),
    );
    const tasks = await bot.tasks();
    const inputs = tasks
      .filter((t) => t.type === 'message')
      .map((t) => t.input)
      .sort();
    expect(inputs).toEqual(['/weather now', 'what is in this photo?']);
    // The text-only note and the welcome went through the reply outbox, as sent answers.
    expect(tasks.filter((t) => t.type === 'answer').map((t) => t.result)).toEqual(
      expect.arrayContaining([
        'Sorry, I can only read text messages (or the captions of photos and files).',
        'Hello! Send me a message and I will get to work on it.',
      ]),
    );
    await vi.waitFor(async () =>
      expect(await bot.host.resolve(TaskStoreToken).countOwedReplies()).toBe(0),
    );
    const group = (await bot.tasks()).find((t) => t.input === '/weather now');
    expect(group?.replyTo).toEqual({ channel: 'telegram', id: '-1001' });
  });

  it('skips edits, channel posts and bots, and still confirms them', async () => {
    const api = await fakeApi();
    const bot = await startBot(api);
    const chat = { id: ALICE.id, type: 'private' };
    api.pushUpdate({ edited_message: { message_id: 9, date: 1, chat, text: 'edited' } });
    api.pushUpdate({ message: { message_id: 10, date: 1, chat, text: 'no sender' } });
    api.pushUpdate({
      channel_post: { message_id: 11, date: 1, chat: { id: -100, type: 'channel' }, text: 'post' },
    });
    api.sendText({ id: 77, isBot: true }, 'beep');
    const last = api.sendText(ALICE, 'real one');
    await api.waitForMessages(1);
    await api.waitFor(() => api.confirmedBelow > last);
    expect((await bot.tasks()).map((t) => t.input)).toEqual(['real one']);
  });

  it('works with user and chat ids beyond 2^32', async () => {
    const api = await fakeApi();
    await startBot(api);
    api.sendText(BIG_ID_USER, 'big');
    const [reply] = await api.waitForMessages(1, { chatId: BIG_ID_USER.id });
    expect(reply?.chat_id).toBe(BIG_ID_USER.id);
  });

  it('lets everyone in with allowedUsers "*"', async () => {
    const api = await fakeApi();
    await startBot(api, { allowedUsers: '*' });
    api.sendText(MALLORY, 'public bot');
    const [reply] = await api.waitForMessages(1);
    expect(reply?.text).toBe('echo: public bot');
  });

  it('reports a refused token in the health report, without the token, and recovers', async () => {
    const api = await fakeApi();
    api.failNext('getUpdates', { status: 401 });
    const bot = await startBot(api);
    const health = bot.host.resolve(HealthRegistryToken);
    await api.waitFor(() => api.calls.some((c) => c.method === 'getUpdates' && c.failed));
    await new Promise((r) => setTimeout(r, 50));
    const failing = await health.run();
    expect(failing.checks.telegram).toMatchObject({
      status: 'fail',
      output: 'Telegram refuses the bot token (401 Unauthorized)',
    });
    expect(JSON.stringify(failing)).not.toContain(api.token);
    // The next poll (after a backoff of about a second) succeeds.
    let status = failing.checks.telegram?.status;
    for (let waited = 0; status !== 'pass' && waited < 5000; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await health.run()).checks.telegram?.status;
    }
    expect(status).toBe('pass');
    expect(bot.logs()).toContain('polling Telegram again after failures');
  });

  it('at a stop, confirms what it answered and leaves the rest for the next start', async () => {
    const api = await fakeApi();
    const path = dbPath();
    let release: () => void = () => {};
    const first = await startBot(
      api,
      {},
      {
        path,
        run: async (input) => {
          if (input === 'slow') await new Promise<void>((r) => (release = r));
          return `echo: ${String(input)}`;
        },
      },
    );
    api.sendText(ALICE, 'slow');
    await first.host.events.next('task.started');
    // The host stops while a task runs: intake is closed, the poller still polls.
    const stopping = first.host.stop('test');
    const welcome = api.sendText(ALICE, '/start');
    const later = api.sendText(ALICE, 'after the stop');
    await api.waitForMessages(1);
    release();
    await stopping;
    expect(api.messages().map((m) => m.text)).toEqual([
      'Hello! Send me a message and I will get to work on it.',
      'echo: slow',
    ]);
    // The welcome was confirmed at the stop; the message intake refused was not.
    expect(api.confirmedBelow).toBe(welcome + 1);

    await startBot(api, {}, { path });
    const texts = () => api.messages().map((m) => m.text);
    await api.waitFor(() => texts().includes('echo: after the stop'));
    await api.waitFor(() => api.confirmedBelow > later);
    // Between them the sessions plugin may say it resumes the user's session.
    expect(texts().filter((t) => t === 'echo: after the stop')).toHaveLength(1);
    expect(texts().filter((t) => String(t).startsWith('Hello!'))).toHaveLength(1);
  });
});

describe('telegram plugin, start and secrets', () => {
  it('refuses to start with a token Telegram rejects, saying so without the token', async () => {
    const api = await fakeApi();
    const { logger, text } = memoryLogger();
    const host = createHost({
      logger,
      plugins: [
        sqlite({ path: dbPath() }),
        telegram({ token: '999:WRONG-secret-key', apiRoot: api.url, allowedUsers: [1] }),
      ],
    });
    hosts.push(host);
    const error = await host.start().catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toMatch(/refused the bot token/);
    expect(JSON.stringify(error)).not.toContain('WRONG-secret-key');
    expect(String((error as Error).message)).not.toContain('WRONG-secret-key');
    expect(text()).not.toContain('WRONG-secret-key');
  });

  it('starts while the Bot API is unreachable, keeps polling, and never logs the token', async () => {
    const { logger, text } = memoryLogger();
    const host = createHost({
      logger,
      plugins: [
        sqlite({ path: dbPath() }),
        telegram({
          token: '555:UNREACHABLE-secret',
          apiRoot: 'http://127.0.0.1:9', // discard port: nothing listens
          allowedUsers: [1],
          pollTimeoutSeconds: 1,
        }),
      ],
    });
    hosts.push(host);
    await host.start();
    const deadline = Date.now() + 5000;
    while (!text().includes('"msg":"could not reach Telegram"') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(text()).toContain('could not reach the Telegram Bot API at start');
    expect(text()).toContain('"msg":"could not reach Telegram"');
    expect(text()).toContain('ECONNREFUSED');
    expect(text()).not.toContain('UNREACHABLE-secret');
  });

  it('when Telegram answers only after the start, learns the bot’s name then and takes messages', async () => {
    const api = await fakeApi();
    api.failNext('getMe', { status: 502 });
    const bot = await startBot(api, {}, { commands: { unknown: 'agent' } });
    expect(bot.logs()).toContain('could not reach the Telegram Bot API at start');
    await api.waitFor(() => api.calls.some((c) => c.method === 'deleteWebhook'), 10_000);
    api.sendText(ALICE, '/weather@agentd_test_bot');
    const [reply] = await api.waitForMessages(1);
    expect(reply?.text).toBe('echo: /weather');
    expect(bot.logs()).toContain('reached Telegram: this is @agentd_test_bot');
  });

  it('sends the host’s alerts of the chosen severity or worse to the alert chats', async () => {
    const api = await fakeApi();
    const bot = await startBot(api, {
      alerts: { chats: [ALICE.id, '-100555'], minSeverity: 'warning' },
    });
    const notifier = bot.host.resolve(NotifierToken);
    await notifier.notify({ severity: 'info', title: 'Backup done', source: 'store' });
    await notifier.notify({
      severity: 'critical',
      title: 'Disk 97% full',
      message: '/ has 1.2 GB left',
      source: 'monitor',
    });
    await api.waitForMessages(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(api.messages(ALICE.id).map((m) => m.text)).toEqual([
      '🚨 Disk 97% full\n/ has 1.2 GB left\n— monitor',
    ]);
    expect(api.messages(-100555)).toHaveLength(1);
  });

  it('registers a channel other plugins and the reply outbox send through', async () => {
    const api = await fakeApi();
    const bot = await startBot(api);
    const channels = bot.host.resolve(ChannelRegistryToken);
    await channels.send({ channel: 'telegram', id: '42' }, { text: 'a note from a cron job' });
    expect(api.messages(42).map((m) => m.text)).toEqual(['a note from a cron job']);
  });
});
