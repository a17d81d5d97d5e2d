import { describe, expect, it } from 'vitest';
import type {
  InboundContext,
  InboundMessage,
  InboundMiddleware,
  InboundNext,
} from '../contracts/channel.js';
import type { NewTask, Task, TaskQueue } from '../contracts/task.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { AgentdError, IntakeClosedError } from './errors.js';
import { EventBus } from './events.js';
import { command, isForBot, parseCommand, passesOn } from './inbound-command.js';
import { DefaultInboundRouter } from './inbound-router.js';
import { IntakeGate } from './intake.js';

/** A queue that keeps what it was given and knows idempotency keys, like a store does. */
function recordingQueue() {
  const enqueued: NewTask[] = [];
  const byKey = new Map<string, string>();
  const queue: TaskQueue = {
    async enqueue(task) {
      const known = task.idempotencyKey ? byKey.get(task.idempotencyKey) : undefined;
      if (known) return { task: { id: known } as Task, created: false };
      enqueued.push(task);
      const id = `t${enqueued.length}`;
      if (task.idempotencyKey) byKey.set(task.idempotencyKey, id);
      return { task: { id } as Task, created: true };
    },
    enqueueMany: async () => [],
    cancel: async () => undefined,
    hold: async () => undefined,
    release: async () => undefined,
  };
  return { queue, enqueued };
}

function setup(options: { queue?: boolean } = {}) {
  const gate = new IntakeGate();
  gate.open();
  const events = new EventBus(memoryLogger().logger);
  const received: string[] = [];
  events.on('message.received', ({ message }) => void received.push(message.id));
  const { queue, enqueued } = recordingQueue();
  const router = new DefaultInboundRouter(gate, events, () =>
    options.queue === false ? undefined : queue,
  );
  return { router, enqueued, received, gate };
}

let nextId = 1;
const message = (text: string, extra: Partial<InboundMessage> = {}): InboundMessage => ({
  id: String(nextId++),
  from: { channel: 'chat', id: '42' },
  sender: { id: '7' },
  text,
  receivedAt: 0,
  ...extra,
});

describe('parseCommand', () => {
  it('reads the name, the mention, the arguments, and the text without the mention', () => {
    expect(parseCommand('  /new@My_Bot work  claude reviewer ')).toEqual({
      name: 'new',
      args: ['work', 'claude', 'reviewer'],
      argText: 'work  claude reviewer',
      addressedTo: 'My_Bot',
      text: '/new work  claude reviewer',
    });
    expect(parseCommand('/sessions')).toEqual({
      name: 'sessions',
      args: [],
      argText: '',
      text: '/sessions',
    });
  });

  it('is undefined for text that is not a command', () => {
    expect(parseCommand('hello /new')).toBeUndefined();
    expect(parseCommand('/')).toBeUndefined();
    expect(parseCommand('/new-thing')).toBeUndefined();
    expect(parseCommand('/path/to/file')).toBeUndefined();
  });

  it('knows whose a mention is, case aside; without a bot name every command is ours', () => {
    const mine = parseCommand('/system@MY_BOT')!;
    expect(isForBot(mine, 'my_bot')).toBe(true);
    expect(isForBot(mine, 'other_bot')).toBe(false);
    expect(isForBot(mine, undefined)).toBe(true);
    expect(isForBot(parseCommand('/system')!, 'my_bot')).toBe(true);
  });
});

describe('command()', () => {
  it('refuses a name a channel cannot show and a missing description', () => {
    expect(() => command('new-session', () => 'x', { description: 'd' })).toThrow(
      /not valid: use 1 to 32 letters/,
    );
    expect(() => command('ok', () => 'x', { description: ' ' })).toThrow(/needs a description/);
    expect(command('/ok', () => 'x', { description: 'Fine' }).command).toEqual({
      name: 'ok',
      description: 'Fine',
    });
  });
});

describe('DefaultInboundRouter', () => {
  it('enqueues a plain message with the default task, and a redelivery as a duplicate', async () => {
    const { router, enqueued, received } = setup();
    const m = message('hello', { metadata: { lang: 'en' } });
    expect(await router.dispatch(m)).toEqual({ outcome: 'accepted', taskId: 't1' });
    expect(await router.dispatch(m)).toEqual({ outcome: 'duplicate', taskId: 't1' });
    expect(enqueued).toEqual([
      {
        input: 'hello',
        type: 'message',
        idempotencyKey: `chat:msg:${m.id}`,
        sessionKey: 'chat:42',
        replyTo: { channel: 'chat', id: '42' },
        metadata: { sender: '7', lang: 'en' },
      },
    ]);
    expect(received).toEqual([m.id, m.id]);
  });

  it('runs commands, then admission, then routing, each in registration order', async () => {
    const { router, enqueued } = setup();
    const order: string[] = [];
    const step =
      (name: string): InboundMiddleware =>
      (ctx, next) => {
        order.push(name);
        ctx.task.metadata = { ...ctx.task.metadata, [name]: true };
        return next();
      };
    // Registered out of phase order on purpose: the phase decides, then registration.
    router.use(step('route-1'));
    router.use(step('admit-1'), { phase: 'admission' });
    router.use(step('route-2'), { phase: 'routing' });
    router.use(step('command-1'), { phase: 'commands' });
    router.use(step('admit-2'), { phase: 'admission' });
    await router.dispatch(message('hi'));
    expect(order).toEqual(['command-1', 'admit-1', 'admit-2', 'route-1', 'route-2']);
    expect(enqueued[0]?.metadata).toMatchObject({ 'route-1': true, 'command-1': true });
  });

  it('lets a middleware answer without a task, or refuse, and see the receipt of what follows', async () => {
    const { router, enqueued } = setup();
    const seen: unknown[] = [];
    router.use(async (_ctx, next) => {
      const receipt = await next();
      seen.push(receipt);
      return receipt;
    });
    router.use(
      (ctx, next) =>
        ctx.message.text === 'too much' ? { outcome: 'refused', reply: 'Over budget.' } : next(),
      { phase: 'admission' },
    );
    expect(await router.dispatch(message('too much'))).toEqual({
      outcome: 'refused',
      reply: 'Over budget.',
    });
    const ok = await router.dispatch(message('fine'));
    expect(ok.outcome).toBe('accepted');
    expect(seen).toEqual([ok]);
    expect(enqueued.map((t) => t.input)).toEqual(['fine']);
  });

  it('answers commands in the commands phase, before a refusal, and lists them in chain order', async () => {
    const { router, enqueued } = setup();
    router.use((_ctx) => ({ outcome: 'refused', reply: 'Over budget.' }), { phase: 'admission' });
    const off = router.use(
      command('ping', (ctx) => `pong ${ctx.command.argText}`, { description: 'Check the host' }),
    );
    router.use(command('help', () => 'Try /ping', { description: 'What this host does' }));
    expect(router.commands()).toEqual([
      { name: 'ping', description: 'Check the host' },
      { name: 'help', description: 'What this host does' },
    ]);
    expect(await router.dispatch(message('/ping  a b'))).toEqual({
      outcome: 'handled',
      reply: 'pong a b',
    });
    expect(await router.dispatch(message('/ping@my_bot x', { botName: 'my_bot' }))).toEqual({
      outcome: 'handled',
      reply: 'pong x',
    });
    off();
    expect(router.commands().map((c) => c.name)).toEqual(['help']);
    expect((await router.dispatch(message('/ping'))).outcome).toBe('refused');
    expect(enqueued).toEqual([]);
  });

  it('ignores a command addressed to another bot: no event, no task, no answer', async () => {
    const { router, enqueued, received } = setup();
    router.use(command('system', () => 'load 0.1', { description: 'System' }));
    expect(await router.dispatch(message('/system@other_bot', { botName: 'my_bot' }))).toEqual({
      outcome: 'ignored',
    });
    expect(await router.dispatch(message('/unknown@other_bot', { botName: 'my_bot' }))).toEqual({
      outcome: 'ignored',
    });
    expect(received).toEqual([]);
    expect(enqueued).toEqual([]);
  });

  it('enqueues an unknown command to this bot with the mention removed from its input', async () => {
    const { router, enqueued } = setup();
    await router.dispatch(message('/status@My_Bot now', { botName: 'my_bot' }));
    expect(enqueued[0]?.input).toBe('/status now');
  });

  it('lets routing replace the task and a command pass a message on with next()', async () => {
    const { router, enqueued } = setup();
    router.use(
      command('later', (ctx, next) => (ctx.command.args.length > 0 ? next() : 'Later what?'), {
        description: 'Remind later',
      }),
    );
    router.use((ctx, next) => {
      ctx.task = { ...ctx.task, agent: 'claude', sessionKey: 'session:s1' };
      return next();
    });
    expect((await router.dispatch(message('/later'))).reply).toBe('Later what?');
    expect((await router.dispatch(message('/later tea'))).outcome).toBe('accepted');
    expect(enqueued[0]).toMatchObject({
      input: '/later tea',
      agent: 'claude',
      sessionKey: 'session:s1',
    });
  });

  it('rejects a middleware that calls next() twice, and enqueues once', async () => {
    const { router, enqueued } = setup();
    router.use(async (_ctx, next) => {
      await next();
      return next();
    });
    const failure = await router.dispatch(message('hi')).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AgentdError);
    expect((failure as AgentdError).code).toBe('E_INBOUND_NEXT_TWICE');
    expect(enqueued).toHaveLength(1);
  });

  it('skips the commands a message is not, and calls every other middleware', async () => {
    const { router, enqueued } = setup();
    const ping = command('ping', () => 'pong', { description: 'Ping' });
    const help = command('help', () => 'help text', { description: 'Help' });
    expect(passesOn(ping, undefined)).toBe(true);
    expect(passesOn(ping, 'help')).toBe(true);
    expect(passesOn(ping, 'ping')).toBe(false);
    // A middleware of one's own that carries command info is always called.
    const seen: string[] = [];
    const own: InboundMiddleware = Object.assign(
      async (ctx: InboundContext, next: InboundNext) => {
        seen.push(ctx.message.text);
        return next();
      },
      { command: { name: 'own', description: 'Own' } },
    );
    expect(passesOn(own, undefined)).toBe(false);
    router.use(ping);
    router.use(own);
    router.use(help);
    expect(await router.dispatch(message('/help'))).toEqual({
      outcome: 'handled',
      reply: 'help text',
    });
    expect(await router.dispatch(message('/ping'))).toEqual({ outcome: 'handled', reply: 'pong' });
    expect(await router.dispatch(message('hello'))).toMatchObject({ outcome: 'accepted' });
    expect(seen).toEqual(['/help', 'hello']);
    expect(enqueued.map((t) => t.input)).toEqual(['hello']);
  });

  it('skips by the command in the context when the command is reached, as the command reads it', async () => {
    const { router } = setup();
    // An alias, earlier in the chain: `/p` becomes `/ping` for what follows.
    router.use(
      async (ctx: InboundContext, next: InboundNext) => {
        if (ctx.command?.name === 'p') {
          (ctx as { command: InboundContext['command'] }).command = {
            ...ctx.command,
            name: 'ping',
          };
        }
        return next();
      },
      { phase: 'commands' },
    );
    router.use(command('ping', () => 'pong', { description: 'Ping' }));
    expect(await router.dispatch(message('/p'))).toEqual({ outcome: 'handled', reply: 'pong' });
  });

  it('rejects next() twice from a middleware that follows skipped commands', async () => {
    const { router, enqueued } = setup();
    router.use(command('ping', () => 'pong', { description: 'Ping' }));
    router.use(
      async (_ctx, next) => {
        await next();
        return next();
      },
      { phase: 'routing' },
    );
    const failure = await router.dispatch(message('hi')).catch((e: unknown) => e);
    expect((failure as AgentdError).code).toBe('E_INBOUND_NEXT_TWICE');
    expect(enqueued).toHaveLength(1);
  });

  it('refuses work when the host has no task store', async () => {
    const { router } = setup({ queue: false });
    expect(await router.dispatch(message('hi'))).toEqual({
      outcome: 'refused',
      reply: 'This host has no task store configured, so it cannot take work.',
    });
  });

  it('waits at the readiness barrier and rejects once the host stops', async () => {
    const gate = new IntakeGate();
    const { queue, enqueued } = recordingQueue();
    const router = new DefaultInboundRouter(gate, new EventBus(memoryLogger().logger), () => queue);
    const pending = router.dispatch(message('early'));
    await new Promise((r) => setTimeout(r, 10));
    expect(enqueued).toEqual([]);
    gate.open();
    expect((await pending).outcome).toBe('accepted');
    gate.close();
    await expect(router.dispatch(message('late'))).rejects.toBeInstanceOf(IntakeClosedError);
  });

  it('refuses an unknown phase with the phases it knows', () => {
    const { router } = setup();
    expect(() =>
      router.use((_c, next) => next(), { phase: 'later' as unknown as 'routing' }),
    ).toThrow('unknown inbound phase "later": use one of commands, admission, routing');
  });
});
