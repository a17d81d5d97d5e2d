import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CORE_DIR, logLines, runCli, tempProject } from '../support/temp-project.js';

// Two custom plugins, one depending on the other, written as a user would.
const PLUGINS_TS = `
import type { Plugin } from '@agentd/core';

export function database(): Plugin {
  return {
    name: 'database',
    start: (ctx) => ctx.logger.info('database open'),
    stop: (ctx) => ctx.logger.info('database closed'),
  };
}

export function api(options: { stopFails?: boolean; startHangs?: boolean; stopHangs?: boolean } = {}): Plugin {
  return {
    name: 'api',
    dependsOn: ['database'],
    start: (ctx) => (options.startHangs ? new Promise(() => {}) : ctx.logger.info('api listening')),
    stop: () => {
      if (options.stopFails) throw new Error('api refused to stop');
      if (options.stopHangs) return new Promise(() => {});
    },
  };
}
`;

const config = (body: string) => `
import { defineConfig } from '@agentd/core';
import { api, database } from './plugins.ts';
export default defineConfig(${body});
`;

// A plugin published as a package, for JSON configs.
const HELLO_PACKAGE = {
  'node_modules/agentd-plugin-hello/package.json': JSON.stringify({
    name: 'agentd-plugin-hello',
    type: 'module',
    main: 'index.js',
  }),
  'node_modules/agentd-plugin-hello/index.js': `
export default function hello(options) {
  return {
    name: options.name ?? 'hello',
    options,
    optionsSchema: {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate(value) {
          const issues = [];
          if (typeof value.port !== 'number') issues.push({ message: 'expected a number', path: ['port'] });
          if (value.token !== undefined && typeof value.token !== 'string') issues.push({ message: 'expected a string', path: ['token'] });
          return issues.length ? { issues } : { value };
        },
      },
    },
    start(ctx) { ctx.logger.info({ port: ctx.options.port }, 'hello started'); },
  };
}
`,
};

let project: ReturnType<typeof tempProject> | undefined;
afterEach(() => {
  project?.cleanup();
  project = undefined;
});

beforeAll(() => {
  if (!existsSync(join(CORE_DIR, 'dist/cli/main.js'))) {
    throw new Error(
      'packages/core/dist is missing: run "npm run build" (npm test does) before these tests',
    );
  }
});

describe('agentd start', () => {
  it('starts a host from agentd.config.ts in dependency order, and stops in reverse on SIGTERM with exit code 0', async () => {
    project = tempProject({
      'plugins.ts': PLUGINS_TS,
      'agentd.config.ts': config(`{ name: 'spawned', plugins: [api(), database()] }`),
    });
    const run = runCli(['start'], project.dir);
    await run.waitFor('is ready');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const msgs = logLines(run.stdout()).map((l) => l.msg);
    const at = (m: string) => msgs.indexOf(m);
    for (const m of [
      'database open',
      'api listening',
      'started plugin "database"',
      'started plugin "api"',
      'database closed',
    ]) {
      expect(at(m), m).toBeGreaterThanOrEqual(0);
    }
    expect(at('started plugin "database"')).toBeLessThan(at('started plugin "api"'));
    expect(at('started plugin "api"')).toBeLessThan(at('host "spawned" is ready'));
    expect(at('received SIGTERM: stopping gracefully (send it again to force)')).toBeGreaterThan(
      at('host "spawned" is ready'),
    );
    expect(at('stopped plugin "api"')).toBeLessThan(at('stopped plugin "database"'));
    expect(msgs.at(-1)).toBe('host "spawned" stopped');
    expect(run.stderr()).toBe('');
  });

  it('stops on SIGINT too, and a plugin whose stop throws does not keep the others from stopping (exit 1)', async () => {
    project = tempProject({
      'plugins.ts': PLUGINS_TS,
      'agentd.config.ts': config(`{ plugins: [database(), api({ stopFails: true })] }`),
    });
    const run = runCli(['start'], project.dir);
    await run.waitFor('is ready');
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(1);
    const msgs = logLines(run.stdout()).map((l) => l.msg);
    expect(msgs).toContain('plugin "api" failed to stop');
    expect(msgs).toContain('database closed');
    expect(msgs).toContain('stopped plugin "database"');
  });

  it('a SIGTERM while the config loads ends the process cleanly (exit 0), with a line saying so', async () => {
    project = tempProject({
      'plugins.ts': PLUGINS_TS,
      // A config that takes a second and a half to load (as one importing many plugins can).
      'agentd.config.ts': `
import { writeFileSync } from 'node:fs';
import { defineConfig } from '@agentd/core';
import { api, database } from './plugins.ts';
writeFileSync('loading', '');
const end = Date.now() + 1500;
while (Date.now() < end) {}
export default defineConfig({ name: 'slow-config', plugins: [api(), database()] });
`,
    });
    const run = runCli(['start'], project.dir);
    const loading = join(project.dir, 'loading');
    for (let waited = 0; !existsSync(loading); waited += 20) {
      if (waited > 20_000) throw new Error(`the config never began to load:\n${run.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toBe(
      'agentd: received SIGTERM while loading the config: host "slow-config" not started\n',
    );
    expect(run.stdout()).not.toContain('database open');
  });

  it('times out a hanging start and stops the plugins already started (exit 1)', async () => {
    project = tempProject({
      'plugins.ts': PLUGINS_TS,
      'agentd.config.ts': config(
        `{ timeouts: { startMs: 300 }, plugins: [database(), api({ startHangs: true })] }`,
      ),
    });
    const run = runCli(['start'], project.dir);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain(
      'agentd: plugin "api" failed to start: plugin "api" start did not finish within 300 ms',
    );
    expect(logLines(run.stdout()).map((l) => l.msg)).toContain('database closed');
    expect(run.stderr()).not.toMatch(/\n\s+at /);
    // The JSON log says it at error level too, for whatever alerts on log levels.
    expect(logLines(run.stdout())).toContainEqual(
      expect.objectContaining({ level: 50, msg: 'host "agentd" failed to start' }),
    );
  });

  it('forces the exit on a second signal while a stop hangs', async () => {
    project = tempProject({
      'plugins.ts': PLUGINS_TS,
      'agentd.config.ts': config(
        `{ timeouts: { stopMs: 60000 }, plugins: [database(), api({ stopHangs: true })] }`,
      ),
    });
    const run = runCli(['start'], project.dir);
    await run.waitFor('is ready');
    run.child.kill('SIGTERM');
    await run.waitFor('received SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(130);
    expect(run.stdout()).toContain('second signal: exiting without waiting');
  });

  it('runs a JSON config whose plugins are packages in the project, with ${ENV} options', async () => {
    project = tempProject({
      ...HELLO_PACKAGE,
      'agentd.config.json': JSON.stringify({
        name: 'json-host',
        plugins: [['agentd-plugin-hello', { port: 7, token: '${HELLO_TOKEN}' }]],
      }),
    });
    const run = runCli(['start'], project.dir, { HELLO_TOKEN: 'tok-123' });
    await run.waitFor('is ready');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const started = logLines(run.stdout()).find((l) => l.msg === 'hello started');
    expect(started).toMatchObject({ plugin: 'hello', port: 7, host: 'json-host' });
  });
});

describe('agentd check', () => {
  it('validates and prints the resolved plugin order', async () => {
    project = tempProject({
      'plugins.ts': PLUGINS_TS,
      'agentd.config.ts': config(`{ plugins: [api(), database()] }`),
    });
    const run = runCli(['check'], project.dir);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain('✓ agentd.config.ts is valid (host "agentd")');
    expect(run.stdout()).toMatch(/1\. database\n\s+2\. api {2}\(after database\)/);
  });

  it('prints --version and --help', async () => {
    project = tempProject();
    const version = runCli(['--version'], project.dir);
    expect(await version.exited).toBe(0);
    expect(version.stdout().trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = runCli(['--help'], project.dir);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toContain('start [options]');
    expect(help.stdout()).toContain('check [options]');
  });
});

describe('bad configs: one clear message, non-zero exit, no stack trace, nothing started', () => {
  const cases: {
    name: string;
    files: Record<string, string>;
    args?: string[];
    env?: NodeJS.ProcessEnv;
    expected: string[];
  }[] = [
    { name: 'no config file', files: {}, expected: ['agentd: no config file found in'] },
    {
      name: '--config to a missing file',
      files: {},
      args: ['--config', 'nope.json'],
      expected: ['agentd: config file not found:'],
    },
    {
      name: 'syntax error',
      files: { 'agentd.config.ts': 'export default { plugins: [ ' },
      expected: ['agentd: cannot load agentd.config.ts:'],
    },
    {
      name: 'JSON syntax error',
      files: { 'agentd.config.json': '{ "plugins": [ }' },
      expected: ['agentd: cannot parse agentd.config.json:'],
    },
    {
      name: 'unknown plugin package',
      files: { 'agentd.config.json': JSON.stringify({ plugins: [['@agentd/plugin-nope', {}]] }) },
      expected: [
        'agentd: invalid config',
        '  plugins[0]: cannot find plugin package "@agentd/plugin-nope"',
      ],
    },
    {
      name: 'wrong option types (and the secret value is not echoed)',
      files: {
        ...HELLO_PACKAGE,
        'agentd.config.json': JSON.stringify({
          plugins: [['agentd-plugin-hello', { port: 'hunter2-secret', token: 5 }]],
        }),
      },
      expected: [
        'agentd: invalid config',
        '  plugins[0].port: expected a number',
        '  plugins[0].token: expected a string',
      ],
    },
    {
      name: 'unknown top-level key',
      files: { 'agentd.config.json': JSON.stringify({ plugins: [], pluggins: [] }) },
      expected: ['agentd: invalid config', 'Unrecognized key: "pluggins"'],
    },
    {
      name: 'every problem at once: top-level keys and plugin options (docs/config.md)',
      files: {
        ...HELLO_PACKAGE,
        'agentd.config.json': JSON.stringify({
          timeouts: { stopMs: 0 },
          plugins: [['agentd-plugin-hello', { port: true, token: 'hunter2-secret' }]],
          pluggins: [],
        }),
      },
      expected: [
        'agentd: invalid config\n  timeouts.stopMs: Too small: expected number to be >0\n  Unrecognized key: "pluggins"\n  plugins[0].port: expected a number',
      ],
    },
    {
      name: 'unset env var',
      files: {
        ...HELLO_PACKAGE,
        'agentd.config.json': JSON.stringify({
          plugins: [['agentd-plugin-hello', { port: 1, token: '${HELLO_TOKEN}' }]],
        }),
      },
      expected: ['  environment variable HELLO_TOKEN is not set (used at plugins[0].token)'],
    },
    {
      name: 'dependency cycle',
      files: {
        'agentd.config.ts': `export default { plugins: [{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['a'] }] };`,
      },
      expected: ['agentd: plugin dependency cycle: "a" -> "b" -> "a"'],
    },
    {
      name: 'duplicate plugin names',
      files: {
        'agentd.config.ts': `export default { plugins: [{ name: 'a' }, [{ name: 'a' }]] };`,
      },
      expected: ['agentd: plugins[1][0]: plugin name "a" is already used by plugins[0]'],
    },
    {
      name: 'a plugin factory that was not called',
      files: { 'agentd.config.ts': `export default { plugins: [() => ({ name: 'x' })] };` },
      expected: ['  plugins[0]: expected a plugin object (did you forget to call the factory?)'],
    },
  ];

  for (const c of cases) {
    for (const command of ['start', 'check']) {
      it(`${command}: ${c.name}`, async () => {
        project = tempProject(c.files);
        const run = runCli([command, ...(c.args ?? [])], project.dir, {
          HELLO_TOKEN: '',
          ...c.env,
        });
        expect(await run.exited).toBe(1);
        for (const line of c.expected) expect(run.stderr()).toContain(line);
        expect(run.stderr()).not.toMatch(/\n\s+at /);
        expect(run.stderr()).not.toContain('hunter2');
        expect(run.stdout()).not.toContain('is ready');
      });
    }
  }

  it('--verbose adds the stack trace', async () => {
    project = tempProject({
      'agentd.config.ts': `export default { plugins: [{ name: 'a', dependsOn: ['a'] }] };`,
    });
    const run = runCli(['check', '--verbose'], project.dir);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/depends on itself\n(.|\n)*\n\s+at /);
  });
});
