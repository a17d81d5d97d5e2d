import { describe, expect, it } from 'vitest';
import { type TempProject, useCliProject } from '../support/cli-project.js';
import { runCli, tempProject } from '../support/temp-project.js';

const projects = useCliProject('cli-host');
const cli = projects.cli;
let project: TempProject | undefined;

describe('task commands on the store file', () => {
  it('enqueue, list, cancel and import without a running host; a host started later runs them', async () => {
    project = projects.create();
    const enqueued = await cli([
      'enqueue',
      'the report',
      '--priority',
      'high',
      '--key',
      'report-1',
    ]);
    expect(enqueued).toMatchObject({ code: 0, err: '' });
    const id = /^enqueued (\S+) \(priority 1, agent writer\)/.exec(enqueued.out)?.[1];
    expect(id).toBeTruthy();
    expect((await cli(['enqueue', 'the report', '--key', 'report-1'])).out).toContain(
      `already enqueued as ${id} (status pending)`,
    );

    const doomed = /^enqueued (\S+)/.exec((await cli(['enqueue', 'never mind'])).out)?.[1];
    expect(await cli(['cancel', doomed!])).toMatchObject({ code: 0, out: `cancelled ${doomed}\n` });
    expect(await cli(['cancel', doomed!])).toMatchObject({
      code: 1,
      err: `agentd: task ${doomed} is already cancelled\n`,
    });
    expect((await cli(['cancel', 'nope'])).err).toBe('agentd: no task with id nope\n');

    project.write({
      'tasks.json': JSON.stringify([
        { id: 'a', description: 'imported one', priority: 0 },
        { id: 'b', description: 'done', status: 'completed' },
      ]),
    });
    expect((await cli(['import', 'tasks.json'])).out).toBe(
      'imported 1 task(s) from tasks.json; 0 already imported, 1 skipped\n  skipped entry 1: already completed\n',
    );
    expect((await cli(['import', 'tasks.json'])).out).toContain(
      'imported 0 task(s) from tasks.json; 1 already imported',
    );

    const listed = await cli(['tasks']);
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(
      '2 pending, 0 held, 0 running, 0 completed, 0 failed, 1 cancelled',
    );
    expect(listed.out).toMatch(new RegExp(`${id}\\s+pending\\s+high\\s+writer\\s+0/3`));
    expect(listed.out).toMatch(/imported one/);

    const host = runCli(['start'], project.dir);
    await host.waitFor('is ready');
    const deadline = Date.now() + 10_000;
    let json: { status: string; result: unknown; description: string }[] = [];
    while (Date.now() < deadline) {
      json = JSON.parse((await cli(['tasks', '--status', 'completed', '--json'])).out);
      if (json.length === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    host.child.kill('SIGTERM');
    expect(await host.exited).toBe(0);
    expect(json.map((t) => t.result).sort()).toEqual(['wrote: imported one', 'wrote: the report']);
  }, 120_000);

  it('rejects bad arguments with one clear line', async () => {
    project = projects.create();
    expect(await cli(['tasks', '--status', 'done'])).toMatchObject({
      code: 1,
      err: 'agentd: unknown status "done" (use pending, held, running, completed, failed, cancelled)\n',
    });
    expect((await cli(['enqueue', 'x', '--priority', 'urgent'])).err).toContain(
      'unknown priority "urgent"',
    );
    expect((await cli(['import', 'missing.json'])).err).toMatch(
      /^agentd: cannot read missing.json: ENOENT/,
    );
    const noStore = tempProject({ 'agentd.config.json': '{"plugins": []}' });
    const run = runCli(['tasks'], noStore.dir);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain(
      'has no store plugin (add one, e.g. sqlite() from @agentd/store-sqlite)',
    );
    noStore.cleanup();
  });
});

describe('backup and restore commands', () => {
  it('backs up, lists, restores; a host started on a corrupt file restores the newest backup and says so', async () => {
    project = projects.create();
    await cli(['enqueue', 'kept']);
    const backedUp = await cli(['backup']);
    expect(backedUp.code).toBe(0);
    expect(backedUp.out).toMatch(
      /^backed up sqlite:.*agentd\.db to .*backups\/agentd-.*\.db \(\d+ bytes\)/,
    );
    expect((await cli(['backup', '--list'])).out).toMatch(/agentd-.*\.db/);
    await cli(['enqueue', 'lost']);
    const restored = await cli(['restore']);
    expect(restored.out).toMatch(/^restored .*agentd-.*\.db \(taken .*\) into sqlite:/);
    expect(restored.out).toMatch(/the data it replaced is kept at .*agentd\.db\.replaced-/);
    const tasks = JSON.parse((await cli(['tasks', '--json'])).out) as { input: string }[];
    expect(tasks.map((t) => t.input)).toEqual(['kept']);

    // Garbage over the file's first page: the next start restores the backup.
    project.write({ 'data/agentd.db': 'x'.repeat(10_000) });
    const host = runCli(['start'], project.dir);
    await host.waitFor('is ready');
    host.child.kill('SIGTERM');
    expect(await host.exited).toBe(0);
    expect(host.stdout()).toMatch(
      /the database was corrupt \(.*\); restored agentd-.*; changes made after .* are lost; the corrupt file is kept at/,
    );
  }, 120_000);
});
