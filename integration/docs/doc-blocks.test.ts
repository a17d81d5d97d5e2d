import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readDocBlocks, shellCommands, transcript, typescriptModule } from './doc-blocks.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
function page(markdown: string) {
  dir = mkdtempSync(join(tmpdir(), 'agentd-doc-blocks-'));
  writeFileSync(join(dir, 'page.md'), markdown);
  return readDocBlocks(join(dir, 'page.md'), 'page.md');
}

describe('doc blocks', () => {
  it('reads fences with their language, line, indentation and annotation', () => {
    const [a, b] = page(
      [
        '# Page',
        '',
        '1. A step:',
        '',
        '   <!-- doc-test: context=plugin-hook -->',
        '   ```ts',
        '   ctx.logger.info("hi");',
        '   ```',
        '',
        '```',
        'untagged',
        '```',
      ].join('\n'),
    );
    expect(a).toMatchObject({ line: 6, lang: 'ts', lines: ['ctx.logger.info("hi");'] });
    expect(a!.annotation).toEqual({ context: 'plugin-hook' });
    expect(b).toMatchObject({ line: 10, lang: '', annotation: {} });
  });

  it('reads flags and named values of an annotation', () => {
    const [block] = page('<!-- doc-test: run file=x.ts host=h.ts -->\n```ts\nexport {};\n```\n');
    expect(block!.annotation).toEqual({ run: true, file: 'x.ts', host: 'h.ts' });
  });

  it('refuses a skip without a reason, and unknown annotations', () => {
    expect(() => page('<!-- doc-test: skip: -->\n```sh\nls\n```\n')).toThrow(/page\.md:1.*reason/);
    expect(() => page('<!-- doc-test: sikp -->\n```sh\nls\n```\n')).toThrow(/unknown .*"sikp"/);
  });

  it('completes config fields into defineConfig, keeping imports on top and mapping lines', () => {
    const [block] = page(
      [
        '<!-- doc-test: context=config-fields -->',
        '```ts',
        "import { sqlite } from '@agentd/store-sqlite';",
        '',
        'plugins: [sqlite()];',
        '```',
      ].join('\n'),
    );
    const module = typescriptModule(block!, () => {
      throw new Error('unused');
    });
    const lines = module.text.split('\n');
    const at = lines.indexOf('plugins: [sqlite()]');
    expect(lines.indexOf("import { sqlite } from '@agentd/store-sqlite';")).toBeLessThan(
      lines.indexOf('export default __defineConfig({'),
    );
    expect(lines.indexOf('export default __defineConfig({')).toBeLessThan(at);
    expect(module.sourceLines[at]).toBe(5);
  });

  it('splits shell lines and console transcripts', () => {
    const [sh, console] = page(
      [
        '```sh',
        'npx agentd check   # validates',
        'curl -sS a \\',
        '  -H b',
        '```',
        '```console',
        '$ npx agentd cancel abc1',
        'cancelled abc1',
        '```',
      ].join('\n'),
    );
    expect(shellCommands(sh!)).toEqual([
      { command: 'npx agentd check', line: 2 },
      { command: 'curl -sS a -H b', line: 3 },
    ]);
    expect(transcript(console!)).toEqual([
      { command: 'npx agentd cancel abc1', line: 7, output: [{ text: 'cancelled abc1', line: 8 }] },
    ]);
  });
});
