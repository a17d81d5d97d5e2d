import { describe, expect, it } from 'vitest';
import type { NewSession, SessionStore } from '../../contracts/session.js';
import {
  type ContractFactory,
  type ContractSuiteOptions,
  MINUTE,
  rejection,
  T0,
  useSubject,
} from './shared.js';

/**
 * Declares, as vitest tests, the behaviour every {@link SessionStore} must have: sessions
 * created with defaults, exactly one active session per user, lookups by name, user and status,
 * patches that change only what they name, and history (the newest entries, oldest first).
 * Each test gets a fresh session store from `createSessions`.
 *
 * @example
 * ```ts
 * import { describeSessionStoreContract, openMemoryStore } from '@agentd/core/testing';
 *
 * describeSessionStoreContract('memory', () => openMemoryStore().sessions);
 * ```
 */
export function describeSessionStoreContract(
  name: string,
  createSessions: ContractFactory<SessionStore>,
  options: ContractSuiteOptions<SessionStore> = {},
): void {
  describe(`SessionStore contract: ${name}`, () => {
    const subject = useSubject(createSessions, options);
    const store = {
      get sessions() {
        return subject.current;
      },
    };
    describe('sessions', () => {
      const user = 'telegram:42';
      const newSession = (extra: Partial<NewSession> = {}): NewSession => ({
        userKey: user,
        address: { channel: 'telegram', id: '42' },
        name: 'main',
        agent: 'claude',
        ...extra,
      });

      it('creates a session with defaults and reads it back', async () => {
        const session = await store.sessions.create(newSession(), T0);
        expect(session).toMatchObject({
          userKey: user,
          address: { channel: 'telegram', id: '42' },
          name: 'main',
          agent: 'claude',
          persona: null,
          active: false,
          idleTimeoutMs: 10 * MINUTE,
          lastActivityAt: T0,
          createdAt: T0,
          snapshot: null,
          resource: null,
          owner: null,
          metadata: {},
        });
        expect(typeof session.id).toBe('string');
        expect(['live', 'idle', 'suspended']).toContain(session.status);
        expect(await store.sessions.get(session.id)).toEqual(session);
        expect(await store.sessions.get('no-such-session')).toBeUndefined();
        const other = await store.sessions.create(
          newSession({
            name: 'work',
            persona: 'reviewer',
            idleTimeoutMs: 5 * MINUTE,
            metadata: { lang: 'de' },
          }),
          T0,
        );
        expect(other).toMatchObject({
          persona: 'reviewer',
          idleTimeoutMs: 5 * MINUTE,
          metadata: { lang: 'de' },
        });
        expect(other.id).not.toBe(session.id);
      });

      it('keeps exactly one active session per user', async () => {
        const a = await store.sessions.create(newSession({ name: 'a' }), T0);
        const b = await store.sessions.create(newSession({ name: 'b' }), T0 + 1);
        const theirs = await store.sessions.create(
          newSession({ userKey: 'telegram:7', name: 'x' }),
          T0,
        );
        expect(await store.sessions.findActive(user)).toBeUndefined();
        await store.sessions.activate(user, a.id);
        await store.sessions.activate('telegram:7', theirs.id);
        expect((await store.sessions.findActive(user))?.id).toBe(a.id);
        await store.sessions.activate(user, b.id);
        expect((await store.sessions.findActive(user))?.id).toBe(b.id);
        expect((await store.sessions.get(a.id))?.active).toBe(false);
        expect((await store.sessions.get(b.id))?.active).toBe(true);
        expect((await store.sessions.listByUser(user)).filter((s) => s.active)).toHaveLength(1);
        expect((await store.sessions.findActive('telegram:7'))?.id).toBe(theirs.id);
        await store.sessions.activate(user, b.id);
        expect((await store.sessions.findActive(user))?.id).toBe(b.id);
      });

      it('rejects activating an unknown or foreign session and keeps the active one', async () => {
        const a = await store.sessions.create(newSession(), T0);
        const theirs = await store.sessions.create(newSession({ userKey: 'telegram:7' }), T0);
        await store.sessions.activate(user, a.id);
        await rejection(store.sessions.activate(user, 'no-such-session'));
        await rejection(store.sessions.activate(user, theirs.id));
        expect((await store.sessions.findActive(user))?.id).toBe(a.id);
        expect((await store.sessions.get(theirs.id))?.active).toBe(false);
      });

      it('finds a session by name within its user', async () => {
        const work = await store.sessions.create(newSession({ name: 'work' }), T0);
        await store.sessions.create(newSession({ userKey: 'telegram:7', name: 'work' }), T0);
        expect((await store.sessions.findByName(user, 'work'))?.id).toBe(work.id);
        expect(await store.sessions.findByName(user, 'play')).toBeUndefined();
        expect(await store.sessions.findByName('telegram:8', 'work')).toBeUndefined();
      });

      it('lists a user’s sessions oldest first, archived ones only on request', async () => {
        const a = await store.sessions.create(newSession({ name: 'a' }), T0);
        const b = await store.sessions.create(newSession({ name: 'b' }), T0 + 1);
        const c = await store.sessions.create(newSession({ name: 'c' }), T0 + 2);
        await store.sessions.create(newSession({ userKey: 'telegram:7' }), T0);
        await store.sessions.update(b.id, { status: 'archived' });
        expect((await store.sessions.listByUser(user)).map((s) => s.id)).toEqual([a.id, c.id]);
        expect(
          (await store.sessions.listByUser(user, { includeArchived: true })).map((s) => s.id),
        ).toEqual([a.id, b.id, c.id]);
        expect(await store.sessions.listByUser('telegram:999')).toEqual([]);
      });

      it('lists sessions by status', async () => {
        const live = await store.sessions.create(newSession({ name: 'live' }), T0);
        const suspended = await store.sessions.create(newSession({ name: 'suspended' }), T0 + 1);
        const archived = await store.sessions.create(newSession({ name: 'archived' }), T0 + 2);
        await store.sessions.update(live.id, { status: 'live' });
        await store.sessions.update(suspended.id, { status: 'suspended' });
        await store.sessions.update(archived.id, { status: 'archived' });
        const found = await store.sessions.listByStatus(['live', 'suspended']);
        expect(found.map((s) => s.id).sort()).toEqual([live.id, suspended.id].sort());
        expect((await store.sessions.listByStatus(['archived'])).map((s) => s.id)).toEqual([
          archived.id,
        ]);
        expect(await store.sessions.listByStatus([])).toEqual([]);
      });

      it('updates the patched fields only', async () => {
        const session = await store.sessions.create(newSession(), T0);
        const patch = {
          status: 'suspended' as const,
          lastActivityAt: T0 + 5,
          snapshot: { conversationId: 'c-1', turns: [1, 2] },
          resource: { pid: 1234, command: 'claude' },
          owner: 'host-a:4242:81237:0badc0de@box',
          metadata: { lang: 'en' },
          persona: 'pirate',
          idleTimeoutMs: 2 * MINUTE,
          name: 'renamed',
          agent: 'gpt',
        };
        const updated = await store.sessions.update(session.id, patch);
        // A fresh copy: the store must not keep (or hand back) the caller's objects.
        const expected = { ...session, ...structuredClone(patch) };
        expect(updated).toEqual(expected);
        expect(await store.sessions.get(session.id)).toEqual(expected);
        const cleared = await store.sessions.update(session.id, {
          snapshot: null,
          resource: null,
          persona: null,
          owner: null,
        });
        expect(cleared).toEqual({
          ...expected,
          snapshot: null,
          resource: null,
          persona: null,
          owner: null,
        });
        expect(await store.sessions.update('no-such-session', { status: 'live' })).toBeUndefined();
      });

      it('returns the newest history entries, oldest first', async () => {
        const session = await store.sessions.create(newSession(), T0);
        const other = await store.sessions.create(newSession({ name: 'other' }), T0);
        const roles = ['user', 'assistant', 'system', 'tool', 'user'] as const;
        for (const [i, role] of roles.entries()) {
          await store.sessions.appendHistory(session.id, {
            role,
            content: `turn ${i}`,
            at: T0 + i,
            ...(i === 1 ? { taskId: 'task-1' } : {}),
          });
        }
        await store.sessions.appendHistory(other.id, {
          role: 'user',
          content: 'elsewhere',
          at: T0,
        });
        expect(await store.sessions.history(session.id, 3)).toEqual([
          { role: 'system', content: 'turn 2', at: T0 + 2 },
          { role: 'tool', content: 'turn 3', at: T0 + 3 },
          { role: 'user', content: 'turn 4', at: T0 + 4 },
        ]);
        const all = await store.sessions.history(session.id, 100);
        expect(all.map((e) => e.content)).toEqual([
          'turn 0',
          'turn 1',
          'turn 2',
          'turn 3',
          'turn 4',
        ]);
        expect(all[1]).toEqual({
          role: 'assistant',
          content: 'turn 1',
          at: T0 + 1,
          taskId: 'task-1',
        });
        expect(await store.sessions.history(other.id, 10)).toEqual([
          { role: 'user', content: 'elsewhere', at: T0 },
        ]);
      });

      it('records the end of a run (its turn, its last activity) in one call, where it can', async () => {
        const recordTurn = store.sessions.recordTurn?.bind(store.sessions);
        // Optional: a store without it is written to by appendHistory and update instead.
        if (!recordTurn) return;
        const session = await store.sessions.create(newSession(), T0);
        await store.sessions.appendHistory(session.id, { role: 'user', content: 'before', at: T0 });
        const turn = [
          { role: 'user' as const, content: 'question', at: T0 + 5, taskId: 'task-7' },
          { role: 'assistant' as const, content: 'answer', at: T0 + 5, taskId: 'task-7' },
        ];
        const updated = await recordTurn(session.id, turn, T0 + MINUTE);
        expect(updated).toEqual({ ...session, lastActivityAt: T0 + MINUTE });
        expect(await store.sessions.get(session.id)).toEqual(updated);
        expect(await store.sessions.history(session.id, 10)).toEqual([
          { role: 'user', content: 'before', at: T0 },
          ...turn,
        ]);
        // No such session: nothing is written anywhere.
        expect(await recordTurn('no-such-session', turn, T0 + 2 * MINUTE)).toBeUndefined();
        expect(await store.sessions.history('no-such-session', 10)).toEqual([]);
        expect((await store.sessions.get(session.id))?.lastActivityAt).toBe(T0 + MINUTE);
        // A malformed entry is refused before anything is written.
        await expect(
          recordTurn(
            session.id,
            [{ role: 'narrator' as never, content: 'x', at: T0 }],
            T0 + 3 * MINUTE,
          ),
        ).rejects.toThrow();
        expect(await store.sessions.history(session.id, 10)).toHaveLength(3);
        expect((await store.sessions.get(session.id))?.lastActivityAt).toBe(T0 + MINUTE);
      });
    });
  });
}
