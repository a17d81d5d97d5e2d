// The mailbox channel's own rules, on a real host's router and StateStore (the memory store):
// a kept inbound message and a repeat of its id, and what a refused dispatch leaves behind.
import { describe, expect, it } from 'vitest';
import { InboundRouterToken } from '../contracts/channel.js';
import { StateStoreToken } from '../contracts/state.js';
import { TaskStoreToken } from '../contracts/task.js';
import { systemClock } from '../kernel/system-clock.js';
import { createHost } from '../preset/host.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { memoryStore } from '../testing/memory-store.js';
import { useTestHosts } from '../testing/test-hosts.js';
import { agent } from './function-agent.js';
import { MailboxChannel, parseChatPost } from './mailbox-channel.js';

const { hosts, store } = useTestHosts('agentd-mailbox-');

async function startHost() {
  const host = createHost({
    logger: memoryLogger().logger,
    agents: [agent('echo', (input) => `echo: ${String(input)}`)],
    plugins: [memoryStore({ store: store() })],
  });
  hosts.push(host);
  await host.start();
  return host;
}

describe('MailboxChannel', () => {
  it('keeps the inbound message, and refuses a repeat of its id before the router sees it', async () => {
    const host = await startHost();
    const state = host.resolve(StateStoreToken);
    const chat = new MailboxChannel({ name: 'web', state: () => state, clock: systemClock });
    const router = host.resolve(InboundRouterToken);
    const inbound = { conversation: 'local', id: 'm-1', text: 'hello' };
    expect(await chat.receive(router, undefined, inbound, { keepInbound: true })).toMatchObject({
      outcome: 'accepted',
    });
    expect(await chat.receive(router, undefined, inbound, { keepInbound: true })).toEqual({
      outcome: 'duplicate',
    });
    const { messages } = await chat.read('local', '', 0);
    expect(messages).toEqual([expect.objectContaining({ text: 'hello', from: 'client' })]);
    // A second channel object on the same store (a restart) still knows the id.
    const again = new MailboxChannel({ name: 'web', state: () => state, clock: systemClock });
    expect(await again.receive(router, undefined, inbound, { keepInbound: true })).toEqual({
      outcome: 'duplicate',
    });
    expect((await host.resolve(TaskStoreToken).list({ limit: 10 })).length).toBe(1);
  });

  it('takes the kept message back when the router refuses it, so the same id may be sent again', async () => {
    const stopping = await startHost();
    const closedRouter = stopping.resolve(InboundRouterToken);
    await stopping.stop('test');
    const chat = new MailboxChannel({ name: 'web', state: () => undefined, clock: systemClock });
    const inbound = { conversation: 'local', id: 'm-1', text: 'hello' };
    await expect(
      chat.receive(closedRouter, undefined, inbound, { keepInbound: true }),
    ).rejects.toThrow();
    expect((await chat.read('local', '', 0)).messages).toEqual([]);
    const running = await startHost();
    const receipt = await chat.receive(running.resolve(InboundRouterToken), undefined, inbound, {
      keepInbound: true,
    });
    expect(receipt.outcome).toBe('accepted');
    expect((await chat.read('local', '', 0)).messages.map((m) => m.text)).toEqual(['hello']);
  });

  it('answers waiting reads at once when the host stops, and later reads too', async () => {
    const chat = new MailboxChannel({ name: 'web', state: () => undefined, clock: systemClock });
    const waiting = chat.read('local', '', 60_000);
    chat.wakeAll();
    expect(await waiting).toEqual({ messages: [] });
    // A read that waited its 60 s would outlast the test's 5 s timeout.
    expect(await chat.read('local', '', 60_000)).toEqual({ messages: [] });
  });

  it('names every problem of a posted body in one 400', () => {
    expect(() => parseChatPost({ text: '', id: 'a/b', extra: 1 })).toThrow(
      /text: .*id: must be 1-100 .*Unrecognized key/s,
    );
    expect(parseChatPost({ text: 'two\nlines\tok' })).toEqual({ text: 'two\nlines\tok' });
  });
});
