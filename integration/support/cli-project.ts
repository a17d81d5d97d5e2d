import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll } from 'vitest';
import { CORE_DIR, runCli, tempProject } from './temp-project.js';

/** A temp project made by {@link tempProject}. */
export type TempProject = ReturnType<typeof tempProject>;

/** What a CLI run ended with: its exit code (or signal) and everything it printed. */
export interface CliOutcome {
  code: number | string;
  out: string;
  err: string;
}

/**
 * An `agentd.config.ts` for CLI tests: one `writer` agent and the SQLite store in
 * `./data/agentd.db`, polling often so a host started by a test picks tasks up at once.
 */
export function writerHostConfig(name: string): string {
  return `
import { agent, defineConfig } from '@agentd/core';
import { sqlite } from '@agentd/store-sqlite';
export default defineConfig({
  name: '${name}',
  agents: [agent('writer', (input) => 'wrote: ' + input)],
  runner: { pollMs: 50 },
  plugins: [sqlite({ path: './data/agentd.db' })],
});
`;
}

/**
 * For a test file that runs the real CLI on a store file: checks that the packages were built,
 * and removes the project each test made.
 *
 * @example
 * ```ts
 * const projects = useCliProject('cli-host');
 * it('lists tasks', async () => {
 *   projects.create();
 *   expect((await projects.cli(['tasks'])).code).toBe(0);
 * });
 * ```
 */
export function useCliProject(name: string): {
  /** A fresh project with {@link writerHostConfig}; removed after the test. */
  create(): TempProject;
  /** Runs `agentd ...args` in the project the test created, to its end. */
  cli(args: string[]): Promise<CliOutcome>;
} {
  let project: TempProject | undefined;
  beforeAll(() => {
    if (!existsSync(join(CORE_DIR, '../store-sqlite/dist/index.js'))) {
      throw new Error(
        'packages/store-sqlite/dist is missing: run "npm run build" (npm test does) first',
      );
    }
  });
  afterEach(() => {
    project?.cleanup();
    project = undefined;
  });
  return {
    create() {
      project = tempProject({ 'agentd.config.ts': writerHostConfig(name) });
      return project;
    },
    async cli(args) {
      if (!project) throw new Error('create() the project first');
      const run = runCli(args, project.dir);
      const code = await run.exited;
      return { code, out: run.stdout(), err: run.stderr() };
    },
  };
}
