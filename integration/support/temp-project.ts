import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory (this file is in integration/support/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** packages/core, whose bin and dist the spawned CLI uses. */
export const CORE_DIR = join(REPO_ROOT, 'packages/core');
export const CLI = join(CORE_DIR, 'bin/agentd.js');

/**
 * A throw-away user project: a temp directory with `node_modules/@agentd/core` and
 * `@agentd/store-sqlite` linked to this repo's packages, as `npm install` would leave them.
 */
export function tempProject(files: Record<string, string> = {}): {
  dir: string;
  write: (f: Record<string, string>) => void;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'agentd-test-'));
  mkdirSync(join(dir, 'node_modules/@agentd'), { recursive: true });
  symlinkSync(CORE_DIR, join(dir, 'node_modules/@agentd/core'), 'dir');
  symlinkSync(
    join(CORE_DIR, '../store-sqlite'),
    join(dir, 'node_modules/@agentd/store-sqlite'),
    'dir',
  );
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'user-host', type: 'module', private: true }),
  );
  const write = (more: Record<string, string>) => {
    for (const [name, content] of Object.entries(more)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
  };
  write(files);
  return { dir, write, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A spawned `agentd` process with its output collected. */
export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  /** Resolves once stdout contains `text`; rejects if the process exits first. */
  waitFor: (text: string, timeoutMs?: number) => Promise<void>;
}

/**
 * Runs the real CLI (`node bin/agentd.js ...args`) in `cwd`, without a TTY. With
 * `inheritEnv: false` the child gets only `env` (and PATH, HOME): no keys leak in from the test's.
 */
export function runCli(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  { inheritEnv = true }: { inheritEnv?: boolean } = {},
): CliRun {
  const base = inheritEnv
    ? process.env
    : { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd };
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...base, AGENTD_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (d) => {
    out += d;
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | string>((resolveExit) => {
    child.on('exit', (code, signal) => {
      resolveExit(code ?? signal ?? -1);
      for (const l of listeners) l();
    });
  });
  const waitFor = (text: string, timeoutMs = 15_000) =>
    new Promise<void>((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`timed out waiting for "${text}"\nstdout:\n${out}\nstderr:\n${err}`)),
        timeoutMs,
      );
      const check = () => {
        if (out.includes(text)) {
          clearTimeout(timer);
          listeners.delete(check);
          ok();
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(timer);
          listeners.delete(check);
          fail(new Error(`agentd exited before "${text}"\nstdout:\n${out}\nstderr:\n${err}`));
        }
      };
      listeners.add(check);
      check();
    });
  return { child, stdout: () => out, stderr: () => err, exited, waitFor };
}

/** Parses JSON log lines from a CLI's stdout. */
export function logLines(
  stdout: string,
): { msg?: string; plugin?: string; [k: string]: unknown }[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}
