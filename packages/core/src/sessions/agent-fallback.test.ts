import { describe, expect, it } from 'vitest';
import { EventBus } from '../kernel/events.js';
import { DefaultAgentRegistry } from '../kernel/registries.js';
import { agent } from '../runtime/function-agent.js';
import { ManualClock } from '../testing/manual-clock.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { openMemoryStore } from '../testing/memory-store.js';
import { SessionError, SessionManager } from './manager.js';

const USER = { channel: 'telegram', id: '42' };

describe('SessionManager.withKnownAgent: a session whose agent was removed', () => {
  /** A manager over a store, with the given agents; the session names `extra`. */
  async function sessionOfRemovedAgent(agents: string[]) {
    const store = openMemoryStore();
    const clock = new ManualClock();
    const session = await store.sessions.create(
      {
        userKey: 'telegram:42',
        address: USER,
        name: 'work',
        agent: 'extra',
        persona: null,
        idleTimeoutMs: 600_000,
      },
      clock.now(),
    );
    await store.sessions.update(session.id, { status: 'suspended', snapshot: { turn: 3 } });
    const registry = new DefaultAgentRegistry();
    for (const name of agents) registry.add(agent(name, () => name));
    const { logger, text } = memoryLogger();
    const manager = new SessionManager({
      store: store.sessions,
      agents: registry,
      clock,
      logger,
      events: new EventBus(logger),
    });
    return { manager, store, session: (await store.sessions.get(session.id))!, logs: text };
  }

  it('re-binds it to the default agent once, dropping the old agent’s state', async () => {
    const { manager, session, logs } = await sessionOfRemovedAgent(['echo', 'other']);
    const { session: rebound, replacedAgent } = await manager.withKnownAgent(session);
    expect(replacedAgent).toBe('extra');
    expect(rebound).toMatchObject({ id: session.id, name: 'work', agent: 'echo', snapshot: null });
    expect(logs()).toContain('named a removed agent; it now uses the default agent');
    // Known now: nothing more to do, no second notice.
    expect(await manager.withKnownAgent(rebound)).toEqual({ session: rebound });
  });

  it('refuses with a message the user can act on when there is no agent to fall back to', async () => {
    const { manager, store, session } = await sessionOfRemovedAgent([]);
    const refusal = await manager.withKnownAgent(session).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(SessionError);
    expect(refusal).toMatchObject({
      code: 'E_UNKNOWN_AGENT',
      message:
        'Your session "work" uses agent "extra", which this host no longer has: /switch or /new',
    });
    expect((await store.sessions.get(session.id))?.agent).toBe('extra');
  });
});
