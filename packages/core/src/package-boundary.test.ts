// Core is the package every other one builds on, so it depends on none of them: not in
// package.json, and not in a stray import of a test or a helper, which would pass here (the repo's
// node_modules link every package) and then break for a user who installs @agentd/core alone.
// Tests that need another package (a real SQLite file, the real CLI with plugins) live in the root
// integration/ folder.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const CORE_DIR = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_DIR = join(CORE_DIR, 'src');
const SCANNED = /\.(?:[cm]?ts|[cm]?js)$/;

/** An import of a module specifier, where it stands. */
interface ImportSite {
  specifier: string;
  /** 1-based. */
  line: number;
}

/**
 * Every module a file imports: `import`/`export ... from`, `import()` and `require()`. The
 * TypeScript scanner reads them, so specifiers in comments (JSDoc examples) and in strings
 * (config files a test writes) are not imports.
 */
function importsOf(text: string): ImportSite[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  const source = ts.createSourceFile('scanned.ts', text, ts.ScriptTarget.Latest);
  return importedFiles.map((file) => ({
    specifier: file.fileName,
    line: source.getLineAndCharacterOfPosition(file.pos).line + 1,
  }));
}

/** A package of this repository other than core itself (`@agentd/core/testing` is core). */
const isOtherAgentdPackage = (specifier: string) =>
  specifier.startsWith('@agentd/') && !/^@agentd\/core(?:\/|$)/.test(specifier);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && SCANNED.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

describe('@agentd/core depends on no other @agentd package', () => {
  it('no file under packages/core/src imports one (file:line listed)', () => {
    const files = sourceFiles(SOURCE_DIR);
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.flatMap((file) =>
      importsOf(readFileSync(file, 'utf8'))
        .filter((site) => isOtherAgentdPackage(site.specifier))
        .map((site) => `${relative(CORE_DIR, file)}:${site.line} imports ${site.specifier}`),
    );
    expect(
      offenders,
      'core must not import another @agentd package; use @agentd/core/testing (memoryStore) in ' +
        'its tests, or move a test that needs the other package to integration/',
    ).toEqual([]);
  });

  it('package.json names none as a dependency of any kind', () => {
    const manifest = JSON.parse(readFileSync(join(CORE_DIR, 'package.json'), 'utf8'));
    const named = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']
      .flatMap((field) => Object.keys(manifest[field] ?? {}))
      .filter(isOtherAgentdPackage);
    expect(named).toEqual([]);
  });

  it('the scan finds static, re-exported, dynamic and required imports, and skips comments and strings', () => {
    const text = [
      "import { a } from '@agentd/store-postgres';",
      '/** @example',
      " * import { postgres } from '@agentd/store-postgres';",
      ' */',
      "export { b } from '@agentd/plugin-webhook';",
      "const config = `import { telegram } from '@agentd/plugin-telegram';`;",
      "const c = await import('@agentd/plugin-monitor');",
      "const d = require('@agentd/store-redis');",
      "import { memoryLogger } from '@agentd/core/testing';",
    ].join('\n');
    expect(importsOf(text).filter((site) => isOtherAgentdPackage(site.specifier))).toEqual([
      { specifier: '@agentd/store-postgres', line: 1 },
      { specifier: '@agentd/plugin-webhook', line: 5 },
      { specifier: '@agentd/plugin-monitor', line: 7 },
      { specifier: '@agentd/store-redis', line: 8 },
    ]);
  });
});
