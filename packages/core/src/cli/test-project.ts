// Test support for the CLI commands (not shipped: no entry imports it). The commands live in core,
// but their tests need plugins core cannot import (the HTTP API, the monitor), so those tests sit
// in the plugins' packages and import this file and the commands by relative path.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHost, type Host, type HostConfig } from '../index.js';
import type { CliIO } from './output.js';

/** A folder whose `agentd.config.mjs` returns the config the test puts in place. */
export interface CliTestProject {
  /** The project folder: the commands' `cwd`, and a place for the store file. */
  readonly dir: string;
  /** Makes `config` what the project's config file returns, and returns it. */
  use(config: HostConfig): HostConfig;
  /** Uses `config`, then creates and starts a host from it (stopped by `cleanup`). */
  start(config: HostConfig): Promise<Host>;
  /** Stops the started host, forgets the config, removes the folder. */
  cleanup(): Promise<void>;
}

/**
 * A temporary project for a CLI command run in the test's own process: the config file reads a
 * global the test sets, so each test picks its plugins without writing a config per test.
 *
 * @example
 * ```ts
 * let project: CliTestProject;
 * beforeEach(() => { project = cliTestProject('status'); });
 * afterEach(() => project.cleanup());
 * await project.start({ name: 'x', agents, plugins: [sqlite({ path: join(project.dir, 'agentd.db') })] });
 * await statusCommand(capturedIo().io, { cwd: project.dir });
 * ```
 */
export function cliTestProject(name: string): CliTestProject {
  const key = `__agentdCliTest_${name.replace(/\W/g, '_')}`;
  const globals = globalThis as Record<string, unknown>;
  const dir = mkdtempSync(join(tmpdir(), `agentd-cli-${name}-`));
  writeFileSync(join(dir, 'agentd.config.mjs'), `export default () => globalThis.${key};\n`);
  let host: Host | undefined;
  const use = (config: HostConfig) => {
    globals[key] = config;
    return config;
  };
  return {
    dir,
    use,
    async start(config) {
      host = createHost(use(config));
      await host.start();
      return host;
    },
    async cleanup() {
      await host?.stop('test end');
      host = undefined;
      delete globals[key];
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A {@link CliIO} that keeps what a command prints, line by line. */
export function capturedIo(): { io: CliIO; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line) => out.push(line), err: (line) => err.push(line) }, out, err };
}

/** A TCP port that was free on 127.0.0.1 a moment ago (for a test host's HTTP server). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
