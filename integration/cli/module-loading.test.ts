import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, tempProject } from '../support/temp-project.js';

// A load hook (registered before the CLI starts) that appends each URL the ES module loader loads
// to a file, synchronously: hooks run on their own thread, and the file is complete at exit.
const HOOKS = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, next) {
  appendFileSync(file, url + '\\n');
  return next(url, context);
}
`;
const REGISTER = (hooks: string, file: string) => `
import { register } from 'node:module';
register(${JSON.stringify(hooks)}, { data: { file: ${JSON.stringify(file)} } });
`;

let project: ReturnType<typeof tempProject> | undefined;
afterEach(() => {
  project?.cleanup();
  project = undefined;
});

/** Runs `agentd ...args` in the project and resolves with its exit code and every ES module URL loaded. */
function esModulesLoadedBy(
  args: string[],
  dir: string,
): Promise<{ code: number | null; urls: string[]; err: string }> {
  const file = join(dir, 'loaded.txt');
  writeFileSync(file, '');
  writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
  writeFileSync(
    join(dir, 'register.mjs'),
    REGISTER(pathToFileURL(join(dir, 'hooks.mjs')).href, file),
  );
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(join(dir, 'register.mjs')).href, CLI, ...args],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      resolve({ code, err, urls: readFileSync(file, 'utf8').split('\n').filter(Boolean) });
    });
  });
}

describe('what a read command loads', () => {
  it('loads commander and jiti through require, never through the ES module loader', async () => {
    // Their ES module entries only wrap the CommonJS builds, which Node then scans for export
    // names before running them: tens of ms of CPU per command (docs/benchmarks.md).
    project = tempProject({
      'agentd.config.ts': `
import { defineConfig } from '@agentd/core';
import { sqlite } from '@agentd/store-sqlite';
export default defineConfig({ name: 'reads', plugins: [sqlite({ path: './agentd.db' })] });
`,
    });
    const { code, urls, err } = await esModulesLoadedBy(['tasks'], project.dir);
    expect(err).toBe('');
    expect(code).toBe(0);
    // The hook saw the CLI itself, so an empty list would not pass for a clean one.
    expect(urls.some((u) => u.endsWith('/packages/core/dist/cli/main.js'))).toBe(true);
    expect(urls.filter((u) => /\/node_modules\/(commander|jiti)\//.test(u))).toEqual([]);
  });
});
