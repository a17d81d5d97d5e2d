import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Choices, CreateError, packageName, parseAgent, parseChannels } from './choices.js';
import { createProject } from './create.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'create-agentd-'));
  dirs.push(d);
  return d;
};
const choices = (more: Partial<Choices> = {}): Choices => ({
  name: 'my-host',
  channels: ['http', 'dashboard'],
  agent: 'openai',
  baseUrl: 'https://api.openai.com/v1',
  model: 'gpt-4o-mini',
  agentdRange: '^0.1.0',
  ...more,
});

describe('flags', () => {
  it('reads channels, adds http for the dashboard, refuses unknown ones', () => {
    expect(parseChannels('dashboard,telegram')).toEqual(['telegram', 'http', 'dashboard']);
    expect(parseChannels('webhook')).toEqual(['http']);
    expect(() => parseChannels('http,sms')).toThrow(CreateError);
    expect(() => parseChannels('http,sms')).toThrow('unknown channel "sms"');
    expect(parseAgent('LLM')).toBe('openai');
    expect(() => parseAgent('gpt')).toThrow('choose echo or openai');
    expect(packageName('My Host!')).toBe('my-host');
  });
});

describe('createProject', () => {
  it('writes the project with the agentd packages at the given range and a generated token', () => {
    const dir = join(temp(), 'my-host');
    const files = createProject(dir, choices({ channels: ['telegram', 'http'] }));
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'agentd.config.ts',
        '.env.example',
        '.env',
        '.gitignore',
        'README.md',
        'plugins/hello.ts',
      ]),
    );
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg.dependencies).toEqual({
      '@agentd/core': '^0.1.0',
      '@agentd/plugin-monitor': '^0.1.0',
      '@agentd/plugin-telegram': '^0.1.0',
      '@agentd/plugin-webhook': '^0.1.0',
      '@agentd/store-sqlite': '^0.1.0',
    });
    const config = readFileSync(join(dir, 'agentd.config.ts'), 'utf8');
    expect(config).toContain("apiKey: '${LLM_API_KEY}'");
    expect(config).toContain('telegram({');
    expect(config).not.toContain('dashboard(');
    // A chat waiting on the LLM must not hold up the others (the runner's default is 3).
    expect(config).toContain('runner: { concurrency: 16 },');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toMatch(/AGENTD_API_TOKEN=[0-9a-f]{48}\n/);
    expect(readFileSync(join(dir, '.env.example'), 'utf8')).toContain('AGENTD_API_TOKEN=\n');
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toContain('.env\n');
  });

  it('refuses a non-empty folder and writes nothing', () => {
    const dir = temp();
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    expect(() => createProject(dir, choices())).toThrow(
      /is not empty \(notes\.txt\).*nothing was written/,
    );
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('accepts an existing empty folder; echo hosts have no LLM agent', () => {
    const dir = join(temp(), 'empty');
    mkdirSync(dir);
    createProject(dir, choices({ agent: 'echo', channels: [] }));
    const config = readFileSync(join(dir, 'agentd.config.ts'), 'utf8');
    expect(config).not.toContain('llmAgent');
    expect(config).not.toContain('webhook(');
    expect(config).not.toContain('runner:');
  });
});
