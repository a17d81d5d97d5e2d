import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TempProject, useCliProject } from '../support/cli-project.js';
import { runCli } from '../support/temp-project.js';

const projects = useCliProject('corrupt-host');
const cli = projects.cli;
let project: TempProject | undefined;

const inputs = async () =>
  (JSON.parse((await cli(['tasks', '--json'])).out) as { input: string }[]).map((t) => t.input);

describe('a corrupt store file and the CLI', () => {
  it('every command that opens the store refuses and changes nothing; restore recovers; start restores with an error and an alert', async () => {
    project = projects.create();
    const db = join(project.dir, 'data/agentd.db');
    expect((await cli(['enqueue', 'in the backup'])).code).toBe(0);
    expect((await cli(['backup'])).code).toBe(0);
    expect((await cli(['enqueue', 'after the backup'])).code).toBe(0);

    // Garbage over the file: before the fix, `agentd tasks` silently put the backup in its place,
    // and "after the backup" was gone.
    writeFileSync(db, 'x'.repeat(10_000));
    const files = () => readdirSync(join(project!.dir, 'data')).sort();
    const before = { files: files(), bytes: readFileSync(db) };
    // They only read or add, so they may run side by side (each CLI start takes seconds here).
    const commands = [
      ['tasks'],
      ['status'],
      ['schedules'],
      ['sessions'],
      ['backup', '--list'],
      ['backup'],
      ['enqueue', 'more'],
    ];
    const runs = await Promise.all(commands.map((args) => cli(args)));
    for (const [i, run] of runs.entries()) {
      expect({ args: commands[i], code: run.code }).toEqual({ args: commands[i], code: 1 });
      expect(run.err).toMatch(
        /the store .*data\/agentd\.db is corrupt \(.*\); this command changed nothing\. To recover: run "agentd start", which restores the newest intact backup itself .* or stop the host and run "agentd restore"/,
      );
    }
    expect(files()).toEqual(before.files);
    expect(readFileSync(db).equals(before.bytes)).toBe(true);

    // agentd restore puts the newest intact backup in place and keeps the corrupt file aside.
    const restored = await cli(['restore']);
    expect(restored.code).toBe(0);
    expect(restored.out).toMatch(/the data it replaced is kept at .*agentd\.db\.replaced-/);
    expect(await inputs()).toEqual(['in the backup']);

    // agentd start repairs by itself, and says so: an error in the log and an alert.
    writeFileSync(db, 'x'.repeat(10_000));
    const host = runCli(['start'], project.dir);
    await host.waitFor('is ready');
    await host.waitFor('"source":"store-sqlite","severity":"critical"');
    host.child.kill('SIGTERM');
    expect(await host.exited).toBe(0);
    const lines = host
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    const restoreLine = lines.find((l) => l.msg.startsWith('the database was corrupt'));
    expect(restoreLine?.level).toBe(50); // error
    expect(lines.find((l) => l.msg.startsWith('ALERT:'))?.msg).toBe(
      'ALERT: Database restored from backup',
    );
    expect(files().filter((f) => f.startsWith('agentd.db.replaced-'))).toHaveLength(2);
    expect(await inputs()).toEqual(['in the backup']);
  }, 180_000);
});
