import { describe, expect, it } from 'vitest';
import { type InboundMessage, InboundRouterToken } from '../contracts/channel.js';
import { TaskStoreToken } from '../contracts/task.js';
import { ConfigError } from '../kernel/errors.js';
import { createHost, type HostConfig, validateConfig } from '../preset/host.js';
import { agent } from '../runtime/function-agent.js';
import { replyText } from '../runtime/reply-outbox.js';
import { ManualClock } from '../testing/manual-clock.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { memoryStore } from '../testing/memory-store.js';
import { useTestHosts } from '../testing/test-hosts.js';
import { Operators } from './access.js';
import { MAX_COMMAND_TEXT, textProblem } from './arguments.js';
import { chatCommands } from './plugin.js';
import { readReminder } from './remind-commands.js';

const { hosts, store } = useTestHosts();
const NOW = Date.parse('2026-07-01T10:00:00Z');

async function start(config: Partial<HostConfig> = {}) {
  const clock = new ManualClock(NOW);
  const host = createHost({
    clock,
    timezone: 'UTC',
    logger: memoryLogger().logger,
    agents: [agent('echo', async (input) => `echo: ${String(input)}`)],
    plugins: [memoryStore({ store: store() })],
    ...config,
  } as HostConfig);
  hosts.push(host);
  await host.start();
  let n = 0;
  const say = (text: string, from: Partial<InboundMessage> = {}) =>
    host.resolve(InboundRouterToken).dispatch({
      id: String(++n),
      from: { channel: 'chat', id: 'u1' },
      sender: { id: 'u1' },
      text,
      receivedAt: clock.now(),
      ...from,
    });
  return { host, say, clock };
}

describe('readReminder', () => {
  const read = (text: string) => readReminder(text, NOW, 'UTC');

  it('takes the longest leading time and keeps the text as typed', () => {
    expect(read('2026-07-02 09:00 pay\nthe rent')).toEqual({
      at: Date.parse('2026-07-02T09:00:00Z'),
      text: 'pay\nthe rent',
    });
    expect(read('in 1h 30m tea')).toEqual({ at: NOW + 5_400_000, text: 'tea' });
    expect(read('in 10 min tea')).toEqual({ at: NOW + 600_000, text: 'tea' });
    expect(read('tomorrow 9:00 standup')).toEqual({
      at: Date.parse('2026-07-02T09:00:00Z'),
      text: 'standup',
    });
    expect(read('9:30 call 10:30')).toEqual({
      at: Date.parse('2026-07-02T09:30:00Z'),
      text: 'call 10:30',
    });
  });

  it('says what is wrong: a bad value, no time, or no text', () => {
    expect(read('24:00 x')).toEqual({ problem: expect.stringContaining('hour 24 is past 23') });
    expect(read('later x')).toEqual({
      problem: expect.stringMatching(/^cannot read the time in "later x"/),
    });
    expect(read('tomorrow 9:00')).toEqual({
      problem: expect.stringMatching(/^what should I remind you of\?/),
    });
  });
});

describe('command arguments', () => {
  it('refuses empty, huge and control-character texts, keeps tabs, newlines and emoji', () => {
    expect(textProblem('line one\n\tline two 🎉')).toBeUndefined();
    expect(textProblem('  ')).toBe('the text is empty');
    expect(textProblem('x'.repeat(MAX_COMMAND_TEXT + 1))).toMatch(/at most 8000/);
    expect(textProblem('a\u001bb')).toMatch(/U\+001B/);
    expect(textProblem('a\u0085b')).toMatch(/U\+0085/);
    expect(textProblem('a\u2066b')).toMatch(/U\+2066/);
  });

  it('knows operators by sender or by conversation, per channel', () => {
    const operators = new Operators(['telegram:7', 'telegram:-100', 'chat:ops']);
    const message = (channel: string, chat: string, sender: string): InboundMessage => ({
      id: '1',
      from: { channel, id: chat },
      sender: { id: sender },
      text: '',
      receivedAt: 0,
    });
    expect(operators.includes(message('telegram', '7', '7'))).toBe(true);
    expect(operators.includes(message('telegram', '-100', '55'))).toBe(true);
    expect(operators.includes(message('telegram', '55', '55'))).toBe(false);
    expect(operators.includes(message('webhook', '7', '7'))).toBe(false);
    expect(operators.idsOn('telegram')).toEqual(['7', '-100']);
  });
});

describe('chat commands on the inbound chain', () => {
  it('treats a replayed /task as the same task, and answers /task ID after a restart-free run', async () => {
    const { host, say } = await start();
    const first = await say('/task water the plants', { id: 'm1' });
    expect(first).toMatchObject({ outcome: 'accepted', reply: expect.stringMatching(/^Task /) });
    const again = await say('/task water the plants', { id: 'm1' });
    expect(again).toMatchObject({ outcome: 'duplicate', taskId: first.taskId });
    const work = (await host.resolve(TaskStoreToken).list()).filter((t) => t.type === 'background');
    expect(work.map((t) => t.id)).toEqual([first.taskId]);
    // Its answer names it on the first line, for a result and for a failure alike.
    const task = work[0]!;
    expect(replyText({ ...task, status: 'completed', result: 'done' })).toBe(
      'Task "water the plants":\ndone',
    );
    expect(
      replyText({ ...task, status: 'failed', error: { name: 'TimeoutError', message: 'x' } }),
    ).toMatch(/^Task "water the plants":\nSorry, this task failed/);
  });

  it('refuses /task and /remind over a user’s budget, as it refuses plain text', async () => {
    const { say } = await start({ budgets: { rateLimits: { perMinute: 1 } } });
    expect(await say('/task first one')).toMatchObject({ outcome: 'accepted' });
    expect(await say('/remind in 5m two')).toMatchObject({
      outcome: 'refused',
      reply: expect.stringContaining('at most 1 messages per minute'),
    });
    expect(await say('/task third one')).toMatchObject({ outcome: 'refused' });
    // Reading commands still answer.
    expect(await say('/tasks')).toMatchObject({ outcome: 'handled' });
  });

  it('answers without a task store, and sends everything to the agent with commands off', async () => {
    const bare = await start({ plugins: [] });
    expect((await bare.say('/tasks')).reply).toBe(
      'This host has no task store, so it keeps no tasks.',
    );
    expect((await bare.say('/help')).reply).toMatch(/^Commands:\n\/help - List the commands\n/);
    expect((await bare.say('/nope')).reply).toBe('Unknown command /nope, see /help.');

    const off = await start({ commands: false });
    expect((await off.say('/help')).outcome).toBe('accepted');
    expect((await off.say('/nope')).outcome).toBe('accepted');
  });

  it('checks its options when given as a plugin, naming the field', async () => {
    const error = await validateConfig({
      plugins: [chatCommands({ operators: ['42'], timezone: 'Mars/Olympus' })],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      expect.stringMatching(/^plugins\[0\]\.operators\[0\]: must be "channel:id"/),
      expect.stringMatching(/^plugins\[0\]\.timezone: must be an IANA time zone/),
    ]);
  });

  it('shows an operator every schedule with its next run in /status', async () => {
    const { say } = await start({
      commands: { operators: ['chat:u1'] },
      schedules: [{ name: 'daily-report', cron: '0 8 * * *', task: { input: 'report' } }],
    });
    const status = (await say('/status')).reply;
    expect(status).toContain('Schedules:\n  daily-report (0 8 * * *): next 2026-07-02 08:00');
  });
});
