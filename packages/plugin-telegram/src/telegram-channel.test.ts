import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentdError } from '@agentd/core';
import { memoryLogger } from '@agentd/core/testing';
import { openSqliteStore, type SqliteStore } from '@agentd/store-sqlite';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pollingApi, sendingApi } from './apis.js';
import { TELEGRAM_TEXT_LIMIT } from './split-text.js';
import { TelegramChannel } from './telegram-channel.js';
import { FakeBotApi } from './testing/fake-bot-api.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-telegram-channel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let api: FakeBotApi;
let store: SqliteStore;
let n = 0;

beforeEach(async () => {
  api = await FakeBotApi.start({ token: '77:channel-test-token' });
  store = openSqliteStore({ path: join(dir, `state-${++n}.db`) });
});
afterEach(async () => {
  await api.close();
  await store.close();
});

function channel(options: { maxDelaySeconds?: number; withState?: boolean } = {}) {
  return new TelegramChannel({
    name: 'telegram',
    api: sendingApi(api.token, api.url, options.maxDelaySeconds ?? 5),
    activityApi: pollingApi(api.token, api.url, 1),
    state: () => (options.withState === false ? undefined : store.state),
    logger: memoryLogger().logger,
  });
}

const to = { channel: 'telegram', id: '42' };
const threeParts = ['a', 'b', 'c'].map((c) => c.repeat(TELEGRAM_TEXT_LIMIT)).join('');

describe('TelegramChannel.send', () => {
  it('returns the ids of the parts it delivered', async () => {
    const sent = await channel().send(to, { text: threeParts });
    expect(sent.ids).toEqual(['1', '2', '3']);
    expect(api.messages(42).map((m) => (m.text as string)[0])).toEqual(['a', 'b', 'c']);
  });

  it('delivers a retried send only once, and after a failure only the parts still missing', async () => {
    const bot = channel();
    // The second part fails for good (a 5xx past the retries): the send rejects after one part.
    api.failNext(
      'sendMessage',
      { status: 400, description: 'Bad Request: try later' },
      { after: 1 },
    );
    await expect(
      bot.send(to, { text: threeParts }, { idempotencyKey: 'task:1:completed' }),
    ).rejects.toThrow(/try later/);
    expect(api.messages(42)).toHaveLength(1);

    const retried = await bot.send(
      to,
      { text: threeParts },
      { idempotencyKey: 'task:1:completed' },
    );
    expect(api.messages(42).map((m) => (m.text as string)[0])).toEqual(['a', 'b', 'c']);
    expect(retried.ids).toHaveLength(3);

    const again = await bot.send(to, { text: threeParts }, { idempotencyKey: 'task:1:completed' });
    expect(again.ids).toEqual(retried.ids);
    expect(api.messages(42)).toHaveLength(3);
  });

  it('on a first attempt looks up no delivered parts, but records them for a retry', async () => {
    let lookups = 0;
    const counting = new Proxy(store.state, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property === 'get') lookups++;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const bot = new TelegramChannel({
      name: 'telegram',
      api: sendingApi(api.token, api.url, 5),
      activityApi: pollingApi(api.token, api.url, 1),
      state: () => counting,
      logger: memoryLogger().logger,
    });
    const key = 'task:2:completed';
    const first = await bot.send(
      to,
      { text: threeParts },
      { idempotencyKey: key, firstAttempt: true },
    );
    expect(lookups).toBe(0);
    expect(first.ids).toHaveLength(3);
    // A retry (not a first attempt) finds them all delivered and sends nothing again.
    const retried = await bot.send(to, { text: threeParts }, { idempotencyKey: key });
    expect(lookups).toBe(1);
    expect(retried.ids).toEqual(first.ids);
    expect(api.messages(42)).toHaveLength(3);
  });

  it('resolves a delivered send whose record could not be written, so it is not sent again', async () => {
    let failures = 1;
    const flaky = new Proxy(store.state, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property === 'set') {
          return (...args: Parameters<typeof target.set>) =>
            failures-- > 0
              ? Promise.reject(new AgentdError('E_STORE_UNAVAILABLE', 'the store is busy'))
              : target.set(...args);
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { logger, lines } = memoryLogger();
    const bot = new TelegramChannel({
      name: 'telegram',
      api: sendingApi(api.token, api.url, 5),
      activityApi: pollingApi(api.token, api.url, 1),
      state: () => flaky,
      logger,
    });
    const key = 'task:3:completed';
    // The first part's record fails: the send goes on, and the later parts' records hold all.
    const sent = await bot.send(to, { text: threeParts }, { idempotencyKey: key });
    expect(sent.ids).toEqual(['1', '2', '3']);
    // pino's warn level is 40.
    expect(lines().some((l) => l.level === 40 && /could not be recorded/.test(l.msg ?? ''))).toBe(
      true,
    );
    const retried = await bot.send(to, { text: threeParts }, { idempotencyKey: key });
    expect(retried.ids).toEqual(sent.ids);
    expect(api.messages(42)).toHaveLength(3);
  });

  it('without a state store, or without a key, sends every time', async () => {
    const bot = channel({ withState: false });
    await bot.send(to, { text: 'hi' }, { idempotencyKey: 'k' });
    await bot.send(to, { text: 'hi' }, { idempotencyKey: 'k' });
    await channel().send(to, { text: 'hi' });
    await channel().send(to, { text: 'hi' });
    expect(api.messages(42)).toHaveLength(4);
  });

  it('follows a group that became a supergroup to its new chat id', async () => {
    api.failNext('sendMessage', {
      status: 400,
      description: 'Bad Request: group chat was upgraded to a supergroup chat',
      migrateToChatId: -1001234567890,
    });
    await channel().send({ channel: 'telegram', id: '-555' }, { text: 'still here' });
    expect(api.messages(-1001234567890).map((m) => m.text)).toEqual(['still here']);
  });

  it('fails when Telegram asks to wait longer than allowed, without the token in the error', async () => {
    api.failNext('sendMessage', { status: 429, retryAfter: 3600 });
    const error = await channel({ maxDelaySeconds: 1 })
      .send(to, { text: 'later' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentdError);
    expect((error as AgentdError).code).toBe('E_TELEGRAM_SEND');
    expect((error as Error).message).toMatch(
      /could not send to Telegram chat 42: sendMessage: Too Many Requests/,
    );
    expect(JSON.stringify(error)).not.toContain(api.token);
  });

  it('sends HTML with parse_mode, Markdown and plain text as they are, into a topic, quietly', async () => {
    const bot = channel();
    const topic = { channel: 'telegram', id: '-100777', thread: '12' };
    await bot.send(topic, { text: '<b>bold</b>', format: 'html', silent: true, inReplyTo: '5' });
    await bot.send(topic, { text: '*not bold* (1.5)', format: 'markdown' });
    const [html, markdown] = api.messages(-100777);
    expect(html).toMatchObject({
      parse_mode: 'HTML',
      message_thread_id: 12,
      disable_notification: true,
      reply_parameters: { message_id: 5, allow_sending_without_reply: true },
    });
    expect(markdown).toMatchObject({ text: '*not bold* (1.5)', message_thread_id: 12 });
    expect(markdown?.parse_mode).toBeUndefined();
  });

  it('keeps one chat’s messages in order when the first one has to wait out a 429', async () => {
    api.failNext('sendMessage', { status: 429, retryAfter: 1 });
    const bot = channel();
    await Promise.all([1, 2, 3].map((n) => bot.send(to, { text: `reply ${n}` })));
    expect(api.messages(42).map((m) => m.text)).toEqual(['reply 1', 'reply 2', 'reply 3']);
  });

  it('fails a send at once on a server error, for the outbox to retry later', async () => {
    api.failNext('sendMessage', { status: 502 });
    await expect(channel().send(to, { text: 'x' })).rejects.toThrow(
      /sendMessage: Internal Server Error/,
    );
    expect(api.calls.filter((c) => c.method === 'sendMessage')).toHaveLength(1);
  });

  it('sends HTML too long for one message as its plain text, and skips blank parts', async () => {
    const html = `<b>${'x'.repeat(TELEGRAM_TEXT_LIMIT)}</b> &amp; <i>more</i>`;
    await channel().send(to, { text: html, format: 'html' });
    const parts = api.messages(42);
    expect(parts.map((p) => p.parse_mode)).toEqual([undefined, undefined]);
    expect(parts.map((p) => p.text).join('')).toBe(`${'x'.repeat(TELEGRAM_TEXT_LIMIT)} & more`);

    const blankTail = `${'a'.repeat(3000)}\n${'\n'.repeat(3000)}`;
    const sent = await channel().send(to, { text: blankTail });
    expect(sent.ids).toHaveLength(1);
    expect(await channel().send(to, { text: '   ' })).toEqual({ ids: [] });
  });

  it('fails to show activity without the token in the error when Telegram is unreachable', async () => {
    const bot = channel();
    await api.close();
    const error = await bot.indicateActivity(to).catch((e: unknown) => e);
    expect((error as AgentdError).code).toBe('E_TELEGRAM_SEND');
    expect(JSON.stringify(error)).not.toContain(api.token);
    expect((error as Error).message).not.toContain(api.token);
    api = await FakeBotApi.start({ token: '77:channel-test-token' }); // for afterEach
  });

  it('shows "typing" in the chat', async () => {
    await channel().indicateActivity(to);
    expect(api.calls.find((c) => c.method === 'sendChatAction')?.params).toMatchObject({
      chat_id: 42,
      action: 'typing',
    });
  });
});

describe('TelegramChannel.checkAddress', () => {
  it('takes chat ids and public usernames, and says what is wrong with anything else', () => {
    const bot = channel();
    for (const id of ['42', '-1001234567890', '@agentd_news']) {
      expect(bot.checkAddress({ channel: 'telegram', id }), id).toBeUndefined();
    }
    expect(bot.checkAddress({ channel: 'telegram', id: '42', thread: '7' })).toBeUndefined();
    for (const id of ['', 'alice', '12ab', '@ab', '4 2', '1'.repeat(30)]) {
      expect(bot.checkAddress({ channel: 'telegram', id }), id).toMatch(/chat id is a number/);
    }
    expect(bot.checkAddress({ channel: 'telegram', id: '42', thread: 'general' })).toMatch(/topic/);
  });
});
