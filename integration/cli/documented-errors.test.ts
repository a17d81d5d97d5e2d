import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type DocBlock, readDocBlocks } from '../docs/doc-blocks.js';
import { CORE_DIR, REPO_ROOT, runCli, tempProject } from '../support/temp-project.js';

// Error output the docs quote, run as written: the docs test skips these blocks (their configs are
// invalid and their commands fail on purpose), so this file runs each and compares what the CLI
// prints on stderr with the documented lines.

const blocksOf = (doc: string) => readDocBlocks(join(REPO_ROOT, doc), doc);

/** The `text` block right after `block` in its page: what the docs show the command printing. */
function outputAfter(blocks: DocBlock[], block: DocBlock): string[] {
  const next = blocks[blocks.indexOf(block) + 1];
  if (next?.lang !== 'text')
    throw new Error(`${block.doc}:${block.line}: no output block after it`);
  return next.lines;
}

const printed = (stderr: string) =>
  stderr
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean);

let project: ReturnType<typeof tempProject> | undefined;
afterEach(() => project?.cleanup());

describe('error output quoted in the docs', () => {
  it('docs/config.md: agentd check lists every problem of the invalid config at once', async () => {
    const blocks = blocksOf('docs/config.md');
    const config = blocks.find(
      (b) => b.lang === 'json' && /invalid on purpose/.test(b.annotation.skip ?? ''),
    );
    expect(config, 'the invalid config example').toBeDefined();
    const [command, ...expected] = outputAfter(blocks, config!);
    expect(command).toBe('$ npx agentd check');
    project = tempProject({ 'agentd.config.json': config!.lines.join('\n') });
    symlinkSync(
      join(CORE_DIR, '../plugin-webhook'),
      join(project.dir, 'node_modules/@agentd/plugin-webhook'),
      'dir',
    );
    const run = runCli(['check'], project.dir);
    expect(await run.exited).toBe(1);
    expect(printed(run.stderr())).toEqual(expected);
  });

  it('docs/cli.md: agentd enqueue names the unknown agent and the known ones', async () => {
    const blocks = blocksOf('docs/cli.md');
    const shown = blocks.find((b) => b.lang === 'text' && b.lines[0]?.includes('--agent nope'));
    expect(shown, 'the unknown-agent example').toBeDefined();
    const [command, ...expected] = shown!.lines;
    expect(command).toMatch(/^\$ npx agentd enqueue "x" --agent nope\b/);
    project = tempProject({
      'agentd.config.mjs': `import { agent, defineConfig } from '@agentd/core';
import { sqlite } from '@agentd/store-sqlite';
export default defineConfig({
  agents: [agent('writer', () => 'ok'), agent('coder', () => 'ok')],
  plugins: [sqlite()],
});
`,
    });
    const run = runCli(['enqueue', 'x', '--agent', 'nope'], project.dir);
    expect(await run.exited).toBe(1);
    expect(printed(run.stderr())).toEqual(expected);
    expect(run.stdout()).toBe('');
  });
});
