import { SessionStoreToken } from '@agentd/core';
import { describe, expect, it } from 'vitest';
import {
  ALICE,
  ANSWER_WITHIN_MS,
  deadLetterAlerts,
  othersAreServed,
  type PoisonBot,
  usePoisonBots,
} from './poison-support.js';
import type { BotApiObject, FakeBotApi } from './testing/fake-bot-api.js';

// The Telegram intake, attacked: every row feeds one hostile or broken update to a real host
// (real SQLite, the fake Bot API over HTTP), then checks the outcome it promises (a clear
// refusal, a dead letter, or a safe acceptance), that nothing stray was stored, and that other
// users are still answered within seconds.

const { startBot } = usePoisonBots('agentd-telegram-adversarial-');

const now = () => Math.floor(Date.now() / 1000);
const from = { id: ALICE.id, is_bot: false, first_name: 'Alice' };
const chat = { id: ALICE.id, type: 'private' };
/** A message from Alice with `extra` laid over it. */
const msg = (extra: BotApiObject): BotApiObject => ({
  message_id: 700,
  date: now(),
  chat,
  from,
  text: 'hi',
  ...extra,
});

interface Case {
  name: string;
  /** Pushes the hostile update(s); returns the last update id. */
  send: (api: FakeBotApi) => number;
  /** Dead letter code expected, or none. */
  deadLetter?: string;
  /** What Alice's chat gets, in order (none when empty). */
  replies: (string | RegExp)[];
  /** Alice's message tasks expected (their inputs). */
  tasks: unknown[];
  /** Extra checks. */
  check?: (bot: PoisonBot) => Promise<void>;
}

const CONTROL_TEXT = 'a\u0000b\u001b[2J\u001b]0;owned\u0007c\u202eevil\u202c\u200b';

const cases: Case[] = [
  {
    name: 'message is a string',
    send: (api) => api.pushUpdate({ message: 'hello' }),
    deadLetter: 'E_INVALID_INPUT',
    replies: [],
    tasks: [],
  },
  {
    name: 'message is an array',
    send: (api) => api.pushUpdate({ message: [1, 2] }),
    deadLetter: 'E_INVALID_INPUT',
    replies: [],
    tasks: [],
  },
  {
    name: 'no message_id',
    send: (api) => api.pushUpdate({ message: msg({ message_id: undefined }) }),
    deadLetter: 'E_INVALID_INPUT',
    replies: [],
    tasks: [],
  },
  {
    name: 'message_id as a string',
    send: (api) => api.pushUpdate({ message: msg({ message_id: '7' }) }),
    deadLetter: 'E_INVALID_INPUT',
    replies: [],
    tasks: [],
  },
  {
    name: 'chat id as a string',
    send: (api) => api.pushUpdate({ message: msg({ chat: { id: '42', type: 'private' } }) }),
    deadLetter: 'E_INVALID_INPUT',
    replies: [],
    tasks: [],
  },
  {
    name: 'chat id beyond 2^53 (not exact in JSON)',
    send: (api) => api.pushUpdate({ message: msg({ chat: { id: 2 ** 60, type: 'private' } }) }),
    deadLetter: 'E_INVALID_INPUT',
    replies: [],
    tasks: [],
  },
  {
    name: 'sender id is null',
    send: (api) => api.pushUpdate({ message: msg({ from: { id: null, is_bot: false } }) }),
    deadLetter: 'E_INVALID_INPUT',
    replies: [],
    tasks: [],
  },
  {
    name: 'caption that is a number',
    send: (api) => api.pushUpdate({ message: msg({ text: undefined, caption: 12 }) }),
    deadLetter: 'E_INVALID_INPUT',
    replies: ['Sorry, I could not read that message.'],
    tasks: [],
  },
  {
    name: 'text that is an array',
    send: (api) => api.pushUpdate({ message: msg({ text: ['a', 'b'] }) }),
    deadLetter: 'E_INVALID_INPUT',
    replies: ['Sorry, I could not read that message.'],
    tasks: [],
  },
  {
    name: 'oversized caption',
    send: (api) => api.sendText(ALICE, undefined, { caption: 'é'.repeat(600_000) }),
    deadLetter: 'E_INVALID_TASK',
    replies: ['That message is too long (1.1 MiB, limit 1 MiB).'],
    tasks: [],
  },
  {
    name: 'negative date',
    send: (api) => api.pushUpdate({ message: msg({ date: -5, text: 'from the past' }) }),
    replies: ['echo: from the past'],
    tasks: ['from the past'],
    check: async (bot) => {
      const [task] = (await bot.tasks()).filter((t) => t.input === 'from the past');
      // Not trusted as a time: the task was created now, as always.
      expect(task?.createdAt).toBeGreaterThan(Date.now() - 60_000);
    },
  },
  {
    name: 'date that is a string',
    send: (api) => api.pushUpdate({ message: msg({ date: 'yesterday', text: 'dated' }) }),
    replies: ['echo: dated'],
    tasks: ['dated'],
  },
  {
    name: 'control characters, NUL and RTL overrides in the text are kept as data',
    send: (api) => api.pushUpdate({ message: msg({ text: CONTROL_TEXT }) }),
    replies: [`echo: ${CONTROL_TEXT}`],
    tasks: [CONTROL_TEXT],
  },
  {
    name: 'control characters and RTL overrides in the sender’s names',
    send: (api) =>
      api.pushUpdate({
        message: msg({
          text: 'named',
          from: { ...from, first_name: '\u001b[31mred\u202e', last_name: '\u0000' },
        }),
      }),
    replies: ['echo: named'],
    tasks: ['named'],
    check: async (bot) => {
      expect(bot.logs()).not.toContain('\u001b[31m');
    },
  },
  {
    name: '__proto__ keys in the update and the message',
    send: (api) =>
      api.pushUpdate(
        JSON.parse(
          `{"__proto__":{"polluted":1},"message":{"__proto__":{"polluted":2},"message_id":701,"date":${now()},"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"A"},"text":"proto"}}`,
        ) as BotApiObject,
      ),
    replies: ['echo: proto'],
    tasks: ['proto'],
    check: async () => {
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    },
  },
  {
    name: 'a user not on the allow-list',
    send: (api) => api.sendText({ id: 666, firstName: 'Mallory' }, 'let me in'),
    replies: [],
    tasks: [],
    check: async (bot) => {
      expect(bot.api.messages(666).map((m) => m.text)).toEqual([
        'Sorry, this bot only works for the people it was set up for.',
      ]);
      expect((await bot.tasks()).filter((t) => t.replyTo?.id === '666')).toEqual([]);
    },
  },
  {
    name: 'the same message again under a new update_id (a replay)',
    send: (api) => {
      api.sendText(ALICE, 'once', { messageId: 900 });
      return api.sendText(ALICE, 'once', { messageId: 900 });
    },
    replies: ['echo: once'],
    tasks: ['once'],
  },
  {
    name: 'the same update (same update_id) delivered twice in one batch',
    send: (api) => {
      const update = { message: msg({ message_id: 901, text: 'twice' }) };
      const id = api.pushUpdate(update);
      api.pushUpdate({ ...update, update_id: id });
      return id;
    },
    replies: ['echo: twice'],
    tasks: ['twice'],
  },
  {
    name: 'commands with junk arguments',
    send: (api) => {
      api.sendText(ALICE, '/switch ../../etc/passwd');
      api.sendText(ALICE, '/timeout NaN');
      api.sendText(ALICE, `/new ${'n'.repeat(5000)}`);
      return api.sendText(ALICE, '/new work nosuchagent');
    },
    replies: [
      'no session named "../../etc/passwd"',
      'the idle timeout is 1 to 120 minutes',
      'a session name is 1 to 40 letters, digits, _ . -',
      /^unknown agent "nosuchagent"/,
    ],
    tasks: [],
    check: async (bot) => {
      const sessions = bot.host.resolve(SessionStoreToken);
      expect(await sessions.listByUser(`telegram:${ALICE.id}`)).toEqual([]);
    },
  },
  {
    name: '/command@otherbot is another bot’s',
    send: (api) => api.sendText(ALICE, '/sessions@some_other_bot'),
    replies: [],
    tasks: [],
  },
  {
    name: 'an empty text',
    send: (api) => api.pushUpdate({ message: msg({ text: '' }) }),
    replies: ['Sorry, I can only read text messages (or the captions of photos and files).'],
    tasks: [],
  },
];

describe('telegram adversarial intake: a clear refusal or a safe outcome, and others keep being served', () => {
  it.each(cases)('$name', async (c) => {
    const bot = await startBot();
    const last = c.send(bot.api);
    await othersAreServed(bot);
    await bot.api.waitFor(() => bot.api.confirmedBelow > last, ANSWER_WITHIN_MS);

    if (c.replies.length > 0) {
      await bot.api.waitForMessages(c.replies.length, {
        chatId: ALICE.id,
        timeoutMs: ANSWER_WITHIN_MS,
      });
    }
    // Anything more would come within this pause.
    await new Promise((r) => setTimeout(r, 300));
    const texts = bot.api.messages(ALICE.id).map((m) => m.text);
    expect(texts).toEqual(
      c.replies.map((r) => (typeof r === 'string' ? r : expect.stringMatching(r))),
    );

    const tasks = (await bot.tasks()).filter(
      (t) => t.type === 'message' && t.replyTo?.id === String(ALICE.id),
    );
    expect(tasks.map((t) => t.input)).toEqual(c.tasks);

    const letters = await bot.store.listDeadLetters!();
    if (c.deadLetter) {
      expect(letters.map((l) => l.code)).toEqual([c.deadLetter]);
      expect(deadLetterAlerts(bot)).toHaveLength(1);
    } else {
      expect(letters).toEqual([]);
      expect(deadLetterAlerts(bot)).toEqual([]);
    }
    await c.check?.(bot);
  });
});
