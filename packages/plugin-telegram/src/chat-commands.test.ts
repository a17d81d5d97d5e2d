// The built-in chat commands as a Telegram user meets them: a real host on a SQLite file,
// the Telegram plugin polling the fake Bot API server, and a manual clock for reminders.
import {
  agent,
  command,
  createHost,
  InboundRouterToken,
  type Plugin,
  type Task,
  TaskStoreToken,
} from '@agentd/core';
import type { CommandsConfig } from '@agentd/core/chat-commands';
import { ManualClock, memoryLogger, useTestHosts } from '@agentd/core/testing';
import { sqlite } from '@agentd/store-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { telegram } from './plugin.js';
import {
  type FakeBotApi,
  FakeBotApi as FakeServer,
  type FakeUser,
} from './testing/fake-bot-api.js';

const apis: FakeBotApi[] = [];
afterEach(async () => {
  await Promise.all(apis.splice(0).map((api) => api.close()));
});
const { hosts, dbPath } = useTestHosts('agentd-chat-commands-');

const ALICE = { id: 42, firstName: 'Alice' };
const BOB = { id: 43, firstName: 'Bob' };
const OPERATOR = { id: 7, firstName: 'Olga' };
/** 10:00 UTC, noon in Berlin. */
const START = Date.parse('2026-07-01T10:00:00Z');

interface Bot {
  api: FakeBotApi;
  clock: ManualClock;
  /** Sends `text` as `user` and resolves with the next message the bot sends to that chat. */
  ask(user: FakeUser, text: string): Promise<string>;
  /** Resolves with the next message to `user`'s chat, counting from the last one read. */
  next(user: FakeUser): Promise<string>;
  tasks(): Promise<Task[]>;
  /** Replies the store still owes (sent ones are recorded just after their send, not with it). */
  owedReplies(): Promise<number>;
  /** Releases the agent's run of `input` (runs of texts starting with "slow" wait for it). */
  release(input: string): void;
}

async function startBot(
  options: { commands?: CommandsConfig; plugins?: Plugin[] } = {},
): Promise<Bot> {
  const api = await FakeServer.start({ token: '123456:COMMANDS-test' });
  apis.push(api);
  const clock = new ManualClock(START);
  const gates = new Map<string, () => void>();
  const host = createHost({
    name: 'home-bot',
    clock,
    timezone: 'UTC',
    // The runner wakes for a reminder at its run-at; a poll each manual second would only make
    // a day of manual time slow.
    runner: { pollMs: 3_600_000 },
    logger: memoryLogger().logger,
    agents: [
      agent('echo', async (input) => {
        const text = String(input);
        if (text.startsWith('slow')) await new Promise<void>((r) => gates.set(text, r));
        return `echo: ${text}`;
      }),
    ],
    plugins: [
      sqlite({ path: dbPath() }),
      telegram({
        token: api.token,
        apiRoot: api.url,
        allowedUsers: [ALICE.id, BOB.id, OPERATOR.id],
        pollTimeoutSeconds: 1,
      }),
      ...(options.plugins ?? []),
    ],
    commands: options.commands ?? { operators: [`telegram:${OPERATOR.id}`] },
  });
  hosts.push(host);
  await host.start();
  const read = new Map<number, number>();
  const next = async (user: FakeUser) => {
    const seen = read.get(user.id) ?? 0;
    const messages = await api.waitForMessages(seen + 1, { chatId: user.id });
    read.set(user.id, seen + 1);
    return String(messages[seen]?.text);
  };
  return {
    api,
    clock,
    next,
    ask: (user, text) => {
      api.sendText(user, text);
      return next(user);
    },
    tasks: () => host.resolve(TaskStoreToken).list({ limit: 1000 }),
    owedReplies: () => host.resolve(TaskStoreToken).countOwedReplies(),
    release: (input) => gates.get(input)?.(),
  };
}

/** The task id in a "Task X queued" or "Reminder X set" answer. */
function idIn(answer: string): string {
  const id = /^(?:Task|Reminder) (\S+) /.exec(answer)?.[1];
  if (!id) throw new Error(`no task id in ${JSON.stringify(answer)}`);
  return id;
}

const workTasks = async (bot: Bot) =>
  (await bot.tasks()).filter((t) => t.type !== 'answer').map((t) => `${t.type}:${t.status}`);

describe('chat commands through Telegram', () => {
  it('publishes everyone’s menu and, in the operator’s chat, the menu with operator commands', async () => {
    const ping: Plugin = {
      name: 'ping',
      register(ctx) {
        ctx
          .resolve(InboundRouterToken)
          .use(command('ping', () => 'pong', { description: 'Check that the host answers' }));
      },
    };
    const bot = await startBot({ plugins: [ping] });
    const { api } = bot;
    const scoped = () =>
      api.calls.filter(
        (c) => c.method === 'setMyCommands' && !c.failed && c.params.scope !== undefined,
      );
    await api.waitFor(() => api.commandMenu() !== undefined && scoped().length === 1);
    const everyone = api.commandMenu()?.map((c) => c.command);
    // In chain order: the config's plugins register before the built-ins.
    expect(everyone).toEqual([
      'ping',
      'help',
      'tasks',
      'task',
      'cancel',
      'remind',
      'reminders',
      'timezone',
      'sessions',
      'new',
      'switch',
      'timeout',
      'archive',
    ]);
    const [operatorMenu] = scoped();
    expect(operatorMenu?.params.scope).toEqual({ type: 'chat', chat_id: OPERATOR.id });
    const operatorCommands = ((operatorMenu?.params.commands ?? []) as { command: string }[]).map(
      (c) => c.command,
    );
    expect(operatorCommands).toEqual(['ping', 'help', 'status', ...everyone!.slice(2)]);

    // /help lists the same, plugins' commands included; the operator's names /status too.
    const help = await bot.ask(ALICE, '/help');
    expect(help).toContain('/ping - Check that the host answers');
    expect(help).toContain('/sessions - List your sessions');
    expect(help).toContain('/remind - Set a reminder');
    expect(help).not.toContain('/status');
    expect(await bot.ask(OPERATOR, '/help')).toContain('/status - Host, queue, schedules');
  });

  it('runs /task in the background and answers in the chat when done; /task ID shows it', async () => {
    const bot = await startBot();
    const queued = await bot.ask(ALICE, '/task summarise the logs');
    expect(queued).toMatch(/^Task \S+ queued; I will answer here when it is done\./);
    const id = idIn(queued);
    // Its first line says which task it answers (a user may have several running).
    expect(await bot.next(ALICE)).toBe('Task "summarise the logs":\necho: summarise the logs');
    const detail = await bot.ask(ALICE, `/task ${id}`);
    expect(detail).toBe(
      `Task ${id} (background): completed just now, 1 attempt\nAsked: summarise the logs\nResult: echo: summarise the logs`,
    );
    const task = (await bot.tasks()).find((t) => t.id === id);
    expect(task?.metadata).toMatchObject({ owner: 'telegram:42', sender: '42' });
    expect(task?.replyTo).toEqual({ channel: 'telegram', id: '42' });

    // /tasks: the user's own, newest first, plain messages included.
    await bot.ask(ALICE, 'hello there');
    expect(await bot.ask(ALICE, '/tasks')).toMatch(
      new RegExp(
        `^Your recent tasks:\\n\\S+  completed just now  hello there\\n${id}  completed just now  summarise the logs$`,
      ),
    );
  });

  it('lets a user see and cancel only their own tasks; an operator sees and cancels all', async () => {
    const bot = await startBot();
    const aliceTask = idIn(await bot.ask(ALICE, '/task slow report'));
    const aliceReminder = idIn(await bot.ask(ALICE, '/remind in 2h water the plants'));

    // Bob: the same answer for Alice's ids as for ids that do not exist.
    expect(await bot.ask(BOB, '/tasks')).toBe('You have no tasks yet. /task TEXT starts one.');
    expect(await bot.ask(BOB, `/task ${aliceTask}`)).toBe(
      `No task "${aliceTask}" of yours. /tasks lists yours. To start a task, describe it in a few words: /task check the backups`,
    );
    expect(await bot.ask(BOB, `/cancel ${aliceReminder}`)).toBe(
      `No task "${aliceReminder}" of yours. /tasks lists yours.`,
    );
    expect(await bot.ask(BOB, '/cancel nosuchid')).toBe(
      'No task "nosuchid" of yours. /tasks lists yours.',
    );
    expect(await bot.ask(BOB, '/reminders')).toBe(
      'No reminders pending. /remind WHEN TEXT sets one.',
    );
    expect(await bot.ask(BOB, '/status')).toBe(
      'Only operators can use /status (the config lists them under commands.operators; you are telegram:43).',
    );
    expect(await workTasks(bot)).toEqual(['reminder:pending', 'background:running']);

    // Alice sees hers.
    expect(await bot.ask(ALICE, '/reminders')).toBe(
      `Reminders (UTC):\n${aliceReminder}  due 2026-07-01 12:00  Reminder: water the plants`,
    );

    // The operator sees everyone's, with whose they are, and may cancel them.
    const all = await bot.ask(OPERATOR, '/tasks');
    expect(all).toContain(`${aliceTask}  running since just now  slow report  (telegram:42)`);
    expect(all).toContain(
      `${aliceReminder}  due 2026-07-01 12:00  Reminder: water the plants  (telegram:42)`,
    );
    expect(await bot.ask(OPERATOR, `/cancel ${aliceReminder}`)).toBe(
      `Cancelled reminder ${aliceReminder}.`,
    );
    expect(await bot.ask(OPERATOR, `/cancel ${aliceTask}`)).toBe(
      `Cancelled task ${aliceTask}; its run is being stopped.`,
    );
    expect(await bot.ask(ALICE, `/cancel ${aliceReminder}`)).toBe(
      `Task ${aliceReminder} has already ended (cancelled); nothing to cancel.`,
    );
    bot.release('slow report');
    // The last answers arrived; their "sent" records follow the sends (a turn of the event loop
    // later, shared with other writes), and /status counts what is still owed.
    await expect.poll(() => bot.owedReplies()).toBe(0);
    const status = await bot.ask(OPERATOR, '/status');
    expect(status).toMatch(/^home-bot: ready, up 0 min, \d+ plugins\n/);
    // Completed counts the commands' answers too (the outbox keeps them as finished tasks).
    expect(status).toMatch(
      /\nQueue: 0 pending, 0 held, 0 running, \d+ completed, 0 failed, 2 cancelled; 0 replies owed\n/,
    );
    expect(status).toContain('Schedules: none');
  });

  it('fires a reminder at its time, read in the host’s zone or the user’s own', async () => {
    const bot = await startBot();
    const set = await bot.ask(ALICE, '/remind 10:30 stand up and stretch');
    expect(set).toMatch(
      /^Reminder \S+ set for 2026-07-01 10:30 \(UTC\)\. \/cancel \S+ cancels it\.$/,
    );

    expect(await bot.ask(ALICE, '/timezone')).toBe(
      "Your times are read in UTC (the host's). /timezone Europe/Berlin changes it.",
    );
    expect(await bot.ask(ALICE, '/timezone Europe/Berlin')).toBe(
      'Your times are now read in Europe/Berlin.',
    );
    const tomorrow = await bot.ask(ALICE, '/remind tomorrow 9:00 standup notes');
    expect(tomorrow).toMatch(/ set for 2026-07-02 09:00 \(Europe\/Berlin\)\./);
    const tomorrowTask = (await bot.tasks()).find((t) => t.id === idIn(tomorrow));
    expect(tomorrowTask?.runAt).toBe(Date.parse('2026-07-02T07:00:00Z'));

    await bot.clock.advance(29 * 60_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(bot.api.messages(ALICE.id)).toHaveLength(4);
    await bot.clock.advance(60_000);
    expect(await bot.next(ALICE)).toBe(
      'Reminder "stand up and stretch":\necho: Reminder: stand up and stretch',
    );

    await bot.clock.advanceTo(Date.parse('2026-07-02T07:00:00Z'));
    expect(await bot.next(ALICE)).toBe('Reminder "standup notes":\necho: Reminder: standup notes');
  });

  it('answers malformed arguments clearly and changes nothing', async () => {
    const bot = await startBot();
    const cases: [string, string | RegExp][] = [
      ['/task', /^Use \/task followed by what to do/],
      [
        '/task ../../etc',
        '"../../etc" is not a task id (ids are letters and digits, e.g. from /tasks).',
      ],
      [`/task ${'z'.repeat(65)}`, /^"z{39}…" is not a task id/],
      [
        '/task ring the \u0007bell',
        'Not queued: the text holds a control character (U+0007); send plain text.',
      ],
      [
        '/task flip \u202Etxet',
        'Not queued: the text holds a control character (U+202E); send plain text.',
      ],
      [
        `/task ${'word '.repeat(2000)}`,
        'Not queued: the text is 9999 characters long; at most 8000 are taken.',
      ],
      ['/cancel', 'Use /cancel ID (ids are in /tasks).'],
      ['/cancel a b', 'Use /cancel ID (ids are in /tasks).'],
      ['/remind', /^Use \/remind WHEN TEXT/],
      ['/remind 25:00 wake up', /^Not set: cannot read "25:00" as a time \(hour 25 is past 23\)/],
      ['/remind soon wake up', /^Not set: cannot read the time in "soon wake up"\. Use \/remind/],
      ['/remind in 10 parsecs go', /^Not set: cannot read "in 10 parsecs go" as a time/],
      ['/remind 2026-02-30T10:00 pay rent', /day 30 does not exist in 2026-02/],
      ['/remind 2020-01-01T09:00 too late', 'Not set: 2020-01-01 09:00 (UTC) has passed.'],
      [
        '/remind today 08:00 too late',
        /^Not set: cannot read "today 08:00" as a time \(that time has passed today\)/,
      ],
      ['/remind in 10m', /^Not set: what should I remind you of\?/],
      [
        '/remind in 10m \u0000x',
        'Not set: the text holds a control character (U+0000); send plain text.',
      ],
      ['/remind in 9999d far away', 'Not set: a reminder can be at most 10 years ahead.'],
      ['/timezone Mars/Olympus', /^Not changed: "Mars\/Olympus" is not a time zone/],
      ['/frobnicate now', 'Unknown command /frobnicate, see /help.'],
    ];
    for (const [text, expected] of cases) {
      const answer = await bot.ask(ALICE, text);
      if (typeof expected === 'string') expect(answer, text).toBe(expected);
      else expect(answer, text).toMatch(expected);
    }
    expect(await workTasks(bot)).toEqual([]);
    expect(await bot.ask(ALICE, '/timezone')).toContain('read in UTC');
  });

  it('passes unknown commands to the agent when the config says so', async () => {
    const bot = await startBot({ commands: { unknown: 'agent' } });
    expect(await bot.ask(ALICE, '/frobnicate now')).toBe('echo: /frobnicate now');
  });
});
