import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../kernel/errors.js';
import { loadConfigFile } from './load-config.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function project(files: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), 'agentd-load-config-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const tsConfig = (name: string) =>
  `const name: string = ${JSON.stringify(name)};\nexport default { name };\n`;

describe('loadConfigFile', () => {
  it('caches the TypeScript transform in the nearest node_modules, and a changed file is transformed again', async () => {
    const root = project({ 'node_modules/.keep': '', 'app/agentd.config.ts': tsConfig('first') });
    const path = join(root, 'app/agentd.config.ts');
    expect((await loadConfigFile(path)).config).toEqual({ name: 'first' });
    const cache = join(root, 'node_modules/.cache/jiti');
    expect(readdirSync(cache).filter((f) => f.startsWith('app-agentd.config.'))).toHaveLength(1);

    writeFileSync(path, tsConfig('second'));
    expect((await loadConfigFile(path)).config).toEqual({ name: 'second' });
  });

  it('without a node_modules above the config, loads it and caches nothing', async () => {
    const root = project({ 'agentd.config.ts': tsConfig('alone') });
    expect((await loadConfigFile(join(root, 'agentd.config.ts'))).config).toEqual({
      name: 'alone',
    });
    expect(readdirSync(root)).toEqual(['agentd.config.ts']);
  });

  it('loads an .mjs config with import(), and says which file cannot load', async () => {
    const root = project({
      'agentd.config.mjs': 'export default { name: "native" };\n',
      'broken.config.mjs': 'export default {\n',
    });
    expect((await loadConfigFile(join(root, 'agentd.config.mjs'))).config).toEqual({
      name: 'native',
    });
    expect(existsSync(join(root, 'node_modules'))).toBe(false);
    const failure = loadConfigFile(join(root, 'broken.config.mjs'));
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toThrow(/^cannot load broken\.config\.mjs: /);
  });
});
