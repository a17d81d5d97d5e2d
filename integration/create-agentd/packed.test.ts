// SLOW (about 1-3 minutes: npm pack, npm install of the tarballs, better-sqlite3 compiling from
// source): `npm create agentd` as a user runs it, from the packed packages, no registry for @agentd/*.
// Packs every publishable workspace, runs the packed create-agentd with flags in a temp folder,
// installs the tarballs there, starts the host with `npm start`, asks it with `agentd ask`, stops it.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { REPO_ROOT } from '../support/temp-project.js';

const run = promisify(execFile);
const PACKAGES = [
  'packages/core',
  'packages/store-sqlite',
  'packages/plugin-webhook',
  'packages/plugin-telegram',
  'packages/plugin-monitor',
  'packages/plugin-dashboard',
  'packages/create-agentd',
];
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

const work = mkdtempSync(join(tmpdir(), 'agentd-create-'));
let host: ChildProcess | undefined;

afterAll(async () => {
  if (host?.pid && host.exitCode === null) {
    process.kill(-host.pid, 'SIGKILL');
  }
  rmSync(work, { recursive: true, force: true });
});

describe('npm create agentd, from packed tarballs [slow]', () => {
  it('creates a host that installs, starts with no keys and answers agentd ask', async () => {
    const packs = join(work, 'packs');
    await run('npm', ['pack', '--pack-destination', packs, ...PACKAGES.flatMap((p) => ['-w', p])], {
      cwd: REPO_ROOT,
    }).catch(async (err) => {
      // --pack-destination must exist on some npm versions
      if (!existsSync(packs)) {
        const { mkdirSync } = await import('node:fs');
        mkdirSync(packs);
        return run(
          'npm',
          ['pack', '--pack-destination', packs, ...PACKAGES.flatMap((p) => ['-w', p])],
          {
            cwd: REPO_ROOT,
          },
        );
      }
      throw err;
    });
    const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
    expect(tarballs).toHaveLength(PACKAGES.length);
    const creator = join(packs, tarballs.find((t) => t.startsWith('create-agentd-'))!);

    // What `npm create agentd@latest my-host -- ...` runs: the package's bin through npm exec.
    const created = await run(
      'npm',
      [
        'exec',
        '--yes',
        `--package=${creator}`,
        '--',
        'create-agentd',
        'my-host',
        '--channels',
        'http,dashboard',
        '--agent',
        'openai',
        '--yes',
      ],
      { cwd: work },
    );
    expect(created.stdout).toContain('Created my-host');
    const dir = join(work, 'my-host');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg.dependencies['@agentd/core']).toBe(
      `^${JSON.parse(readFileSync(join(REPO_ROOT, 'packages/create-agentd/package.json'), 'utf8')).version}`,
    );

    // A second run into the same folder is refused, and writes nothing.
    const again = await run(
      'npm',
      ['exec', '--yes', `--package=${creator}`, '--', 'create-agentd', 'my-host', '--yes'],
      { cwd: work },
    ).catch((err: { code: number; stderr: string }) => err);
    expect((again as { code: number }).code).toBe(1);
    expect((again as { stderr: string }).stderr).toContain('my-host is not empty');

    // The @agentd packages from the tarballs (the registry only for their own dependencies).
    const agentdTarballs = tarballs
      .filter((t) => t.startsWith('agentd-'))
      .map((t) => join(packs, t));
    await run('npm', ['install', ...NPM_FLAGS, ...agentdTarballs], {
      cwd: dir,
      maxBuffer: 16 << 20,
    });

    const port = await freePort();
    const env = {
      ...process.env,
      AGENTD_PORT: String(port),
      LLM_API_KEY: '',
      AGENTD_LOG_LEVEL: 'info',
    };
    host = spawn('npm', ['start'], {
      cwd: dir,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    host.stdout!.on('data', (d) => {
      out += d;
    });
    host.stderr!.on('data', (d) => {
      out += d;
    });
    const until = Date.now() + 60_000;
    while (!out.includes('HTTP server listening')) {
      if (host.exitCode !== null || Date.now() > until)
        throw new Error(`host did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const asked = await run(
      join(dir, 'node_modules/.bin/agentd'),
      ['ask', 'hello from a packed host', '--timeout', '30s'],
      {
        cwd: dir,
        env,
      },
    );
    expect(asked.stdout).toContain('echo: hello from a packed host');

    const exited = new Promise((ok) => host!.on('exit', ok));
    process.kill(-host.pid!, 'SIGTERM');
    await exited;
    expect(out).not.toContain(
      readFileSync(join(dir, '.env'), 'utf8').match(/AGENTD_API_TOKEN=(\w+)/)![1],
    );
  }, 300_000);
});
