import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agent, createHost, TaskStoreToken } from '@agentd/core';
import { machineTag, processIdentity } from '@agentd/core/host';
import { memoryLogger } from '@agentd/core/testing';
import { openSqliteStore, sqlite } from '@agentd/store-sqlite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// Real hosts in real processes, killed with a real SIGKILL: what a command agent's child, a
// session process and a lease are owned by, and who may clean them up.
const here = dirname(fileURLToPath(import.meta.url));
const COMMAND_HOST = join(here, '../support/command-host.mjs');
const SESSION_HOST = join(here, '../support/session-host.mjs');

let dir: string;
let agentScript: string;
let sessionScript: string;
const children: ChildProcess[] = [];
const strays: number[] = [];

beforeAll(() => {
  for (const pkg of ['core', 'store-sqlite']) {
    if (!existsSync(join(here, `../../packages/${pkg}/dist/index.js`))) {
      throw new Error(`packages/${pkg}/dist is missing: run "npm run build" before these tests`);
    }
  }
  dir = mkdtempSync(join(tmpdir(), 'agentd-owners-'));
  // A task-mode agent with a side effect: a `start` line when it begins (with how many earlier
  // runs still live beside it), a `done` line when it ends. The first run of a `slow` input
  // sleeps for a minute (long enough to be killed mid-task); every other run takes 100 ms.
  agentScript = join(dir, 'marker-agent.mjs');
  writeFileSync(
    agentScript,
    `import { appendFileSync, existsSync, readFileSync } from 'node:fs';
const marker = process.argv[2];
const alive = (pid) => {
  try {
    const stat = readFileSync('/proc/' + pid + '/stat', 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch { return false; }
};
let input = '';
process.stdin.setEncoding('utf8').on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const text = input.trim();
  const before = existsSync(marker) ? readFileSync(marker, 'utf8').split('\\n').filter(Boolean) : [];
  const others = before
    .filter((l) => l.startsWith('start '))
    .map((l) => Number(l.split(' ')[1]))
    .filter((pid) => pid !== process.pid && alive(pid));
  const first = !before.some((l) => l.startsWith('start ') && l.split(' ')[2] === text);
  appendFileSync(marker, 'start ' + process.pid + ' ' + text + ' others=' + others.length + '\\n');
  setTimeout(() => {
    appendFileSync(marker, 'done ' + process.pid + ' ' + text + '\\n');
    console.log('answer:' + text);
  }, text === 'slow' && first ? 60_000 : 100);
});
`,
  );
  sessionScript = join(dir, 'session-agent.mjs');
  writeFileSync(
    sessionScript,
    `import { createInterface } from 'node:readline';
const resumed = process.argv.includes('--continue');
createInterface({ input: process.stdin }).on('line', (line) => {
  console.log((resumed ? 'resumed' : 'fresh') + ':' + line + ' pid=' + process.pid);
});
// Lives on when its host dies and stdin closes, until someone ends it (or the test's cleanup).
setInterval(() => {}, 60_000);
`,
  );
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  }
  for (const pid of strays.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface RealHost {
  child: ChildProcess;
  out: () => string;
  /** When READY was printed (ms, Date.now). */
  ready: Promise<number>;
  say(line: string): void;
  kill9(): Promise<void>;
}

function spawnHost(script: string, args: string[]): RealHost {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const ready = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('READY\n')) resolve(Date.now());
    });
    child.on('exit', () => reject(new Error(`host exited before ready: ${err}`)));
  });
  ready.catch(() => {});
  return {
    child,
    out: () => out,
    ready,
    say: (line) => child.stdin!.write(`${line}\n`),
    kill9: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const markerLines = (marker: string) =>
  existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean) : [];

describe('processes and leases of a host killed with SIGKILL', () => {
  it("ends a killed host's command-agent child before the retry starts: the side effect happens once per run", async () => {
    const db = join(dir, 'orphan-child.db');
    const marker = join(dir, 'orphan-child.marker');
    const first = spawnHost(COMMAND_HOST, [db, agentScript, marker]);
    await first.ready;
    first.say('u1 slow');
    await until(() => markerLines(marker).length === 1, 'the first run to start');
    const oldPid = Number(markerLines(marker)[0]!.split(' ')[1]);
    strays.push(oldPid);
    await first.kill9();
    // Its own process group: the host's SIGKILL left the child running.
    expect(alive(oldPid)).toBe(true);

    const second = spawnHost(COMMAND_HOST, [db, agentScript, marker]);
    await second.ready;
    await until(() => second.out().includes('SENT u1 answer:slow'), 'the retry to answer');
    expect(alive(oldPid)).toBe(false);
    const lines = markerLines(marker);
    // Two runs, two starts; the retry saw no earlier run alive; only the retry finished.
    expect(lines.filter((l) => l.startsWith('start '))).toEqual([
      `start ${oldPid} slow others=0`,
      expect.stringMatching(/^start \d+ slow others=0$/),
    ]);
    expect(lines.filter((l) => l.startsWith('done '))).toHaveLength(1);
    expect(lines.some((l) => l === `done ${oldPid} slow`)).toBe(false);
    // Answered once: the killed host never got to send anything.
    expect(first.out()).not.toContain('SENT');
    expect(second.out().match(/SENT u1 answer:slow/g)).toHaveLength(1);
    const store = openSqliteStore({ path: db });
    try {
      const [task] = await store.tasks.list({ limit: 1 });
      expect(task).toMatchObject({ status: 'completed', attempts: 2 });
    } finally {
      await store.close();
    }
  }, 60_000);

  it('answers every message within 3 s of the restarted host being ready after a kill -9 mid-task', async () => {
    const db = join(dir, 'fast-restart.db');
    const marker = join(dir, 'fast-restart.marker');
    const first = spawnHost(COMMAND_HOST, [db, agentScript, marker]);
    await first.ready;
    first.say('u1 slow');
    await until(() => markerLines(marker).length === 1, 'the slow task to start');
    strays.push(Number(markerLines(marker)[0]!.split(' ')[1]));
    // Queued behind the running task in u1's session, and one more from another user.
    first.say('u1 after');
    first.say('u2 other');
    await until(() => first.out().includes('SENT u2 answer:other'), 'the other user answer');
    await first.kill9();

    // Restart at once: the dead host's 30 s lease has not expired.
    const second = spawnHost(COMMAND_HOST, [db, agentScript, marker]);
    const readyAt = await second.ready;
    await until(
      () => /SENT u1 answer:slow/.test(second.out()) && /SENT u1 answer:after/.test(second.out()),
      'both u1 messages to be answered',
      30_000,
    );
    const answeredAt = Date.now();
    expect(answeredAt - readyAt).toBeLessThan(3_000);
    // In order within the session: the retry of `slow`, then `after`.
    const out = second.out();
    expect(out.indexOf('SENT u1 answer:slow')).toBeLessThan(out.indexOf('SENT u1 answer:after'));
  }, 60_000);

  it('a second host on the same store leaves the first host’s live session process alone; a host starting after a kill -9 ends it and resumes the session', async () => {
    const db = join(dir, 'two-hosts.db');
    const failFlag = `${db}.fail-resume`;
    const a = spawnHost(SESSION_HOST, [db, sessionScript, failFlag]);
    await a.ready;
    await until(() => /SENT fresh:hello pid=\d+/.test(a.out()), 'the first answer');
    const pid = Number(/SENT fresh:hello pid=(\d+)/.exec(a.out())![1]);
    strays.push(pid);

    // A second host on the same store (one that runs no tasks, so the first host's user is
    // served by the first host and its process, deterministically).
    const b = spawnHost(SESSION_HOST, [db, sessionScript, failFlag, 'observer']);
    await b.ready;
    expect(alive(pid)).toBe(true);
    const store = openSqliteStore({ path: db });
    try {
      const [session] = await store.sessions.listByStatus(['live', 'idle', 'suspended']);
      expect(session).toMatchObject({ status: 'live', resource: { pid } });
      expect(session!.owner).toMatch(new RegExp(`:${a.child.pid}:\\d*:[0-9a-f]+@`));

      // The first host's user talks on: no "Resuming session", the same process answers.
      a.say('again');
      await until(() => a.out().includes('SENT fresh:again'), 'the answer to the second message');
      expect(a.out()).toContain(`SENT fresh:again pid=${pid}`);
      expect(a.out() + b.out()).not.toContain('Resuming session');
      expect(alive(pid)).toBe(true);

      // Now the first host dies. A host starting afterwards ends its orphaned process.
      await a.kill9();
      expect(alive(pid)).toBe(true);
      const c = spawnHost(SESSION_HOST, [db, sessionScript, failFlag, 'quiet']);
      await c.ready;
      expect(alive(pid)).toBe(false);
      expect(await store.sessions.get(session!.id)).toMatchObject({
        status: 'suspended',
        owner: null,
        resource: null,
      });
      // The user's next message resumes the session in a new process of the new host.
      c.say('back');
      await until(() => /SENT resumed:back pid=\d+/.test(c.out()), 'the resumed answer');
      const resumedPid = Number(/SENT resumed:back pid=(\d+)/.exec(c.out())![1]);
      strays.push(resumedPid);
      expect(resumedPid).not.toBe(pid);
    } finally {
      await store.close();
    }
  }, 60_000);
});

describe('lease recovery only takes what a gone runner held', () => {
  it('recovers at start the leases of a dead process of this machine, and leaves a live one’s and another machine’s alone', async () => {
    const db = join(dir, 'owners.db');
    const store = openSqliteStore({ path: db });
    // A process that ran and exited: its PID no longer runs.
    const gone = spawn(process.execPath, ['-e', '']);
    const gonePid = gone.pid!;
    await new Promise((r) => gone.once('exit', r));
    const me = processIdentity(process.pid)!;
    const owners = {
      dead: `old:${gonePid}:1:00aa11bb@${machineTag()}`,
      live: `test:${process.pid}:${me.startTime ?? ''}:00aa11bb@${machineTag()}`,
      elsewhere: `far:${gonePid}:1:00aa11bb@0123456789ab`,
    };
    const now = Date.now();
    const ids: Record<string, string> = {};
    for (const [name, owner] of Object.entries(owners)) {
      const { task } = await store.tasks.enqueue({ input: name, agent: 'cli' }, now);
      ids[name] = task.id;
      await store.tasks.claim({ owner, leaseMs: 600_000, now });
    }
    const marker = join(dir, 'owners.marker');
    const host = spawnHost(COMMAND_HOST, [db, agentScript, marker]);
    await host.ready;
    await until(
      () => markerLines(marker).some((l) => l.startsWith('done ') && l.endsWith(' dead')),
      'the dead owner’s task to run',
    );
    await sleep(300);
    const status = async (name: string) => (await store.tasks.get(ids[name]!))!;
    expect(await status('dead')).toMatchObject({ status: 'completed', attempts: 2 });
    expect(await status('live')).toMatchObject({ status: 'running', leaseOwner: owners.live });
    expect(await status('elsewhere')).toMatchObject({
      status: 'running',
      leaseOwner: owners.elsewhere,
    });
    await store.close();
  }, 60_000);

  it('recovers an expired lease of a runner elsewhere when it expires, not at the next recovery tick', async () => {
    const db = join(dir, 'expiry.db');
    const store = openSqliteStore({ path: db });
    const now = Date.now();
    const { task } = await store.tasks.enqueue({ input: 'late', agent: 'echo' }, now);
    await store.tasks.claim({
      owner: `far:4242:1:00aa11bb@0123456789ab`,
      leaseMs: 1_500,
      now,
    });
    await store.close();
    const host = createHost({
      logger: memoryLogger().logger,
      agents: [agent('echo', (input) => `ran ${String(input)}`)],
      // A tick far away: only a timer set for the lease's expiry can recover it in time.
      runner: { recoverEveryMs: 600_000 },
      plugins: [sqlite({ path: db })],
    });
    try {
      await host.start();
      const tasks = host.resolve(TaskStoreToken);
      // Not recovered at start: the lease of a runner on another machine had not expired.
      expect((await tasks.get(task.id))?.status).toBe('running');
      const deadline = now + 1_500 + 5_000;
      while ((await tasks.get(task.id))?.status !== 'completed') {
        if (Date.now() > deadline) throw new Error('the expired lease was not recovered in time');
        await sleep(20);
      }
      expect(Date.now()).toBeGreaterThanOrEqual(now + 1_500);
      expect(await tasks.get(task.id)).toMatchObject({ attempts: 2, result: 'ran late' });
    } finally {
      await host.stop('test end');
    }
  }, 30_000);
});
