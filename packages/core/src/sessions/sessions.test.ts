import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { commandAgent } from '../agents/command-agent.js';
import { ChannelRegistryToken, InboundRouterToken } from '../contracts/channel.js';
import { type Session, SessionStoreToken } from '../contracts/session.js';
import type { Task } from '../contracts/task.js';
import { failover } from '../failover/plugin.js';
import type { Host } from '../kernel/host.js';
import { HostInfoToken } from '../kernel/host-info.js';
import { machineTag } from '../kernel/owner.js';
import { createHost, type HostConfig } from '../preset/host.js';
import { ManualClock } from '../testing/manual-clock.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { type MemoryStore, memoryStore, openMemoryStore } from '../testing/memory-store.js';
import { SessionManagerToken } from './manager.js';
import { sessions } from './plugin.js';

const root = mkdtempSync(join(tmpdir(), 'agentd-sessions-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const SCRIPT = join(root, 'session-agent.mjs');
writeFileSync(
  SCRIPT,
  `import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
const resumed = process.argv.includes('--continue');
if (resumed && existsSync(process.argv[2])) { console.error('no conversation to resume'); process.exit(3); }
let n = 0;
createInterface({ input: process.stdin }).on('line', (line) => {
  n++;
  const answer = (resumed ? 'resumed' : 'fresh') + '#' + n + ':' + line + ' pid=' + process.pid;
  if (line.startsWith('slow')) setTimeout(() => console.log(answer), 300);
  else console.log(answer);
});
`,
);

let n = 0;
const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop('test end')));
});

/** An owner id of a process of this machine that has exited: what a killed host leaves behind. */
async function deadOwner(): Promise<string> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return `dead-host:${child.pid}:1:00aa11bb@${machineTag()}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

interface Harness {
  host: Host;
  clock: ManualClock;
  sent: string[];
  failFlag: string;
  say(text: string): Promise<Task>;
  session(): Promise<Session>;
}

/** A host in this process. Hosts given the same `store` share it, as hosts share a database file. */
async function harness(
  store: MemoryStore = openMemoryStore(),
  clock = new ManualClock(Date.now()),
): Promise<Harness> {
  const failFlag = join(root, `s${++n}.fail-resume`);
  const sent: string[] = [];
  const config: HostConfig = {
    clock,
    logger: memoryLogger().logger,
    runner: { pollMs: 3_600_000, recoverEveryMs: 3_600_000, leaseMs: 3_600_000 },
    agents: [
      commandAgent({
        name: 'cli',
        command: process.execPath,
        args: [SCRIPT, failFlag],
        mode: 'session',
        session: { resumeArgs: ['--continue'], resumeCheckMs: 800 },
        killGraceMs: 300,
        timeoutMs: 3_600_000,
      }),
    ],
    plugins: [
      memoryStore({ store }),
      failover({ failover: { retries: 0 } }),
      sessions({ killGraceMs: 300 }),
      {
        name: 'chat',
        register: (ctx) =>
          ctx.resolve(ChannelRegistryToken).add({
            name: 'chat',
            send: async (_to, m) => {
              sent.push(m.text);
              return { ids: [] };
            },
          }),
      },
    ],
  };
  const host = createHost(config);
  hosts.push(host);
  await host.start();
  let id = 0;
  const say = async (text: string): Promise<Task> => {
    const receipt = await host.resolve(InboundRouterToken).dispatch({
      id: `${++id}-${Math.random()}`,
      from: { channel: 'chat', id: 'u1' },
      sender: { id: 'u1' },
      text,
      receivedAt: clock.now(),
    });
    if (!receipt.taskId) throw new Error(`not accepted: ${JSON.stringify(receipt)}`);
    return new Promise<Task>((resolve) => {
      const offs = [
        host.events.on('task.completed', (e) => {
          if (e.task.id === receipt.taskId) {
            for (const o of offs) o();
            resolve(e.task);
          }
        }),
        host.events.on('task.failed', (e) => {
          if (e.task.id === receipt.taskId && !e.willRetry) {
            for (const o of offs) o();
            resolve(e.task);
          }
        }),
      ];
    });
  };
  const session = async () => (await host.resolve(SessionStoreToken).findActive('chat:u1'))!;
  return { host, clock, sent, failFlag, say, session };
}

const pidOf = (result: unknown) => Number(/pid=(\d+)/.exec(String(result))?.[1]);
const MIN = 60_000;

describe('sessions', () => {
  it('suspends an idle session (its process ends) and resumes it on the next message, telling the user', async () => {
    const h = await harness();
    const first = await h.say('hello');
    expect(first.result).toMatch(/^fresh#1:hello pid=\d+$/);
    const pid = pidOf(first.result);
    expect(await h.session()).toMatchObject({ name: 'main', status: 'live', resource: { pid } });
    expect(alive(pid)).toBe(true);

    const suspended = h.host.events.next('session.suspended');
    await h.clock.advance(10 * MIN + 1000);
    expect((await suspended).reason).toBe('idle');
    expect(await h.session()).toMatchObject({ status: 'suspended', resource: null });
    expect(alive(pid)).toBe(false);

    await h.clock.advance(5 * MIN);
    const again = await h.say('are you there?');
    expect(again.result).toMatch(/^resumed#1:are you there\? pid=\d+$/);
    expect(pidOf(again.result)).not.toBe(pid);
    expect(h.sent).toContain('Resuming session "main" (idle for 15 min)...');
    const history = await h.host.resolve(SessionStoreToken).history((await h.session()).id, 10);
    expect(history.map((e) => e.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
  });

  it('never suspends a busy session', async () => {
    const h = await harness();
    await h.say('hi');
    const running = h.say('slow question');
    await new Promise((r) => setTimeout(r, 50));
    await h.clock.advance(11 * MIN); // the idle timer fires while the run holds the session
    const done = await running;
    expect(done.result).toMatch(/^fresh#2:slow question/);
    await h.clock.advance(1000);
    expect(await h.session()).toMatchObject({ status: 'live' });
    expect(alive(pidOf(done.result))).toBe(true);
  });

  it('suspends and resumes by hand (process ended, then restored), refusing while a run holds the session', async () => {
    const h = await harness();
    const manager = h.host.resolve(SessionManagerToken);
    const first = await h.say('hello');
    const pid = pidOf(first.result);

    // A run in progress holds the session: suspending it now is refused and changes nothing.
    const running = h.say('slow question');
    await new Promise((r) => setTimeout(r, 50));
    await expect(manager.suspend('chat:u1', 'main')).rejects.toMatchObject({
      code: 'E_SESSION_BUSY',
    });
    await running;
    expect(await h.session()).toMatchObject({ status: 'live' });

    const suspended = await manager.suspend('chat:u1', 'main');
    expect(suspended).toMatchObject({ status: 'suspended', resource: null });
    expect(alive(pid)).toBe(false);
    expect(await manager.suspend('chat:u1', 'main')).toMatchObject({ status: 'suspended' });

    const resumed = await manager.resume('chat:u1', 'main');
    expect(resumed.status).toBe('live');
    expect(h.sent.some((m) => m.startsWith('Resuming session "main"'))).toBe(true);
    const again = await h.say('still there?');
    // The restored process (resumed with --continue) answers, not a fresh one.
    expect(again.result).toMatch(/^resumed#1:still there\? pid=\d+$/);
    await expect(manager.suspend('chat:u1', 'nope')).rejects.toMatchObject({
      code: 'E_NO_SESSION',
    });
  });

  it('reports a failed resume to the user and does not create a fresh session', async () => {
    const h = await harness();
    await h.say('hi');
    // Suspending ends a real process: wait for the event, not only for the clock.
    const suspended = h.host.events.next('session.suspended');
    await h.clock.advance(11 * MIN);
    await suspended;
    expect((await h.session()).status).toBe('suspended');
    writeFileSync(h.failFlag, 'x');
    const failed = await h.say('hello again');
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toContain('Could not resume session "main"');
    expect(failed.error?.message).toContain('no conversation to resume');
    await new Promise((r) => setTimeout(r, 20));
    expect(h.sent.some((t) => t.includes('Could not resume session "main"'))).toBe(true);
    const all = await h.host.resolve(SessionManagerToken).list('chat:u1');
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: 'suspended' });
  });

  it('a timeout firing and a message arriving at once never race: one process, consistent state', async () => {
    const h = await harness();
    const first = await h.say('hi');
    const oldPid = pidOf(first.result);
    // The idle timer comes due exactly when the message arrives.
    await h.clock.advance(10 * MIN - 1);
    const [, answer] = await Promise.all([h.clock.advance(1), h.say('now')]);
    await new Promise((r) => setTimeout(r, 50));
    const newPid = pidOf(answer.result);
    const s = await h.session();
    expect(s.status).toBe('live');
    expect(s.resource).toMatchObject({ pid: newPid });
    expect(alive(newPid)).toBe(true);
    if (newPid !== oldPid) {
      expect(answer.result).toMatch(/^resumed#1:now/);
      expect(alive(oldPid)).toBe(false);
    } else {
      expect(answer.result).toMatch(/^fresh#2:now/);
    }
  });

  it('ends orphaned processes left by a host that died, after checking the PID, and marks sessions suspended', async () => {
    const shared = openMemoryStore();
    const a = await harness(shared);
    const first = await a.say('hi');
    const pid = pidOf(first.result);
    // A second session whose recorded PID now belongs to another program (PID reuse): spared.
    const store = a.host.resolve(SessionStoreToken);
    const other = await store.create(
      { userKey: 'chat:u2', address: { channel: 'chat', id: 'u2' }, name: 'main', agent: 'cli' },
      Date.now(),
    );
    const dead = await deadOwner();
    await store.update(other.id, {
      status: 'live',
      resource: { pid: process.pid, command: 'some-other-program --flag' },
      owner: dead,
    });
    // The first host "dies": nothing of it runs its stop (like kill -9); its process lives on.
    // It ran in this test's process, which lives on too, so its sessions are handed to an owner
    // whose process is gone, as a real kill -9 would leave them (see
    // integration/runtime/process-ownership.test.ts).
    hosts.splice(hosts.indexOf(a.host), 1);
    expect(alive(pid)).toBe(true);
    const mine = (await store.listByStatus(['live'])).filter((s) => s.id !== other.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.owner).toBe(a.host.resolve(HostInfoToken).instanceId);
    await store.update(mine[0]!.id, { owner: dead });

    const b = await harness(shared);
    expect(alive(pid)).toBe(false);
    expect(alive(process.pid)).toBe(true);
    expect(await b.session()).toMatchObject({ status: 'suspended', resource: null });
    expect(await b.host.resolve(SessionStoreToken).get(other.id)).toMatchObject({
      status: 'suspended',
    });
    const again = await b.say('back');
    expect(again.result).toMatch(/^resumed#1:back/);
    await a.host.stop('cleanup');
  });

  it('leaves a session of a live host alone at start, and takes it over once that host is gone: old process ended, session resumed', async () => {
    const shared = openMemoryStore();
    const a = await harness(shared);
    const pid = pidOf((await a.say('hi')).result);
    // The first host stops answering without stopping (it still runs, in this process).
    hosts.splice(hosts.indexOf(a.host), 1);
    const b = await harness(shared);
    expect(alive(pid)).toBe(true);
    const before = await b.session();
    expect(before).toMatchObject({ status: 'live', resource: { pid } });
    expect(before.owner).toBe(a.host.resolve(HostInfoToken).instanceId);
    // Now its owner is gone (as a kill -9 would leave it): the next message ends the old
    // process and resumes the session under the second host.
    await b.host.resolve(SessionStoreToken).update(before.id, { owner: await deadOwner() });
    const again = await b.say('back');
    expect(again.result).toMatch(/^resumed#1:back/);
    expect(alive(pid)).toBe(false);
    expect(b.sent.some((t) => t.startsWith('Resuming session "main"'))).toBe(true);
    expect((await b.session()).owner).toBe(b.host.resolve(HostInfoToken).instanceId);
  });

  it('terminates every session process at stop', async () => {
    const h = await harness();
    const first = await h.say('hi');
    const pid = pidOf(first.result);
    await h.host.stop('test');
    expect(alive(pid)).toBe(false);
    expect(existsSync(h.failFlag)).toBe(false);
  });

  it('answers the session commands: new, switch, list, timeout, archive', async () => {
    const h = await harness();
    const router = h.host.resolve(InboundRouterToken);
    let i = 0;
    const cmd = async (text: string) =>
      (
        await router.dispatch({
          id: `c${++i}`,
          from: { channel: 'chat', id: 'u1' },
          sender: { id: 'u1' },
          text,
          receivedAt: h.clock.now(),
        })
      ).reply;
    expect(await cmd('/new work cli reviewer')).toContain('Created session "work"');
    expect(await cmd('/new play')).toContain('Created session "play"');
    expect(await cmd('/switch work')).toContain('Switched to session "work"');
    expect(await cmd('/timeout 500')).toContain('1 to 120 minutes');
    expect(await cmd('/timeout 30')).toContain('after 30 min');
    expect((await h.session()).idleTimeoutMs).toBe(30 * MIN);
    const list = await cmd('/sessions');
    expect(list).toMatch(/\* work {2}idle {2}agent: cli {2}persona: reviewer/);
    expect(list).toContain('  play  idle');
    expect(await cmd('/archive play')).toContain('Archived session "play"');
    expect(await cmd('/sessions')).not.toContain('play');
  });
});
