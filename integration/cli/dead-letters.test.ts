import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '@agentd/store-sqlite';
import { describe, expect, it } from 'vitest';
import { type TempProject, useCliProject } from '../support/cli-project.js';

const projects = useCliProject('dead-letter-host');
const cli = projects.cli;
let project: TempProject | undefined;

describe('agentd dead-letters', () => {
  it('lists open dead letters (table and JSON), shows one in full with control characters escaped, and discards', async () => {
    project = projects.create();
    mkdirSync(join(project.dir, 'data'));
    const store = openSqliteStore({ path: join(project.dir, 'data/agentd.db') });
    const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);
    const { letter: big } = await store.tasks.addDeadLetter(
      {
        channel: 'telegram',
        key: 'telegram:update:1',
        code: 'E_INVALID_TASK',
        reason: 'task payload (input and metadata as JSON) is 1.9 MiB, over the cap of 1 MiB',
        raw: JSON.stringify({ text: 'x'.repeat(2_000_000) }),
        replyTo: { channel: 'telegram', id: '42' },
      },
      T0,
    );
    const { letter: evil } = await store.tasks.addDeadLetter(
      {
        channel: 'telegram',
        code: 'E_INVALID_INPUT',
        reason: 'the message has no chat \u001b]0;pwned\u0007',
        raw: '{"message":{"text":"\u001b[2J"}}',
      },
      T0 + 1,
    );
    await store.close();

    const listed = await cli(['dead-letters']);
    expect(listed).toMatchObject({ code: 0, err: '' });
    const lines = listed.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+CHANNEL\s+CODE\s+RECEIVED\s+SIZE\s+REASON$/);
    expect(lines[1]).toMatch(new RegExp(`^${evil.id}\\s+open\\s+telegram\\s+E_INVALID_INPUT`));
    expect(lines[2]).toMatch(new RegExp(`^${big.id}\\s+open\\s+telegram\\s+E_INVALID_TASK`));
    expect(lines[2]).toContain('1.9 MiB (cut)');
    // Nothing from outside reaches the terminal raw.
    expect(listed.out).not.toContain('\u001b');
    expect(listed.out).toContain('\\u001b]0;pwned\\u0007');

    const json = await cli(['dead-letters', '--json']);
    const parsed = JSON.parse(json.out) as { id: string; truncated: boolean }[];
    expect(parsed.map((l) => [l.id, l.truncated])).toEqual([
      [evil.id, false],
      [big.id, true],
    ]);

    const shown = await cli(['dead-letters', '--show', evil.id]);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('raw:\n{"message":{"text":"\\u001b[2J"}}');
    expect(shown.out).not.toContain('\u001b');

    expect(await cli(['dead-letters', '--discard', evil.id])).toMatchObject({
      code: 0,
      out: `discarded ${evil.id}\n`,
    });
    expect(await cli(['dead-letters', '--discard', evil.id, 'dl_999'])).toMatchObject({
      code: 1,
      err: `agentd: dead letter ${evil.id} is already discarded\nagentd: no dead letter with id dl_999\n`,
    });
    const open = await cli(['dead-letters', '--json']);
    expect((JSON.parse(open.out) as { id: string }[]).map((l) => l.id)).toEqual([big.id]);
    const all = await cli(['dead-letters', '--status', 'all', '--json']);
    expect((JSON.parse(all.out) as { status: string }[]).map((l) => l.status)).toEqual([
      'discarded',
      'open',
    ]);
    expect(await cli(['dead-letters', '--status', 'bogus'])).toMatchObject({
      code: 1,
      err: 'agentd: unknown status "bogus" (use open, discarded, retried or all)\n',
    });
    // Each run starts the real CLI (config loading included): slow on a loaded machine.
  }, 180_000);
});
