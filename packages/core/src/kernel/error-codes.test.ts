// The error-code catalogue stays whole: every code the packages raise or compare against is in
// a catalogue (core's, or the package's own src/error-codes.ts), docs/errors.md explains every
// catalogued code under the right package, and lists nothing that no catalogue defines.
// tsc already rejects an uncatalogued code passed to AgentdError; this test also covers codes
// held in sets, compared as strings, named in doc comments, and the docs page.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CORE_ERROR_CODES } from './error-codes.js';
import { AgentdError } from './errors.js';

const REPO = fileURLToPath(new URL('../../../..', import.meta.url));
const PACKAGES = join(REPO, 'packages');
const ERRORS_DOC = join(REPO, 'docs/errors.md');

/** A quoted code: 'E_X', "E_X" or `E_X` (code, and names in doc comments). */
const QUOTED_CODE = /(['"`])(E_[A-Z][A-Z0-9_]*)\1/g;
/** A key of an `as const` catalogue object: `  E_X: '...'`. */
const CATALOGUE_KEY = /^\s+(E_[A-Z][A-Z0-9_]*):/gm;

/**
 * Codes no source spells out: classifyIntakeError records `E_${error.name.toUpperCase()}` on
 * dead letters for these errors. The test checks that template still exists.
 */
const DERIVED_CODES = ['E_TYPEERROR', 'E_RANGEERROR', 'E_SYNTAXERROR'];

interface Catalogue {
  /** npm name of the package that owns the codes. */
  pkg: string;
  /** Repository-relative path of the catalogue file. */
  file: string;
  codes: string[];
}

function packageDirs(): string[] {
  return readdirSync(PACKAGES).filter((d) => existsSync(join(PACKAGES, d, 'package.json')));
}

function packageName(dir: string): string {
  return (JSON.parse(readFileSync(join(PACKAGES, dir, 'package.json'), 'utf8')) as { name: string })
    .name;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts)$/.test(entry) && !/\.test\.m?ts$/.test(entry)) out.push(path);
  }
  return out;
}

function catalogues(): Catalogue[] {
  const list: Catalogue[] = [
    {
      pkg: '@agentd/core',
      file: 'packages/core/src/kernel/error-codes.ts',
      codes: Object.keys(CORE_ERROR_CODES),
    },
  ];
  for (const dir of packageDirs()) {
    const file = join(PACKAGES, dir, 'src/error-codes.ts');
    if (dir === 'core' || !existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    list.push({
      pkg: packageName(dir),
      file: relative(REPO, file),
      codes: [...text.matchAll(CATALOGUE_KEY)].map((m) => m[1]!),
    });
  }
  return list;
}

/** Every quoted code in the packages' non-test sources, with the places it occurs. */
function usedCodes(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const dir of packageDirs()) {
    for (const file of sourceFiles(join(PACKAGES, dir, 'src'))) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const [, , code] of line.matchAll(QUOTED_CODE)) {
          const places = used.get(code!) ?? [];
          places.push(`${relative(REPO, file)}:${i + 1}`);
          used.set(code!, places);
        }
      });
    }
  }
  return used;
}

/** The `### \`E_X\`` sections of docs/errors.md, each with its text up to the next heading. */
function documentedCodes(): Map<string, string> {
  const sections = new Map<string, string>();
  const text = readFileSync(ERRORS_DOC, 'utf8');
  for (const heading of text.matchAll(/^### `(E_[A-Z][A-Z0-9_]*)`\s*$/gm)) {
    const rest = text.slice(heading.index + heading[0].length);
    const end = rest.search(/^#{1,3} /m);
    const code = heading[1]!;
    if (sections.has(code)) throw new Error(`docs/errors.md documents ${code} twice`);
    sections.set(code, end === -1 ? rest : rest.slice(0, end));
  }
  return sections;
}

const owners = () => {
  const owner = new Map<string, string>();
  for (const c of catalogues()) for (const code of c.codes) owner.set(code, c.pkg);
  return owner;
};

describe('the error-code catalogue', () => {
  it('types AgentdError codes: an uncatalogued code does not compile', () => {
    // tsc (tsconfig.check.json covers tests) fails on this line if `code` ever widens to string.
    // @ts-expect-error 'E_NOT_A_CODE' is in no catalogue
    const error = new AgentdError('E_NOT_A_CODE', 'typo');
    expect(error.code).toBe('E_NOT_A_CODE');
    expect(new AgentdError('E_NO_AGENT', 'no agent').code).toBe('E_NO_AGENT');
  });

  it('holds every code the packages raise, compare against or name', () => {
    const owner = owners();
    const missing = [...usedCodes()]
      .filter(([code]) => !owner.has(code))
      .map(([code, places]) => `${code} (${places.join(', ')})`);
    expect(
      missing,
      `codes used but in no catalogue; add each to packages/core/src/kernel/error-codes.ts or the package's src/error-codes.ts, and to docs/errors.md:\n  ${missing.join('\n  ')}`,
    ).toEqual([]);
  });

  it('holds no code that nothing uses, and none twice', () => {
    const used = usedCodes();
    const buildsDerived = sourceFiles(join(PACKAGES, 'core/src')).some((f) =>
      readFileSync(f, 'utf8').includes('`E_${error.name.toUpperCase()}`'),
    );
    expect(buildsDerived, `${DERIVED_CODES.join(', ')} are no longer built; drop them`).toBe(true);
    const unused: string[] = [];
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const c of catalogues()) {
      for (const code of c.codes) {
        if (!used.has(code) && !DERIVED_CODES.includes(code)) unused.push(`${code} (${c.file})`);
        const first = seen.get(code);
        if (first) twice.push(`${code} (${first} and ${c.file})`);
        seen.set(code, c.file);
      }
    }
    expect(unused, `catalogued codes that nothing raises:\n  ${unused.join('\n  ')}`).toEqual([]);
    expect(twice, `codes catalogued twice:\n  ${twice.join('\n  ')}`).toEqual([]);
  });

  it("adds each package's codes to AgentdErrorCodes by declaration merging", () => {
    for (const c of catalogues().filter((c) => c.pkg !== '@agentd/core')) {
      const text = readFileSync(join(REPO, c.file), 'utf8');
      expect(text, c.file).toMatch(
        /declare module '@agentd\/core' \{\s*interface AgentdErrorCodes extends \w+ \{\}/,
      );
      expect(c.codes.length, `${c.file} lists no codes`).toBeGreaterThan(0);
    }
  });

  it('is documented code by code in docs/errors.md, under the package that raises it', () => {
    const owner = owners();
    const documented = documentedCodes();
    const undocumented = [...owner.keys()].filter((code) => !documented.has(code));
    expect(
      undocumented,
      `codes missing from docs/errors.md (add a "### \`CODE\`" section with package, cause and fix):\n  ${undocumented.join('\n  ')}`,
    ).toEqual([]);
    const unknown = [...documented.keys()].filter((code) => !owner.has(code));
    expect(
      unknown,
      `docs/errors.md documents codes no catalogue defines:\n  ${unknown.join('\n  ')}`,
    ).toEqual([]);
    const misplaced: string[] = [];
    const incomplete: string[] = [];
    for (const [code, body] of documented) {
      const pkg = owner.get(code);
      if (pkg && !body.includes(`**Package:** \`${pkg}\``)) misplaced.push(`${code} (${pkg})`);
      if (!/\*\*Cause:\*\*/.test(body) || !/\*\*Fix:\*\*/.test(body)) incomplete.push(code);
    }
    expect(
      misplaced,
      `sections that do not name the owning package:\n  ${misplaced.join('\n  ')}`,
    ).toEqual([]);
    expect(
      incomplete,
      `sections without a **Cause:** and a **Fix:**:\n  ${incomplete.join('\n  ')}`,
    ).toEqual([]);
  });
});
