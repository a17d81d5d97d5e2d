// Bad input to the real `agentd` CLI, as an attacker or a tired operator types it: every case
// exits non-zero with a clear message on stderr, prints nothing on stdout and stores nothing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '@agentd/store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_DIR, runCli, tempProject } from '../support/temp-project.js';

let project: ReturnType<typeof tempProject>;
const dbPath = () => join(project.dir, '.agentd/agentd.db');

async function taskCount(): Promise<number> {
  const store = await openSqliteStore({ path: dbPath() });
  try {
    const counts = await store.tasks.counts();
    return Object.values(counts).reduce((a, b) => a + b, 0);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  if (!existsSync(join(CORE_DIR, 'dist/cli/main.js'))) {
    throw new Error('packages/core/dist is missing: run "npm run build" before these tests');
  }
  project = tempProject({
    'agentd.config.mjs': `
import { agent, defineConfig } from '@agentd/core';
import { sqlite } from '@agentd/store-sqlite';
export default defineConfig({
  agents: [agent('writer', () => 'ok'), agent('coder', () => 'ok')],
  plugins: [sqlite()],
});
`,
    'not-json.json': '{ "tasks": [ ',
    // Over the store's 1 MiB payload cap: refused as a whole, not half imported.
    'huge.json': JSON.stringify([
      { id: 'small', input: 'fine' },
      { id: 'big', input: 'x'.repeat(1_100_000) },
    ]),
  });
  // One task, so the store exists and "nothing stored" is a count that must not move.
  const seed = runCli(['enqueue', 'seed'], project.dir);
  expect(await seed.exited).toBe(0);
});
afterAll(() => project.cleanup());

const LONG_KEY = 'k'.repeat(501);
const cases: { name: string; args: string[]; stderr: string | RegExp; env?: NodeJS.ProcessEnv }[] =
  [
    {
      name: 'an unknown agent',
      args: ['enqueue', 'hi', '--agent', 'nope'],
      stderr: 'agentd: unknown agent "nope" (known: writer, coder',
    },
    {
      name: 'an agent name with control characters',
      args: ['enqueue', 'hi', '--agent', '\u001b[2Jx'],
      stderr: 'unknown agent "\\u001b[2Jx"',
    },
    {
      name: 'a priority out of range',
      args: ['enqueue', 'hi', '--priority', '99'],
      stderr: 'agentd: unknown priority "99" (use 0-3 or critical, high, normal, low)',
    },
    { name: 'an empty priority', args: ['enqueue', 'hi', '--priority', ''], stderr: 'priority ""' },
    {
      name: 'a negative --max-attempts',
      args: ['enqueue', 'hi', '--max-attempts', '-1'],
      stderr: '--max-attempts takes a whole number from 1 to 100, got "-1"',
    },
    { name: '--max-attempts 0', args: ['enqueue', 'hi', '--max-attempts', '0'], stderr: 'got "0"' },
    {
      name: '--max-attempts over the API cap',
      args: ['enqueue', 'hi', '--max-attempts', '101'],
      stderr: 'from 1 to 100, got "101"',
    },
    {
      name: 'a fractional --max-attempts',
      args: ['enqueue', 'hi', '--max-attempts', '2.5'],
      stderr: 'got "2.5"',
    },
    {
      name: '--max-attempts in exponent notation',
      args: ['enqueue', 'hi', '--max-attempts', '1e1'],
      stderr: 'got "1e1"',
    },
    {
      name: '--run-at in words',
      args: ['enqueue', 'hi', '--run-at', 'yesterday'],
      stderr: '--run-at takes an ISO 8601 time with a zone',
    },
    {
      name: '--run-at without a zone',
      args: ['enqueue', 'hi', '--run-at', '2026-05-01T08:00:00'],
      stderr: 'got "2026-05-01T08:00:00"',
    },
    {
      name: '--run-at that is not a date',
      args: ['enqueue', 'hi', '--run-at', '2026-13-45T99:00:00Z'],
      stderr: '--run-at takes an ISO 8601 time',
    },
    {
      name: 'an empty --key',
      args: ['enqueue', 'hi', '--key', ''],
      stderr: '--key takes 1 to 500',
    },
    {
      name: 'a --key over 500 characters',
      args: ['enqueue', 'hi', '--key', LONG_KEY],
      stderr: '--key takes 1 to 500',
    },
    { name: 'empty text', args: ['enqueue', ''], stderr: 'agentd: the task text is empty' },
    { name: 'blank text', args: ['enqueue', ' \t\n'], stderr: 'agentd: the task text is empty' },
    {
      name: 'no text',
      args: ['enqueue'],
      stderr: "error: missing required argument 'text'",
    },
    {
      name: 'text that looks like an option, without --',
      args: ['enqueue', '-x'],
      stderr: "error: unknown option '-x'",
    },
    {
      name: 'two texts',
      args: ['enqueue', 'a', 'b'],
      stderr: "error: too many arguments for 'enqueue'",
    },
    {
      name: 'an unknown command',
      args: ['enqeue', 'hi'],
      stderr: "error: unknown command 'enqeue'",
    },
    {
      name: 'an unknown option',
      args: ['enqueue', 'hi', '--prio', '1'],
      stderr: "error: unknown option '--prio'",
    },
    {
      name: 'an option without its value',
      args: ['enqueue', 'hi', '--agent'],
      stderr: "error: option '-a, --agent <name>' argument missing",
    },
    {
      name: 'a config file that does not exist',
      args: ['enqueue', 'hi', '--config', 'nope.ts'],
      stderr: 'agentd: config file not found:',
    },
    {
      name: 'an env file that does not exist',
      args: ['--env-file', 'missing.env', 'enqueue', 'hi'],
      stderr: /missing\.env: not found/,
    },
    {
      name: 'an import file that is not JSON',
      args: ['import', 'not-json.json'],
      stderr: 'agentd: cannot read not-json.json:',
    },
    {
      name: 'an import with a task over the payload cap (very long text)',
      args: ['import', 'huge.json'],
      stderr: /over the cap of 1\.0 MiB/,
    },
    {
      name: 'tasks --limit 0',
      args: ['tasks', '--limit', '0'],
      stderr: '--limit takes a positive',
    },
    { name: 'tasks --limit abc', args: ['tasks', '--limit', 'abc'], stderr: '--limit takes' },
    {
      name: 'tasks --status bogus',
      args: ['tasks', '--status', 'pending,bogus'],
      stderr: 'unknown status "bogus"',
    },
    {
      name: 'sessions --timeout out of range',
      args: ['sessions', '--user', 'telegram:1', '--timeout', '0'],
      stderr: '--timeout takes 1 to 120 minutes',
    },
    {
      name: 'cancel an unknown id',
      args: ['cancel', 'nope'],
      stderr: 'agentd: no task with id nope',
    },
    {
      name: 'an unknown service manager',
      args: ['service', 'print', 'upstart'],
      stderr: 'unknown service manager "upstart"',
    },
  ];

describe('the CLI refuses bad input clearly and changes nothing', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const before = await taskCount();
      const run = runCli(c.args, project.dir, c.env);
      const code = await run.exited;
      expect(code, run.stderr()).not.toBe(0);
      if (typeof c.stderr === 'string') expect(run.stderr()).toContain(c.stderr);
      else expect(run.stderr()).toMatch(c.stderr);
      expect(run.stderr()).not.toMatch(/\n\s+at /);
      expect(run.stdout()).toBe('');
      expect(await taskCount()).toBe(before);
    });
  }

  it('takes long text within the cap whole, and keeps its table row one short line', async () => {
    const text = `${'long '.repeat(20_000)}end`;
    const run = runCli(['enqueue', text, '--key', 'long-text'], project.dir);
    expect(await run.exited).toBe(0);
    const store = await openSqliteStore({ path: dbPath() });
    const [task] = await store.tasks.list({ limit: 1 });
    await store.close();
    expect(task!.input).toBe(text);
    const tasks = runCli(['tasks'], project.dir);
    expect(await tasks.exited).toBe(0);
    for (const line of tasks.stdout().split('\n')) expect(line.length).toBeLessThan(200);
  });
});
