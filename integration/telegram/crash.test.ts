// The real CLI in a child process, killed with SIGKILL while Telegram messages flow: every
// message a user sent is answered, none becomes two tasks, and a clean stop exits 0.
import { symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FakeBotApi } from '@agentd/plugin-telegram/testing';
import { openSqliteStore } from '@agentd/store-sqlite';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CORE_DIR, runCli, tempProject } from '../support/temp-project.js';

const USER = { id: 42, firstName: 'Alice' };
const KILLS = 6;
const PER_ROUND = 5;
// Generous: a host starting beside the whole suite on 2 cores (and on Node 22 and 24 in CI) can
// take many seconds to load; what this test checks is what is answered, not how fast.
const START_TIMEOUT_MS = 60_000;
/** How a user is told their message's task failed for good (`failureReply` in core). */
const APOLOGY = 'Sorry, this task failed after';

const config = (apiRoot: string) => `
import { agent, defineConfig } from '@agentd/core';
import { sqlite } from '@agentd/store-sqlite';
import { telegram } from '@agentd/plugin-telegram';

export default defineConfig({
  name: 'telegram-crash',
  // Short leases: a task running at a kill is taken up again a second after the restart.
  runner: { leaseMs: 1000 },
  agents: [
    agent('echo', async (input) => {
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 30));
      return 'echo: ' + input;
    }),
  ],
  plugins: [
    sqlite(),
    telegram({
      token: '\${TELEGRAM_BOT_TOKEN}',
      apiRoot: '${apiRoot}',
      allowedUsers: [${USER.id}],
      pollTimeoutSeconds: 1,
    }),
  ],
});
`;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('telegram plugin under kill -9', () => {
  it('answers every message, or apologises for one whose every attempt a kill cut, and stores each once, across repeated SIGKILLs of the host', async () => {
    const api = await FakeBotApi.start({ token: '4242:crash-test-token' });
    cleanups.push(() => api.close());
    const project = tempProject({ 'agentd.config.mjs': config(api.url) });
    cleanups.push(project.cleanup);
    symlinkSync(
      resolve(CORE_DIR, '../plugin-telegram'),
      join(project.dir, 'node_modules/@agentd/plugin-telegram'),
      'dir',
    );
    const env = { TELEGRAM_BOT_TOKEN: api.token };
    const texts: string[] = [];

    for (let round = 0; round < KILLS; round++) {
      const cli = runCli(['start'], project.dir, env);
      cleanups.push(() => cli.child.kill('SIGKILL'));
      await cli.waitFor('is polling for messages', START_TIMEOUT_MS);
      for (let i = 0; i < PER_ROUND; i++) {
        const text = `m${texts.length}`;
        texts.push(text);
        api.sendText(USER, text);
      }
      // Somewhere between taking the first update and having answered them all.
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 250));
      cli.child.kill('SIGKILL');
      expect(await cli.exited).toBe('SIGKILL');
    }

    const last = runCli(['start'], project.dir, env);
    cleanups.push(() => last.child.kill('SIGKILL'));
    await last.waitFor('is polling for messages', START_TIMEOUT_MS);
    const answered = () => new Set(api.messages(USER.id).map((m) => m.text));
    const unanswered = () => texts.filter((t) => !answered().has(`echo: ${t}`));
    // A message whose task was running at three of the kills used up its attempts (a task that
    // kills its host each time must not loop forever): its user gets the apology instead.
    const apologies = () =>
      api.messages(USER.id).filter((m) => String(m.text).startsWith(APOLOGY)).length;
    // Settled: nothing left to run or to send, read from the host's store as it runs.
    const db = new Database(join(project.dir, '.agentd/agentd.db'), { readonly: true });
    cleanups.push(() => db.close());
    const open = db.prepare(
      `SELECT (SELECT count(*) FROM tasks WHERE status IN ('pending', 'running'))
            + (SELECT count(*) FROM task_replies)`,
    );
    await api
      .waitFor(
        () => unanswered().length <= apologies() && open.pluck().get() === 0,
        90_000,
        'an answer to every message (or an apology)',
      )
      .catch(async (error: Error) => {
        const store = openSqliteStore({ path: join(project.dir, '.agentd/agentd.db') });
        const tasks = await store.tasks.list({ limit: 1000 });
        const owed = store.database.prepare('SELECT * FROM task_replies').all();
        await store.close();
        const states = unanswered().map((t) => {
          const task = tasks.find((x) => x.input === t);
          return `${t}: ${task ? `${task.status}, attempts ${task.attempts}, error ${JSON.stringify(task.error)}` : 'no task'}`;
        });
        throw new Error(
          `${error.message}\nunanswered: ${states.join('; ')}\nowed replies: ${JSON.stringify(owed)}\nnow: ${Date.now()}\nlast host's log:\n${last.stdout().slice(-4000)}`,
        );
      });
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
    expect(last.stderr()).not.toContain(api.token);
    expect(last.stdout()).not.toContain(api.token);

    const store = openSqliteStore({ path: join(project.dir, '.agentd/agentd.db') });
    cleanups.push(() => store.close());
    const tasks = await store.tasks.list({ limit: 1000 });
    expect(tasks.map((t) => t.input).sort()).toEqual([...texts].sort());
    for (const task of tasks) {
      expect(task.attempts).toBeLessThanOrEqual(task.maxAttempts);
      if (task.status === 'completed') continue;
      // Failed only by kills: every attempt cut, the last recovered from a runner that was gone.
      expect(task.status).toBe('failed');
      expect(task.attempts).toBe(task.maxAttempts);
      expect(task.error?.name).toMatch(/^(RunnerGone|LeaseExpired)$/);
    }
    const failed = tasks.filter((t) => t.status === 'failed').map((t) => String(t.input));
    expect(unanswered().sort()).toEqual(failed.sort());
    // A reply is at-least-once: one killed between Telegram's answer and its record may go
    // out again, at most once per kill. Besides the answers, each restart may tell the user
    // once that their session (left live by the killed host) resumes.
    const sent = api.messages(USER.id).map((m) => String(m.text));
    const answers = sent.filter((t) => t.startsWith('echo: '));
    const notices = sent.filter((t) => !t.startsWith('echo: ') && !t.startsWith(APOLOGY));
    expect(apologies()).toBeGreaterThanOrEqual(failed.length);
    expect(apologies()).toBeLessThanOrEqual(failed.length + KILLS);
    const repeats = answers.filter((t, i) => answers.indexOf(t) !== i);
    expect(answers.length, `answered twice: ${repeats.join(', ')}`).toBeLessThanOrEqual(
      texts.length + KILLS,
    );
    expect(notices.filter((t) => !t.startsWith('Resuming session'))).toEqual([]);
    expect(notices.length).toBeLessThanOrEqual(KILLS + 1);
  }, 600_000);
});
