import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Agent } from '../contracts/agent.js';
import {
  type Address,
  ChannelRegistryToken,
  type InboundMessage,
  InboundRouterToken,
} from '../contracts/channel.js';
import { TaskQueueToken, TaskStoreToken } from '../contracts/task.js';
import type { Host } from '../kernel/host.js';
import { command } from '../kernel/inbound-command.js';
import type { Plugin } from '../kernel/plugin.js';
import { agent } from '../runtime/function-agent.js';

/**
 * What the suite adds to the host a harness builds: an `echo` agent (answers `echo: <input>`)
 * as the default agent, and a plugin that adds the `/contract_ping` command and records the
 * `message.received` events.
 */
export interface ChannelContractParts {
  agents: Agent[];
  plugins: Plugin[];
}

/** A message the harness put on the channel's transport, as the harness knows it. */
export interface InjectedMessage {
  /** The transport's id of the delivery (a Telegram `update_id`), for {@link ChannelHarness.redeliver}. */
  id: string | number;
}

/**
 * One channel under test: a started host with the channel, a task store and the suite's
 * {@link ChannelContractParts}, wired to a fake transport the harness controls (a fake Bot API
 * server on loopback for Telegram).
 */
export interface ChannelHarness {
  /** The started host. The suite stops it in one test; `close` must cope with either state. */
  host: Host;
  /** The name the channel registers under (`Address.channel` of its addresses). */
  channel: string;
  /** The conversation of the fake user the harness sends as: replies there are read by `sent`. */
  to: Address;
  /**
   * Puts a text message from the fake user on the transport. Resolves once it is on the
   * transport (not once the channel took it: the suite waits for its effects).
   */
  inject(text: string): Promise<InjectedMessage>;
  /**
   * Delivers `message` again, as the transport does after a crash (at-least-once delivery), and
   * resolves once the channel has taken the repeat (confirmed it, answered 2xx).
   */
  redeliver(message: InjectedMessage): Promise<void>;
  /** The texts the transport received for `to`, in the order sent. */
  sent(): string[];
  /** How many calls the transport received in all: the suite checks it stays still after stop. */
  transportCalls(): number;
  /** The channel's limit per message, when it has one: longer texts must arrive split. */
  textLimit?: number;
  /** The command names the channel published (a menu), when the channel publishes commands. */
  publishedCommands?(): string[] | undefined;
  /** Stops the host (when still running) and closes the fake transport. */
  close(): Promise<void>;
}

/** Options of {@link describeChannelContract}. */
export interface ChannelContractOptions {
  /** How long to wait for an effect on the transport (default 10 s). */
  timeoutMs?: number;
}

const PING = 'contract_ping';

/**
 * Registers vitest tests for what every channel plugin must do: register with the
 * ChannelRegistry under its name; deliver `send()` and return the delivered ids, in every
 * message format and split at its length limit; hand inbound messages to the router with
 * an id that stays stable across a redelivery (no second task); send a task's result to its
 * `replyTo`; answer and (when it publishes a menu) list router commands; stop cleanly and leave
 * the transport alone afterwards.
 *
 * @param name - Shown in the test names.
 * @param start - Builds and starts a host with the channel on a fake transport, adding the
 *   suite's `parts` (its agents and plugins) to the host config.
 *
 * @example
 * ```ts
 * import { describeChannelContract } from '@agentd/core/testing';
 *
 * describeChannelContract('telegram', async (parts) => {
 *   const api = await FakeBotApi.start();
 *   const host = createHost({
 *     agents: parts.agents,
 *     plugins: [sqlite({ path }), telegram({ token: api.token, apiRoot: api.url, allowedUsers: [42] }), ...parts.plugins],
 *   });
 *   await host.start();
 *   return {
 *     host, channel: 'telegram', to: { channel: 'telegram', id: '42' },
 *     inject: async (text) => ({ id: api.sendText({ id: 42 }, text) }),
 *     redeliver: async ({ id }) => { api.redeliverFrom(Number(id)); await api.waitFor(() => api.confirmedBelow > Number(id)); },
 *     sent: () => api.messages(42).map((m) => String(m.text)),
 *     transportCalls: () => api.calls.length,
 *     close: async () => { await host.stop(); await api.close(); },
 *   };
 * });
 * ```
 */
export function describeChannelContract(
  name: string,
  start: (parts: ChannelContractParts) => Promise<ChannelHarness>,
  options: ChannelContractOptions = {},
): void {
  const timeout = options.timeoutMs ?? 10_000;
  const waitFor = <T>(check: () => T) => vi.waitFor(check, { timeout, interval: 20 });
  /** Time for something that must not happen (a second reply, a late call) to show up. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

  describe(`channel contract: ${name}`, () => {
    let harness: ChannelHarness | undefined;
    let received: InboundMessage[] = [];

    afterEach(async () => {
      await harness?.close();
      harness = undefined;
    });

    async function open(): Promise<ChannelHarness> {
      received = [];
      const recorder: Plugin = {
        name: 'channel-contract',
        register(ctx) {
          ctx.events.on('message.received', ({ message }) => void received.push(message));
          ctx.resolve(InboundRouterToken).use(
            command(PING, (c) => `pong${c.command.argText ? ` ${c.command.argText}` : ''}`, {
              description: 'Answer pong (channel contract suite)',
            }),
          );
        },
      };
      harness = await start({
        agents: [agent('echo', async (input) => `echo: ${String(input)}`)],
        plugins: [recorder],
      });
      return harness;
    }

    const messageTasks = async (h: ChannelHarness) =>
      (await h.host.resolve(TaskStoreToken).list({ limit: 1000 })).filter(
        (t) => t.type === 'message',
      );

    it('registers with the ChannelRegistry under its name', async () => {
      const h = await open();
      const channel = h.host.resolve(ChannelRegistryToken).get(h.channel);
      expect(channel?.name).toBe(h.channel);
      expect(h.to.channel).toBe(h.channel);
    });

    it('delivers send() to an address and returns the delivered ids', async () => {
      const h = await open();
      const sent = await h.host
        .resolve(ChannelRegistryToken)
        .send(h.to, { text: 'hello from the contract' });
      expect(sent.ids.length).toBeGreaterThan(0);
      for (const id of sent.ids) expect(typeof id).toBe('string');
      await waitFor(() => expect(h.sent()).toContain('hello from the contract'));
    });

    it('delivers every message format (degrading to plain text where unsupported)', async () => {
      const h = await open();
      const registry = h.host.resolve(ChannelRegistryToken);
      await registry.send(h.to, { text: 'plain words', format: 'plain' });
      await registry.send(h.to, { text: '*markdown words*', format: 'markdown' });
      await registry.send(h.to, { text: '<b>html words</b>', format: 'html' });
      await waitFor(() => {
        const texts = h.sent().join('\n');
        expect(texts).toContain('plain words');
        expect(texts).toContain('markdown words');
        expect(texts).toContain('html words');
      });
    });

    it('splits a text longer than its limit into parts within the limit, losing nothing', async (ctx) => {
      const h = await open();
      if (h.textLimit === undefined) return ctx.skip();
      const words = Array.from({ length: Math.ceil((h.textLimit * 2.5) / 8) }, (_, i) =>
        `w${i}`.padEnd(7, 'x'),
      );
      const text = words.join(' ');
      const sent = await h.host.resolve(ChannelRegistryToken).send(h.to, { text });
      expect(sent.ids.length).toBeGreaterThanOrEqual(3);
      await waitFor(() => expect(h.sent().length).toBeGreaterThanOrEqual(sent.ids.length));
      const parts = h.sent().slice(-sent.ids.length);
      for (const part of parts) expect(part.length).toBeLessThanOrEqual(h.textLimit);
      expect(parts.join(' ').split(/\s+/).filter(Boolean)).toEqual(words);
    });

    it('hands an inbound message to the router and sends the task result to its replyTo', async () => {
      const h = await open();
      await h.inject('hello channel');
      await waitFor(() => expect(h.sent()).toContain('echo: hello channel'));
      const [task, ...others] = await messageTasks(h);
      expect(others).toEqual([]);
      expect(task?.replyTo).toMatchObject({ channel: h.channel, id: h.to.id });
      expect(received.map((m) => m.text)).toEqual(['hello channel']);
      expect(received[0]?.id).toEqual(expect.any(String));
    });

    it('gives a redelivered message the same id, so it becomes no second task', async () => {
      const h = await open();
      const injected = await h.inject('only once');
      await waitFor(() => expect(h.sent()).toContain('echo: only once'));
      await h.redeliver(injected);
      // A channel may drop the repeat itself or hand it on: either way with the same id.
      await settle();
      expect(new Set(received.map((m) => m.id)).size).toBe(1);
      expect((await messageTasks(h)).map((t) => t.input)).toEqual(['only once']);
      expect(h.sent().filter((t) => t === 'echo: only once')).toHaveLength(1);
    });

    it("sends the result of a task created elsewhere to the task's replyTo", async () => {
      const h = await open();
      await h.host.resolve(TaskQueueToken).enqueue({ input: 'from a schedule', replyTo: h.to });
      await waitFor(() => expect(h.sent()).toContain('echo: from a schedule'));
    });

    it('answers a router command without a task, and publishes it when it has a menu', async () => {
      const h = await open();
      await h.inject(`/${PING} there`);
      await waitFor(() => expect(h.sent()).toContain('pong there'));
      expect(await messageTasks(h)).toEqual([]);
      if (h.publishedCommands) {
        await waitFor(() => expect(h.publishedCommands?.()).toContain(PING));
      }
    });

    it('stops cleanly and leaves the transport alone afterwards', async () => {
      const h = await open();
      await h.inject('before stop');
      await waitFor(() => expect(h.sent()).toContain('echo: before stop'));
      const result = await h.host.stop('channel contract');
      expect(result).toMatchObject({ ok: true, failures: [] });
      const calls = h.transportCalls();
      await settle();
      expect(h.transportCalls()).toBe(calls);
    });
  });
}
