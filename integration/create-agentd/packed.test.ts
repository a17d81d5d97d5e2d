// SLOW (about 30-60 s: npm pack, npm exec, npm install of the tarballs): `npm create agentd` as a user runs it, from the packed packages, no registry for @agentd/*.
// better-sqlite3 installs from a local prebuild made of this repository's own compiled module (see
// `localSqlitePrebuild`): its installer would otherwise download one from GitHub (out of reach
// here) and fall back to compiling SQLite from source, minutes on a 2-core machine.
// Packs every publishable workspace, runs the packed create-agentd with flags in a temp folder,
// installs the tarballs there, starts the host with `npm start`, asks it with `agentd ask`, stops it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { REPO_ROOT } from '../support/temp-project.js';

/**
 * The environment without the npm_* variables `npx vitest` / `npm test` set (npm_config_local_prefix
 * and friends would point the child npm at this repository instead of the temp project).
 */
function cleanEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(
      ([k]) => !/^npm_/i.test(k) || k === 'npm_config_better_sqlite3_local_prebuilds',
    ),
  );
}

/**
 * Runs a command with stdin closed (npm waits on an open stdin pipe), its output collected; rejects
 * with the output on a non-zero exit or after `timeoutMs`.
 */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; maxBuffer?: number },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: cleanEnv(options.env ?? process.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 150_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) ok({ stdout, stderr });
      else
        fail(
          Object.assign(
            new Error(`${command} ${args.join(' ')}: exit ${code}\n${stdout}\n${stderr}`),
            { code, stdout, stderr },
          ),
        );
    });
  });
}
/**
 * Packs the repository's compiled better-sqlite3 as the prebuild its installer (prebuild-install)
 * looks for before downloading: `<dir>/better-sqlite3-v<version>-node-v<abi>-<platform>-<arch>.tar.gz`
 * holding `build/Release/better_sqlite3.node`. Returns the folder and the version it was built from
 * (the temp project pins that version, so the prebuild matches what it installs).
 */
function localSqlitePrebuild(into: string): { dir: string; version: string } {
  const require = createRequire(join(REPO_ROOT, 'packages/store-sqlite/package.json'));
  const root = join(require.resolve('better-sqlite3/package.json'), '..');
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const dir = join(into, 'prebuilds');
  mkdirSync(dir);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('tar', ['-czf', join(dir, name), '-C', root, 'build/Release/better_sqlite3.node']);
  return { dir, version };
}

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
    mkdirSync(packs);
    await run('npm', ['pack', '--pack-destination', packs, ...PACKAGES.flatMap((p) => ['-w', p])], {
      cwd: REPO_ROOT,
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
    const prebuild = localSqlitePrebuild(work);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ ...pkg, overrides: { 'better-sqlite3': prebuild.version } }, null, 2),
    );
    await run('npm', ['install', ...NPM_FLAGS, ...agentdTarballs], {
      cwd: dir,
      env: { ...process.env, npm_config_better_sqlite3_local_prebuilds: prebuild.dir },
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
      env: cleanEnv(env),
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
