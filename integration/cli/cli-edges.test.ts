// The CLI at its edges, through the real `agentd` from dist in throw-away projects: terminal
// control characters in task text, refused enqueues, .env and --env-file, service files, store
// commands that need no plugin secrets, and JSON configs naming every package.
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '@agentd/store-sqlite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CORE_DIR, runCli, tempProject } from '../support/temp-project.js';

type Project = ReturnType<typeof tempProject>;

// Tests that run several CLI processes in turn get 90 s: each is a second or more on a busy machine.

beforeAll(() => {
  if (!existsSync(join(CORE_DIR, 'dist/cli/main.js'))) {
    throw new Error('packages/core/dist is missing: run "npm run build" before these tests');
  }
});

/** Runs `agentd ...args` to its end. */
async function agentd(project: Project, args: string[], env: NodeJS.ProcessEnv = {}) {
  const run = runCli(args, project.dir, env);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** Links the repo's other packages into a temp project, as `npm install` would. */
function linkPackages(project: Project, names: string[]): void {
  for (const name of names) {
    symlinkSync(join(CORE_DIR, '..', name), join(project.dir, 'node_modules/@agentd', name), 'dir');
  }
}

const AGENTS_CONFIG = `
import { agent, defineConfig } from '@agentd/core';
import { sqlite } from '@agentd/store-sqlite';
export default defineConfig({
  name: 'edges',
  agents: [agent('writer', () => 'ok'), agent('coder', () => 'ok')],
  plugins: [sqlite()],
});
`;

/** Code points a terminal acts on, found in `text` (written out independently of the CLI's list). */
function rawControls(text: string): number[] {
  return [...text]
    .map((c) => c.codePointAt(0)!)
    .filter(
      (c) =>
        (c < 0x20 && c !== 0x0a) ||
        (c >= 0x7f && c <= 0x9f) ||
        (c >= 0x202a && c <= 0x202e) ||
        (c >= 0x2066 && c <= 0x2069),
    );
}

async function storedTasks(project: Project) {
  const store = await openSqliteStore({ path: join(project.dir, '.agentd/agentd.db') });
  try {
    return await store.tasks.list({ limit: 1000 });
  } finally {
    await store.close();
  }
}

describe('terminal control characters in task text', () => {
  let project: Project;
  beforeAll(() => {
    project = tempProject({ 'agentd.config.mjs': AGENTS_CONFIG });
  });
  afterAll(() => project.cleanup());

  // What a Telegram user, a webhook sender or an API caller could put in a task: an OSC that
  // retitles the terminal, a screen clear, a C1 CSI, DEL, a bidi override and a carriage return.
  const HOSTILE = 'x\u001b]0;t\u0007\u001b[2J\u009b1m\u007f\u202eok\u202c\rz';

  it('prints them escaped in the table, and exactly (as JSON escapes) with --json', async () => {
    // Through the CLI itself first (so the store exists), then as another intake would.
    expect((await agentd(project, ['enqueue', 'plain'])).code).toBe(0);
    const store = await openSqliteStore({ path: join(project.dir, '.agentd/agentd.db') });
    await store.tasks.enqueue({ input: HOSTILE, agent: 'writer', type: 'message' }, Date.now());
    await store.close();

    const table = await agentd(project, ['tasks']);
    expect(table.code).toBe(0);
    // Nothing a terminal acts on (C0 but \n, DEL, C1, bidi controls) reaches stdout raw.
    expect(rawControls(table.stdout)).toEqual([]);
    // (The carriage return is whitespace: the table's one-line description makes it a space.)
    expect(table.stdout).toContain(
      'x\\u001b]0;t\\u0007\\u001b[2J\\u009b1m\\u007f\\u202eok\\u202c z\n',
    );
    // Columns stay aligned: every row's DESCRIPTION starts where the header's does.
    const lines = table.stdout.trimEnd().split('\n').slice(1);
    const at = lines[0]!.indexOf('DESCRIPTION');
    for (const line of lines.slice(1)) expect(line[at - 1], line).toBe(' ');

    const json = await agentd(project, ['tasks', '--json']);
    expect(json.code).toBe(0);
    expect(rawControls(json.stdout)).toEqual([]);
    const listed = JSON.parse(json.stdout) as { input: unknown }[];
    expect(listed.map((t) => t.input)).toContain(HOSTILE);
  }, 90_000);

  it('escapes them in errors too (an agent name typed or pasted with an escape sequence)', async () => {
    const run = await agentd(project, ['enqueue', 'x', '--agent', 'a\u001b]0;pwned\u0007']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('unknown agent "a\\u001b]0;pwned\\u0007"');
    expect(run.stderr).not.toContain('\u001b');
  });
});

describe('agentd enqueue', () => {
  let project: Project;
  beforeAll(() => {
    project = tempProject({ 'agentd.config.mjs': AGENTS_CONFIG });
  });
  afterAll(() => project.cleanup());

  it('refuses an unknown agent, listing the known ones, and stores nothing', async () => {
    const run = await agentd(project, ['enqueue', 'hello', '--agent', 'nope']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('agentd: unknown agent "nope" (known: writer, coder');
    expect(run.stdout).toBe('');
    expect(existsSync(join(project.dir, '.agentd/agentd.db'))).toBe(false);
  });

  it('enqueues text that starts with a dash after --, with the options before it', async () => {
    const run = await agentd(project, [
      'enqueue',
      '--agent',
      'coder',
      '--max-attempts',
      '100',
      '--run-at',
      '2030-01-02T03:04:05+01:00',
      '--',
      '-x --priority 0',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^enqueued \S+ \(priority 2, agent coder, runs at /);
    const [task] = await storedTasks(project);
    expect(task).toMatchObject({
      input: '-x --priority 0',
      agent: 'coder',
      maxAttempts: 100,
      priority: 2,
      runAt: Date.parse('2030-01-02T02:04:05Z'),
    });
  });
});

describe('.env and --env-file', () => {
  let project: Project | undefined;
  afterEach(() => {
    project?.cleanup();
    project = undefined;
  });

  const NAMED_CONFIG = `export default { name: process.env.EDGE_HOST_NAME ?? 'unnamed' };\n`;

  it('reads .env beside the config; the real environment wins; --env-file names another file', async () => {
    project = tempProject({
      'conf/agentd.config.mjs': NAMED_CONFIG,
      'conf/.env': '# the host\nEDGE_HOST_NAME=from-dotenv\n',
      'other.env': 'export EDGE_HOST_NAME="from other file"\n',
    });
    const fromFile = await agentd(project, ['check', '--config', 'conf/agentd.config.mjs']);
    expect(fromFile.stdout).toContain('(host "from-dotenv")');
    expect(fromFile.stdout).toContain(
      `  environment: 1 variable(s) from ${join(project.dir, 'conf/.env')} (EDGE_HOST_NAME)`,
    );
    const fromEnv = await agentd(project, ['check', '-c', 'conf/agentd.config.mjs'], {
      EDGE_HOST_NAME: 'from-env',
    });
    expect(fromEnv.stdout).toContain('(host "from-env")');
    expect(fromEnv.stdout).toContain('  environment: 0 variable(s) from');
    const other = await agentd(project, [
      'check',
      '-c',
      'conf/agentd.config.mjs',
      '--env-file',
      'other.env',
    ]);
    expect(other.stdout).toContain('(host "from other file")');
    const before = await agentd(project, [
      '--env-file',
      'other.env',
      'check',
      '-c',
      'conf/agentd.config.mjs',
    ]);
    expect(before.stdout).toContain('(host "from other file")');
  }, 90_000);

  it('prints a systemd unit that reads the .env, and on a failure writes nothing to stdout', async () => {
    project = tempProject({
      'agentd.config.ts': `
import { defineConfig } from '@agentd/core';
import { sqlite } from '@agentd/store-sqlite';
export default defineConfig({ name: 'home-bot', plugins: [sqlite({ path: '\${EDGE_DB_PATH}' })] });
`,
    });
    // No .env yet: the command fails, and the redirect target stays empty.
    const failed = await agentd(project, ['service', 'print', 'systemd'], { EDGE_DB_PATH: '' });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toContain('environment variable EDGE_DB_PATH is not set');

    project.write({ '.env': 'EDGE_DB_PATH=./data/secret-name.db\n' });
    const unit = await agentd(project, ['service', 'print', 'systemd'], { EDGE_DB_PATH: '' });
    // The empty real variable wins over the file, as documented.
    expect(unit.code).toBe(1);
    const printed = await agentd(project, ['service', 'print', 'systemd']);
    expect(printed.stderr).toBe('');
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(`EnvironmentFile=-${join(project.dir, '.env')}\n`);
    expect(printed.stdout).toMatch(/^ExecStart=\S+ \S+agentd\.js start --config \S+$/m);
    expect(printed.stdout).not.toContain('secret-name');
    const plist = await agentd(project, ['service', 'print', 'launchd']);
    expect(plist.code).toBe(0);
    expect(plist.stdout).toContain(`Secrets: agentd start reads ${join(project.dir, '.env')};`);
  }, 90_000);
});

describe('store commands need no secrets of plugins they do not start', () => {
  let project: Project;
  beforeAll(() => {
    project = tempProject({
      'agentd.config.mjs': `
import { agent, defineConfig } from '@agentd/core';
import { sqlite } from '@agentd/store-sqlite';
import { telegram } from '@agentd/plugin-telegram';
import { webhook } from '@agentd/plugin-webhook';
export default defineConfig({
  name: 'secretive',
  agents: [agent('writer', () => 'ok')],
  schedules: [{ name: 'daily', cron: '0 8 * * *', task: { agent: 'writer', input: 'report' } }],
  plugins: [
    sqlite(),
    telegram({ token: '\${EDGE_TELEGRAM_TOKEN}' }),
    webhook({ port: 1, api: { token: '\${EDGE_API_TOKEN}' } }),
  ],
});
`,
    });
    linkPackages(project, ['plugin-telegram', 'plugin-webhook']);
  });
  afterAll(() => project.cleanup());
  const unset = { EDGE_TELEGRAM_TOKEN: '', EDGE_API_TOKEN: '' };

  it('agentd check still reports the unset variables', async () => {
    const run = await agentd(project, ['check'], unset);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('environment variable EDGE_TELEGRAM_TOKEN is not set');
  });

  for (const args of [
    ['enqueue', 'hello'],
    ['tasks'],
    ['tasks', '--json'],
    ['schedules'],
    ['sessions'],
    ['backup'],
    ['backup', '--list'],
  ]) {
    it(`agentd ${args.join(' ')} works without them`, async () => {
      const run = await agentd(project, args, unset);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).not.toBe('');
    });
  }

  it('agentd status reads the store and says why it could not ask the API', async () => {
    const run = await agentd(project, ['status'], unset);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('source: the store, read directly');
    expect(run.stdout).toContain('environment variable EDGE_API_TOKEN is not set');
    // Named at the webhook plugin's own place in the config, as agentd check names it.
    expect(run.stdout).toContain('(used at plugins[2].api.token)');
    expect(run.stdout).toMatch(/tasks: 1 pending/);
  });
});

describe('JSON configs name every package', () => {
  let project: Project | undefined;
  afterEach(() => {
    project?.cleanup();
    project = undefined;
  });

  it('loads the docs/config.md example and each plugin package by its name alone or with options', async () => {
    const docs = readFileSync(join(CORE_DIR, '../../docs/config.md'), 'utf8');
    const example = /## JSON\n\n```json\n([\s\S]*?)```/.exec(docs)?.[1];
    expect(example).toBeDefined();
    project = tempProject({ 'agentd.config.json': example! });
    linkPackages(project, ['plugin-webhook', 'plugin-telegram', 'plugin-monitor']);
    const fromDocs = await agentd(project, ['check'], { TELEGRAM_BOT_TOKEN: '123456:edge-token' });
    expect(fromDocs.stderr).toBe('');
    expect(fromDocs.code).toBe(0);
    expect(fromDocs.stdout).toMatch(/\d\. store-sqlite\n/);
    expect(fromDocs.stdout).toMatch(/\d\. telegram/);

    project.write({
      'agentd.config.json': JSON.stringify({
        name: 'every-package',
        plugins: [
          ['@agentd/store-sqlite', { path: './data/agentd.db' }],
          ['@agentd/plugin-webhook', { port: 0 }],
          '@agentd/plugin-monitor',
          ['@agentd/plugin-telegram', { token: '${TELEGRAM_BOT_TOKEN}', allowedUsers: [42] }],
        ],
      }),
    });
    const every = await agentd(project, ['check'], { TELEGRAM_BOT_TOKEN: '123456:edge-token' });
    expect(every.stderr).toBe('');
    expect(every.code).toBe(0);
    for (const name of ['store-sqlite', 'webhook', 'monitor', 'telegram']) {
      expect(every.stdout).toMatch(new RegExp(`\\d\\. ${name}\\b`));
    }
  }, 90_000);
});
