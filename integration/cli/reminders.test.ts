import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '@agentd/store-sqlite';
import { describe, expect, it } from 'vitest';
import { type TempProject, useCliProject } from '../support/cli-project.js';
import { runCli } from '../support/temp-project.js';

const projects = useCliProject('reminder-host');
const cli = projects.cli;
let project: TempProject | undefined;

describe('agentd reminders', () => {
  it('lists reminders, pauses one (a host never runs it) and resumes it (it runs at once, its time passed)', async () => {
    project = projects.create();
    mkdirSync(join(project.dir, 'data'));
    const store = openSqliteStore({ path: join(project.dir, 'data/agentd.db') });
    const now = Date.now();
    const { task: soon } = await store.tasks.enqueue(
      { type: 'reminder', agent: 'writer', input: 'stretch', runAt: now + 1500 },
      now,
    );
    const { task: later } = await store.tasks.enqueue(
      { type: 'reminder', agent: 'writer', input: 'call mum', runAt: now + 3_600_000 },
      now,
    );
    const { task: plain } = await store.tasks.enqueue({ agent: 'writer', input: 'not one' }, now);
    await store.close();

    expect(await cli(['reminders', '--pause', soon.id])).toMatchObject({
      code: 0,
      out: expect.stringContaining(`paused ${soon.id}: no host runs it until resumed`),
    });
    const listed = await cli(['reminders']);
    expect(listed.out).toContain('2 reminder(s), soonest first');
    expect(listed.out).toMatch(
      new RegExp(`${soon.id}\\s+\\S+ \\S+\\s+paused\\s+writer\\s+stretch`),
    );
    expect(listed.out).toMatch(new RegExp(`${later.id}\\s+\\S+ \\S+\\s+waiting\\s+writer`));
    expect(listed.out).not.toContain(plain.id);
    expect((await cli(['tasks', '--status', 'held'])).out).toContain('2 pending, 1 held');
    expect(await cli(['reminders', '--pause', plain.id])).toMatchObject({
      code: 1,
      err: expect.stringContaining(`no reminder with id ${plain.id}`),
    });
    expect(await cli(['reminders', '--pause', soon.id, '--resume', soon.id])).toMatchObject({
      code: 2,
    });
    // An id that names nothing, with control characters: refused, printed escaped, nothing changed.
    const bogus = await cli(['reminders', '--resume', 'nope\u001b[2J']);
    expect(bogus.code).toBe(1);
    expect(bogus.err).toContain('no reminder with id nope\\u001b[2J');
    expect(bogus.err).not.toContain('\u001b');
    expect((await cli(['reminders'])).out).toContain('2 reminder(s), soonest first');

    // A host runs the plain task, and not the paused reminder, though its time passes.
    const host = runCli(['start'], project.dir);
    await host.waitFor('is ready');
    const waitFor = async (check: () => Promise<boolean>) => {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && !(await check()))
        await new Promise((r) => setTimeout(r, 100));
    };
    const statusOf = async (id: string) => {
      const tasks = JSON.parse((await cli(['tasks', '--json', '--limit', '10'])).out) as {
        id: string;
        status: string;
      }[];
      return tasks.find((t) => t.id === id)?.status;
    };
    await waitFor(async () => (await statusOf(plain.id)) === 'completed');
    await new Promise((r) => setTimeout(r, Math.max(0, now + 2500 - Date.now())));
    expect(await statusOf(soon.id)).toBe('held');

    const resumed = await cli(['reminders', '--resume', soon.id]);
    expect(resumed).toMatchObject({ code: 0 });
    expect(resumed.out).toContain(`resumed ${soon.id}: it runs now (its time has passed)`);
    await waitFor(async () => (await statusOf(soon.id)) === 'completed');
    expect(await statusOf(soon.id)).toBe('completed');
    expect(await cli(['reminders', '--pause', soon.id])).toMatchObject({
      code: 1,
      err: `agentd: task ${soon.id} is completed: only a pending task can be held\n`,
    });
    host.child.kill('SIGTERM');
    expect(await host.exited).toBe(0);
  }, 120_000);
});
