import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The kernel knows plugins, services, lifecycle and config validation only: nothing under these
 * folders may import a feature (the runner, failover, sessions, the scheduler, the built-in
 * preset, the CLI...). Features import the kernel, never the other way round.
 */
const KERNEL_FOLDERS = ['kernel', 'contracts', 'config', 'logging'] as const;

/**
 * Imports from a kernel folder into a feature folder that are allowed for now, each with why.
 * Keys are `file -> imported file`, relative to `src/`.
 */
const ALLOWED: Readonly<Record<string, string>> = {};

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** One import of a relative module: where it stands and what it names. */
interface ImportSite {
  line: number;
  specifier: string;
}

/**
 * Every module specifier a source text imports or re-exports: `from '...'` (import, export,
 * `import type`) and dynamic `import('...')`. A regex is enough here: the sources are ours and
 * formatted by Biome, and a specifier inside a comment or a string only errs on the safe side.
 */
function importSites(source: string): ImportSite[] {
  const sites: ImportSite[] = [];
  const pattern = /\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const match of source.matchAll(pattern)) {
    const line = source.slice(0, match.index).split('\n').length;
    sites.push({ line, specifier: (match[1] ?? match[2])! });
  }
  return sites;
}

/**
 * The imports of `file` (relative to `src/`) that leave the kernel for a feature folder, as
 * `file:line imports target` lines. Tests are not part of the kernel and are not checked.
 */
function boundaryViolations(file: string, source: string): string[] {
  const out: string[] = [];
  for (const { line, specifier } of importSites(source)) {
    if (!specifier.startsWith('.')) continue;
    const target = relative(SRC, resolve(SRC, dirname(file), specifier)).replace(/\.js$/, '.ts');
    const top = target.split(/[\\/]/)[0]!;
    if (target.startsWith('..') || (KERNEL_FOLDERS as readonly string[]).includes(top)) continue;
    if (ALLOWED[`${file} -> ${target}`]) continue;
    out.push(`${file}:${line} imports ${target} (a feature: ${top}/)`);
  }
  return out;
}

function kernelFiles(): string[] {
  const files: string[] = [];
  for (const folder of KERNEL_FOLDERS) {
    for (const entry of readdirSync(join(SRC, folder), { recursive: true, encoding: 'utf8' })) {
      if (entry.endsWith('.ts') && !entry.endsWith('.test.ts')) files.push(`${folder}/${entry}`);
    }
  }
  return files;
}

describe('the kernel import boundary', () => {
  it('finds kernel files to check', () => {
    expect(kernelFiles()).toEqual(
      expect.arrayContaining(['kernel/host.ts', 'config/validate-config.ts']),
    );
  });

  it('no file under kernel/, contracts/, config/ or logging/ imports a feature folder', () => {
    const violations = kernelFiles().flatMap((file) =>
      boundaryViolations(file, readFileSync(join(SRC, file), 'utf8')),
    );
    expect(violations, `the kernel imports features:\n${violations.join('\n')}`).toEqual([]);
  });

  it('every allowed exception still exists (remove it once the import is gone)', () => {
    for (const key of Object.keys(ALLOWED)) {
      const [file, target] = key.split(' -> ') as [string, string];
      const source = readFileSync(join(SRC, file), 'utf8');
      const targets = importSites(source).map((s) =>
        relative(SRC, resolve(SRC, dirname(file), s.specifier)).replace(/\.js$/, '.ts'),
      );
      expect(targets, key).toContain(target);
    }
  });

  it('reports a violating import with its file and line (the checker proves itself)', () => {
    const source = [
      "import { ConfigError } from './errors.js';",
      "import type { RunnerOptions } from '../runtime/runner.js';",
      '',
      "const later = () => import('../scheduler/scheduler-plugin.js');",
      "export { sessions } from '../sessions/plugin.js';",
      "import { z } from 'zod';",
      "import type { Task } from '../contracts/task.js';",
    ].join('\n');
    expect(boundaryViolations('kernel/example.ts', source)).toEqual([
      'kernel/example.ts:2 imports runtime/runner.ts (a feature: runtime/)',
      'kernel/example.ts:4 imports scheduler/scheduler-plugin.ts (a feature: scheduler/)',
      'kernel/example.ts:5 imports sessions/plugin.ts (a feature: sessions/)',
    ]);
  });
});
