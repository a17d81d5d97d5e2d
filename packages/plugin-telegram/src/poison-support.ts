import {
  type Agent,
  type Alert,
  agent,
  createHost,
  type Host,
  type Plugin,
  type Task,
  type TaskStore,
  TaskStoreToken,
} from '@agentd/core';
import { memoryLogger, useTestHosts } from '@agentd/core/testing';
import { sqlite } from '@agentd/store-sqlite';
import { afterEach, expect } from 'vitest';
import type { TelegramOptions } from './options.js';
import { telegram } from './plugin.js';
import { FakeBotApi } from './testing/fake-bot-api.js';

/** Test users on the allow-list. */
export const ALICE = { id: 42, firstName: 'Alice' };
export const BOB = { id: 43, firstName: 'Bob' };
export const CAROL = { id: 44, firstName: 'Carol' };
/** Answers within this long, on a machine shared with other test runs. */
export const ANSWER_WITHIN_MS = 8_000;

/** A real host with a real SQLite store, polling the fake Bot API. */
export interface PoisonBot {
  host: Host;
  api: FakeBotApi;
  store: TaskStore;
  alerts: Alert[];
  logs: () => string;
  tasks: () => Promise<Task[]>;
}

/** Echoes its input. */
export const echo = agent('echo', async (input) => `echo: ${String(input)}`);

/**
 * Hosts for the poison and adversarial suites: each test's hosts stop and fake servers close
 * after it. Call at the top level of a test file.
 */
export function usePoisonBots(prefix: string) {
  const apis: FakeBotApi[] = [];
  afterEach(async () => {
    await Promise.all(apis.splice(0).map((api) => api.close()));
  });
  const { hosts, dbPath } = useTestHosts(prefix);

  async function fakeApi(): Promise<FakeBotApi> {
    const api = await FakeBotApi.start({ token: '123456:POISON-test' });
    apis.push(api);
    return api;
  }

  async function startBot(
    options: {
      path?: string;
      agents?: Agent[];
      api?: FakeBotApi;
      plugins?: Plugin[];
      telegram?: Partial<TelegramOptions>;
    } = {},
  ): Promise<PoisonBot> {
    const api = options.api ?? (await fakeApi());
    const { logger, text } = memoryLogger();
    const host = createHost({
      logger,
      agents: options.agents ?? [echo],
      plugins: [
        sqlite({ path: options.path ?? dbPath() }),
        telegram({
          token: api.token,
          apiRoot: api.url,
          allowedUsers: [ALICE.id, BOB.id, CAROL.id],
          pollTimeoutSeconds: 1,
          ...options.telegram,
        }),
        ...(options.plugins ?? []),
      ],
    });
    const alerts: Alert[] = [];
    host.events.on('alert', (alert) => void alerts.push(alert));
    hosts.push(host);
    await host.start();
    const store = host.resolve(TaskStoreToken);
    return { host, api, store, alerts, logs: text, tasks: () => store.list({ limit: 1000 }) };
  }

  return { startBot, fakeApi, dbPath };
}

/**
 * Bob and Carol write after whatever came before; both must be answered within
 * {@link ANSWER_WITHIN_MS}, and their updates confirmed.
 */
export async function othersAreServed(bot: PoisonBot): Promise<void> {
  const started = Date.now();
  const before = (chat: number) => bot.api.messages(chat).length;
  const [bobBefore, carolBefore] = [before(BOB.id), before(CAROL.id)];
  const tag = Math.random().toString(36).slice(2, 8);
  const last = [bot.api.sendText(BOB, `bob ${tag}`), bot.api.sendText(CAROL, `carol ${tag}`)];
  const bob = await bot.api.waitForMessages(bobBefore + 1, {
    chatId: BOB.id,
    timeoutMs: ANSWER_WITHIN_MS,
  });
  const carol = await bot.api.waitForMessages(carolBefore + 1, {
    chatId: CAROL.id,
    timeoutMs: ANSWER_WITHIN_MS,
  });
  expect(bob.at(-1)?.text).toBe(`echo: bob ${tag}`);
  expect(carol.at(-1)?.text).toBe(`echo: carol ${tag}`);
  expect(Date.now() - started).toBeLessThan(ANSWER_WITHIN_MS);
  await bot.api.waitFor(() => bot.api.confirmedBelow > Math.max(...last));
}

/** The alerts raised for dead letters. */
export const deadLetterAlerts = (bot: PoisonBot): Alert[] =>
  bot.alerts.filter((a) => a.title === 'A telegram input could not be taken');
