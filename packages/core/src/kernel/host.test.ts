import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type InboundMessage, InboundRouterToken } from '../contracts/channel.js';
import { LoggerToken } from '../contracts/logger.js';

import { memoryLogger } from '../testing/memory-logger.js';
import { ConfigError, HostStartError, IntakeClosedError } from './errors.js';
import { createKernelHost as createHost } from './host.js';
import type { Plugin } from './plugin.js';
import { createToken } from './token.js';
import { IntakeGateToken } from './tokens.js';

const CounterToken = createToken<{ value: number }>('test.counter');

function recorder() {
  const calls: string[] = [];
  const plugin = (name: string, extra: Partial<Plugin> = {}): Plugin => ({
    name,
    register: () => {
      calls.push(`register:${name}`);
    },
    start: () => {
      calls.push(`start:${name}`);
    },
    stop: () => {
      calls.push(`stop:${name}`);
    },
    ...extra,
  });
  return { calls, plugin };
}

const quiet = () => memoryLogger().logger;

describe('host lifecycle', () => {
  it('registers all, then starts all in dependency order, and stops in reverse', async () => {
    const { calls, plugin } = recorder();
    const host = createHost({
      logger: quiet(),
      plugins: [
        plugin('web', { dependsOn: ['db'] }),
        plugin('db'),
        false,
        [plugin('cron', { dependsOn: ['web'] })],
      ],
    });
    await host.start();
    expect(host.state).toBe('ready');
    // A kernel host has the config's plugins only: no preset, so no built-in notifier.
    expect(host.plugins).toEqual(['db', 'web', 'cron']);
    const result = await host.stop('test');
    expect(result).toEqual({ ok: true, reason: 'test', failures: [], abandoned: 0 });
    expect(calls).toEqual([
      'register:db',
      'register:web',
      'register:cron',
      'start:db',
      'start:web',
      'start:cron',
      'stop:cron',
      'stop:web',
      'stop:db',
    ]);
    expect(host.state).toBe('stopped');
  });

  it('shares services between plugins through typed tokens', async () => {
    let seen: number | undefined;
    const host = createHost({
      logger: quiet(),
      plugins: [
        {
          name: 'reader',
          dependsOn: [CounterToken],
          start: (ctx) => {
            seen = ctx.resolve(CounterToken).value;
          },
        },
        {
          name: 'provider',
          provides: [CounterToken],
          register: (ctx) => ctx.provide(CounterToken, { value: 42 }),
        },
      ],
    });
    await host.start();
    expect(seen).toBe(42);
    expect(host.resolve(CounterToken).value).toBe(42);
    await host.stop();
  });

  it('keeps two hosts in one process apart', async () => {
    const make = (value: number) =>
      createHost({
        logger: quiet(),
        plugins: [
          {
            name: 'p',
            provides: [CounterToken],
            register: (ctx) => ctx.provide(CounterToken, { value }),
          },
        ],
      });
    const a = make(1);
    const b = make(2);
    await Promise.all([a.start(), b.start()]);
    expect([a.resolve(CounterToken).value, b.resolve(CounterToken).value]).toEqual([1, 2]);
    expect(a.resolve(LoggerToken)).not.toBe(b.resolve(LoggerToken));
    await Promise.all([a.stop(), b.stop()]);
  });

  it('names the plugin that resolves a service nobody provides', async () => {
    const host = createHost({
      logger: quiet(),
      plugins: [{ name: 'greedy', start: (ctx) => void ctx.resolve(CounterToken) }],
    });
    await expect(host.start()).rejects.toThrow(
      'plugin "greedy" failed to start: plugin "greedy" needs service "test.counter", but no plugin provides it',
    );
    expect(host.state).toBe('failed');
  });

  it('refuses provide() outside register', async () => {
    const host = createHost({
      logger: quiet(),
      plugins: [{ name: 'late', start: (ctx) => ctx.provide(CounterToken, { value: 1 }) }],
    });
    await expect(host.start()).rejects.toThrow(/plugin "late" called provide outside register\(\)/);
  });

  it('refuses a plugin that declares a service it never provides', async () => {
    const host = createHost({
      logger: quiet(),
      plugins: [{ name: 'liar', provides: [CounterToken] }],
    });
    await expect(host.start()).rejects.toThrow(
      /"liar" declares it provides "test.counter" but did not provide it/,
    );
  });

  it('times out a hanging start, then stops the plugins already started (and the hung one)', async () => {
    const { calls, plugin } = recorder();
    const host = createHost({
      logger: quiet(),
      timeouts: { startMs: 100 },
      plugins: [
        plugin('a'),
        plugin('hang', { start: () => new Promise(() => {}) }),
        plugin('never'),
      ],
    });
    const error = await host.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostStartError);
    expect((error as Error).message).toBe(
      'plugin "hang" failed to start: plugin "hang" start did not finish within 100 ms',
    );
    expect(calls).toEqual([
      'register:a',
      'register:hang',
      'register:never',
      'start:a',
      'stop:hang',
      'stop:a',
    ]);
    expect(host.state).toBe('failed');
  });

  it('stops every plugin even when one stop throws or hangs, and reports each failure', async () => {
    const { calls, plugin } = recorder();
    const host = createHost({
      logger: quiet(),
      timeouts: { stopMs: 100 },
      plugins: [
        plugin('first'),
        plugin('thrower', { stop: () => Promise.reject(new Error('disk gone')) }),
        plugin('hanger', { stop: () => new Promise(() => {}) }),
        plugin('last'),
      ],
    });
    await host.start();
    const result = await host.stop('SIGTERM');
    expect(result.ok).toBe(false);
    expect(result.failures).toEqual([
      {
        plugin: 'hanger',
        phase: 'stop',
        error: 'plugin "hanger" stop did not finish within 100 ms',
      },
      { plugin: 'thrower', phase: 'stop', error: 'disk gone' },
    ]);
    expect(calls.filter((c) => c.startsWith('stop:'))).toEqual(['stop:last', 'stop:first']);
  });

  it('is idempotent: a second stop returns the first result', async () => {
    const host = createHost({ logger: quiet(), plugins: [] });
    await host.start();
    const [a, b] = await Promise.all([host.stop('one'), host.stop('two')]);
    expect(a).toBe(b);
    await expect(host.start()).rejects.toThrow(/already started/);
  });

  it('validates the config before anything registers', async () => {
    const { calls, plugin } = recorder();
    const host = createHost({
      logger: quiet(),
      plugins: [
        plugin('ok'),
        { ...plugin('bad'), optionsSchema: z.object({ port: z.number() }), options: { port: 'x' } },
      ],
    });
    const error = await host.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      'plugins[1].port: Invalid input: expected number, received string',
    ]);
    expect(calls).toEqual([]);
  });

  it('gives plugins their validated options', async () => {
    let port: number | undefined;
    const schema = z.object({ port: z.coerce.number().default(8080) });
    const web: Plugin<z.output<typeof schema>> = {
      name: 'web',
      optionsSchema: schema,
      options: { port: '${TEST_PORT}' },
      start: (ctx) => {
        port = ctx.options.port;
      },
    };
    const host = createHost({ logger: quiet(), plugins: [web] }, { env: { TEST_PORT: '9090' } });
    await host.start();
    expect(port).toBe(9090);
    await host.stop();
  });
});

describe('readiness barrier and drain', () => {
  const message: InboundMessage = {
    id: '1',
    from: { channel: 'test', id: 'chat' },
    sender: { id: 'u' },
    text: 'hi',
    receivedAt: 0,
  };

  it('holds inbound dispatch until every plugin has started', async () => {
    const order: string[] = [];
    let releaseSlow!: () => void;
    const host = createHost({
      logger: quiet(),
      plugins: [
        {
          name: 'channel',
          register: (ctx) => {
            ctx.resolve(InboundRouterToken).use(() => {
              order.push('handled');
              return { outcome: 'handled' };
            });
          },
          // A channel that receives a message as soon as it starts, like a bot polling.
          start: (ctx) => {
            void ctx
              .resolve(InboundRouterToken)
              .dispatch(message)
              .then(() => order.push('dispatched'));
          },
        },
        {
          name: 'slow-worker-pool',
          start: () =>
            new Promise<void>((resolve) => {
              releaseSlow = () => {
                order.push('workers started');
                resolve();
              };
            }),
        },
      ],
    });
    const started = host.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual([]);
    releaseSlow();
    await started;
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['workers started', 'handled', 'dispatched']);
    await host.stop();
  });

  it('refuses new work while stopping and waits for work in flight before stop hooks', async () => {
    const order: string[] = [];
    let finish!: () => void;
    const host = createHost({
      logger: quiet(),
      plugins: [{ name: 'p', stop: () => void order.push('stop hook') }],
    });
    await host.start();
    const gate = host.resolve(IntakeGateToken);
    const inFlight = gate
      .run(() => new Promise<void>((r) => (finish = r)))
      .then(() => order.push('work done'));
    const stopping = host.stop('test');
    await expect(gate.run(async () => 'late')).rejects.toBeInstanceOf(IntakeClosedError);
    await expect(host.resolve(InboundRouterToken).dispatch(message)).rejects.toBeInstanceOf(
      IntakeClosedError,
    );
    await new Promise((r) => setTimeout(r, 20));
    finish();
    await inFlight;
    const result = await stopping;
    expect(order).toEqual(['work done', 'stop hook']);
    expect(result.ok).toBe(true);
  });

  it('stops anyway after the drain deadline and says how much was abandoned', async () => {
    const host = createHost({ logger: quiet(), timeouts: { drainMs: 50 }, plugins: [] });
    await host.start();
    void host.resolve(IntakeGateToken).run(() => new Promise(() => {}));
    const result = await host.stop('test');
    expect(result).toMatchObject({ ok: false, abandoned: 1 });
  });
});
