import {
  AgentdError,
  agent,
  HealthRegistryToken,
  InboundRouterToken,
  IntakeGuardToken,
  type Plugin,
} from '@agentd/core';
import { describe, expect, it } from 'vitest';
import {
  ALICE,
  ANSWER_WITHIN_MS,
  deadLetterAlerts,
  echo,
  othersAreServed,
  usePoisonBots,
} from './poison-support.js';

// One bad update must never hold up the others: each poison input below is followed by
// messages from other users, which must all be answered within seconds, on a real host with a
// real SQLite store, against the fake Bot API server over real HTTP.

const { startBot, fakeApi, dbPath } = usePoisonBots('agentd-telegram-poison-');

describe('telegram: a poison update is kept as a dead letter and never blocks the channel', () => {
  it('a message without a chat: dead letter with its reason, one alert, confirmed, others served', async () => {
    const bot = await startBot();
    const poison = bot.api.pushUpdate({
      message: {
        message_id: 5,
        date: Math.floor(Date.now() / 1000),
        from: { id: ALICE.id, is_bot: false, first_name: 'Alice' },
        text: 'where is my chat?',
      },
    });
    await othersAreServed(bot);
    expect(bot.api.confirmedBelow).toBeGreaterThan(poison);

    const letters = await bot.store.listDeadLetters!();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      channel: 'telegram',
      code: 'E_INVALID_INPUT',
      reason: 'the message has no chat with a numeric id',
      status: 'open',
      truncated: false,
      replyTo: null,
    });
    expect(JSON.parse(letters[0]!.raw)).toMatchObject({ update_id: poison });
    expect(deadLetterAlerts(bot)).toHaveLength(1);
    expect(deadLetterAlerts(bot)[0]?.message).toContain(letters[0]!.id);
    // Nothing to answer (no chat), nothing stored as a task for it.
    expect((await bot.tasks()).filter((t) => t.type === 'message')).toHaveLength(2);

    // /health warns while the letter is open, and passes once it is discarded.
    const health = bot.host.resolve(HealthRegistryToken);
    const report = await health.run();
    expect(report.checks['dead-letters']).toMatchObject({ status: 'warn', observedValue: 1 });
    expect(report.status).not.toBe('fail');
    await bot.store.settleDeadLetter!(letters[0]!.id, 'discarded', Date.now());
    expect((await health.run()).checks['dead-letters']?.status).toBe('pass');
  });

  it('a text that is not a string: the sender is told, the update confirmed, others served', async () => {
    const bot = await startBot();
    const poison = bot.api.pushUpdate({
      message: {
        message_id: 6,
        date: Math.floor(Date.now() / 1000),
        chat: { id: ALICE.id, type: 'private' },
        from: { id: ALICE.id, is_bot: false, first_name: 'Alice' },
        text: { bold: 'not a string' },
      },
    });
    await othersAreServed(bot);
    const [told] = await bot.api.waitForMessages(1, { chatId: ALICE.id });
    expect(told?.text).toBe('Sorry, I could not read that message.');
    expect(bot.api.confirmedBelow).toBeGreaterThan(poison);
    const [letter] = await bot.store.listDeadLetters!();
    expect(letter).toMatchObject({
      code: 'E_INVALID_INPUT',
      reason: "the message's text is not a string",
      replyTo: { channel: 'telegram', id: String(ALICE.id) },
    });
    expect(deadLetterAlerts(bot)).toHaveLength(1);
  });

  it('a text over the 1 MiB payload cap: "too long" with sizes, raw kept cut at 64 KiB, others served', async () => {
    const bot = await startBot();
    const poison = bot.api.sendText(ALICE, 'x'.repeat(2_000_000));
    await othersAreServed(bot);
    const [told] = await bot.api.waitForMessages(1, {
      chatId: ALICE.id,
      timeoutMs: ANSWER_WITHIN_MS,
    });
    expect(told?.text).toBe('That message is too long (1.9 MiB, limit 1 MiB).');
    expect(bot.api.confirmedBelow).toBeGreaterThan(poison);
    const [letter] = await bot.store.listDeadLetters!();
    expect(letter).toMatchObject({ code: 'E_INVALID_TASK', truncated: true });
    expect(letter?.rawBytes).toBeGreaterThan(2_000_000);
    expect(Buffer.byteLength(letter!.raw)).toBeLessThanOrEqual(64 * 1024);
    expect(letter?.reason).toContain('over the cap');
    expect(deadLetterAlerts(bot)).toHaveLength(1);
    expect(
      (await bot.tasks()).some((t) => t.type === 'message' && t.replyTo?.id === String(ALICE.id)),
    ).toBe(false);
  });

  it('the same poison update delivered again is recognised: one dead letter, one alert', async () => {
    const bot = await startBot();
    const poison = bot.api.pushUpdate({
      message: { message_id: 9, date: 1, from: { id: ALICE.id, is_bot: false, first_name: 'A' } },
    });
    await othersAreServed(bot);
    bot.api.redeliverFrom(poison);
    await othersAreServed(bot);
    expect(await bot.store.listDeadLetters!()).toHaveLength(1);
    expect(deadLetterAlerts(bot)).toHaveLength(1);
  });

  it('a dead letter whose cause was fixed is taken in again by a retry, once', async () => {
    let missing = true;
    // Refuses like a router would for an agent the host lacks, until the operator fixes it.
    const gatekeeper: Plugin = {
      name: 'gatekeeper',
      start(ctx) {
        ctx.resolve(InboundRouterToken).use((inbound, next) => {
          if (missing && inbound.message.text === 'please write') {
            throw new AgentdError('E_UNKNOWN_AGENT', 'unknown agent "writer"');
          }
          return next();
        });
      },
    };
    const bot = await startBot({ plugins: [gatekeeper] });
    const poison = bot.api.sendText(ALICE, 'please write');
    await othersAreServed(bot);
    expect(bot.api.confirmedBelow).toBeGreaterThan(poison);
    const [letter] = await bot.store.listDeadLetters!();
    expect(letter).toMatchObject({ code: 'E_UNKNOWN_AGENT', status: 'open' });

    const guard = bot.host.resolve(IntakeGuardToken);
    const failedAgain = await guard.retry(letter!.id);
    expect(failedAgain.outcome.ok).toBe(false);
    expect(await bot.store.countOpenDeadLetters!()).toBe(1);
    expect(deadLetterAlerts(bot)).toHaveLength(1);

    missing = false;
    const retried = await guard.retry(letter!.id);
    expect(retried).toMatchObject({ outcome: { ok: true }, letter: { status: 'retried' } });
    const answers = await bot.api.waitForMessages(2, {
      chatId: ALICE.id,
      timeoutMs: ANSWER_WITHIN_MS,
    });
    // The refusal went out once (the failed retry is the same message: answered once).
    expect(answers.map((m) => m.text)).toEqual([
      'Sorry, this message could not be taken; the operator has been told.',
      'echo: please write',
    ]);
    await expect(guard.retry(letter!.id)).rejects.toMatchObject({ code: 'E_CONFLICT' });
    expect(await bot.store.countOpenDeadLetters!()).toBe(0);
  });

  it('a session whose agent was removed falls back to the default agent, with a notice; others served', async () => {
    const path = dbPath();
    const api = await fakeApi();
    const extra = agent('extra', async (input) => `extra: ${String(input)}`);
    const first = await startBot({ path, api, agents: [echo, extra] });
    api.sendText(ALICE, '/new work extra');
    const [created] = await api.waitForMessages(1, { chatId: ALICE.id });
    expect(created?.text).toBe('Created session "work" (agent extra); it is now active.');
    await first.host.stop('config changed');

    // The operator removes "extra" from the config and restarts.
    const bot = await startBot({ path, api });
    api.sendText(ALICE, 'still there?');
    await othersAreServed(bot);
    const answers = await api.waitForMessages(3, { chatId: ALICE.id, timeoutMs: ANSWER_WITHIN_MS });
    const texts = answers.map((m) => m.text);
    expect(texts).toContain(
      'Your session "work" used agent "extra", which this host no longer has; it now uses "echo". /new NAME AGENT starts a session with another agent.',
    );
    expect(texts).toContain('echo: still there?');
    expect(await bot.store.listDeadLetters!()).toHaveLength(0);
    // The fallback is kept: the next message just runs, without a second notice.
    api.sendText(ALICE, 'again');
    const more = await api.waitForMessages(4, { chatId: ALICE.id, timeoutMs: ANSWER_WITHIN_MS });
    expect(more.at(-1)?.text).toBe('echo: again');
    await new Promise((r) => setTimeout(r, 200));
    expect(api.messages(ALICE.id)).toHaveLength(4);
  });
});
