import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { openSqliteStore } from '@agentd/store-sqlite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { REPO_ROOT, runCli } from '../support/temp-project.js';
import {
  type DocBlock,
  type Generated,
  isCompleteConfig,
  readDocBlocks,
  shellCommands,
  transcript,
  typescriptFileName,
  typescriptModule,
  where,
} from './doc-blocks.js';

/**
 * Every code block of README.md, docs/*.md and the package and example READMEs is run or
 * type-checked here, as a user following the page would:
 * - TypeScript blocks are type-checked (one `tsc` run) against the built packages' .d.ts, in a
 *   project whose node_modules link to this repository's packages; complete `agentd.config.ts`
 *   files also pass `agentd check` with the real CLI.
 * - JSON configs are saved as `agentd.config.json` and pass `agentd check`.
 * - Shell blocks and `console` transcripts run with the real CLI in the page's project
 *   (`agentd start` briefly: ready, then SIGTERM, exit 0); `npm install` lines must name this
 *   repository's packages; a transcript's documented output must have the shape of the real one.
 * - `text` blocks are output or diagrams. Anything else needs `<!-- doc-test: skip: reason -->`
 *   (see doc-blocks.ts for the annotations), so no block goes untested silently.
 */

const REPO = REPO_ROOT;
const PACKAGES = [
  'core',
  'store-sqlite',
  'store-postgres',
  'plugin-webhook',
  'plugin-telegram',
  'plugin-monitor',
  'plugin-dashboard',
];

const docFiles = [
  'README.md',
  ...readdirSync(join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  ...['packages', 'examples'].flatMap((parent) =>
    readdirSync(join(REPO, parent))
      .map((name) => `${parent}/${name}/README.md`)
      .filter((f) => existsSync(join(REPO, f))),
  ),
].sort();
const blocksByDoc = new Map(docFiles.map((doc) => [doc, readDocBlocks(join(REPO, doc), doc)]));

/** Values for the `${NAME}` placeholders of the documented configs (fakes, never real secrets). */
const PLACEHOLDER_ENV: Record<string, string> = {
  TELEGRAM_TOKEN: '123456789:AAFakeTokenForTheDocsExamplesTest_x',
  TELEGRAM_BOT_TOKEN: '123456789:AAFakeTokenForTheDocsExamplesTest_x',
  TELEGRAM_ADMIN_ID: '111222333',
  TELEGRAM_WEBHOOK_SECRET: 'docs-example-webhook-secret',
  AGENTD_API_TOKEN: 'docs-example-api-token-0123456789abcdef',
  GITHUB_WEBHOOK_SECRET: 'docs-example-github-secret',
  BILLING_WEBHOOK_SECRET: `whsec_${Buffer.from('docs-example-billing-secret').toString('base64')}`,
  BACKUP_WEBHOOK_SECRET: 'docs-example-backup-secret',
  OPENAI_API_KEY: 'sk-docs-example-key',
  DATABASE_URL: 'postgres://agentd:docs-example-password@127.0.0.1:5432/agentd',
};

/** Files a page's examples refer to without showing them (the user's own code). */
const FIXTURES: Record<string, Record<string, string>> = {
  // `import config from './agentd.config.js'` in the custom entry point.
  'docs/lifecycle.md': {
    'agentd.config.ts': `import { defineConfig } from '@agentd/core';
import { sqlite } from '@agentd/store-sqlite';
export default defineConfig({ name: 'my-host', plugins: [sqlite()] });
`,
  },
  // The store under test in "Proving a store".
  'docs/contracts.md': {
    'index.ts': `import { openSqliteStore } from '@agentd/store-sqlite';
export const openMyStore = (_options: { url: string }) => openSqliteStore({ path: ':memory:' });
`,
  },
  // `runBackup` in "Schedules from plugins".
  'docs/schedules.md': {
    'backup.ts':
      'export async function runBackup(slot: number): Promise<void> {\n  void slot;\n}\n',
  },
  // The task file `agentd import old/tasks.json` reads: 12 to import, 3 finished.
  'docs/tasks.md': {
    'old/tasks.json': JSON.stringify(
      Array.from({ length: 15 }, (_, i) => ({
        id: `old-${i + 1}`,
        description: `old task ${i + 1}`,
        status: [3, 7, 11].includes(i) ? 'completed' : 'pending',
      })),
    ),
  },
  // The sessions page has no config of its own: a host with sessions (on by default).
  'docs/sessions.md': {
    'agentd.config.ts': `import { agent, defineConfig } from '@agentd/core';
import { sqlite } from '@agentd/store-sqlite';
export default defineConfig({ agents: [agent('echo', (input) => input)], plugins: [sqlite()] });
`,
  },
  // The host the page's senders and API calls talk to: its HMAC route, and the HTTP API.
  'docs/webhooks.md': {
    'host.config.ts': `import { agent, defineConfig } from '@agentd/core';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { __value as backups } from './backups-route.ts';
export default defineConfig({
  name: 'home-bot',
  agents: [agent('triage', (input) => input)],
  plugins: [
    sqlite(),
    webhook({ port: '\${PORT}', api: { token: '\${AGENTD_API_TOKEN}' }, routes: [backups] }),
  ],
});
`,
  },
  // The host `agentd ask` and the OpenAI-compatible endpoint's examples talk to.
  'docs/talking-to-your-host.md': {
    'host.config.ts': `import { agent, defineConfig } from '@agentd/core';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
export default defineConfig({
  name: 'home-bot',
  agents: [agent('assistant', (input) => \`You said: \${input}\`)],
  plugins: [
    sqlite(),
    webhook({ port: '\${PORT}', api: { token: '\${AGENTD_API_TOKEN}' }, openai: true }),
  ],
});
`,
  },
  // The host the dashboard page's API calls talk to: the page's config, on the test's port.
  'docs/dashboard.md': {
    'host.config.ts': `import { agent, defineConfig } from '@agentd/core';
import { dashboard } from '@agentd/plugin-dashboard';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
export default defineConfig({
  agents: [agent('echo', (input) => input)],
  schedules: [{ name: 'daily-report', cron: '0 8 * * *', task: { agent: 'echo', input: 'report' } }],
  plugins: [sqlite(), webhook({ port: '\${PORT}' }), dashboard()],
});
`,
  },
  'docs/running-24-7.md': {
    'agentd.config.ts': `import { defineConfig } from '@agentd/core';
import { sqlite } from '@agentd/store-sqlite';
export default defineConfig({ name: 'home-bot', plugins: [sqlite()] });
`,
  },
};

/** State a page's commands expect that no command of the page creates. */
const SEEDS: Record<string, (dir: string) => Promise<void>> = {
  // `agentd sessions --user telegram:42 --name work ...` changes an existing session.
  'docs/sessions.md': async (dir) => {
    mkdirSync(join(dir, '.agentd'), { recursive: true });
    const store = openSqliteStore({ path: join(dir, '.agentd/agentd.db') });
    try {
      await store.sessions.create(
        {
          userKey: 'telegram:42',
          address: { channel: 'telegram', id: '42' },
          name: 'work',
          agent: 'echo',
        },
        Date.now(),
      );
    } finally {
      await store.close();
    }
  },
  // `agentd restore ./some/copy.db` restores from a copy the user kept.
  'packages/store-sqlite/README.md': async (dir) => {
    mkdirSync(join(dir, 'some'), { recursive: true });
    await openSqliteStore({ path: join(dir, 'some/copy.db') }).close();
  },
};

/** Documented exit codes other than 0. */
const EXPECTED_EXIT: { match: RegExp; code: number; why: string }[] = [
  { match: /^status\b/, code: 3, why: 'no host answers, so status reads the store (exit 3)' },
];

const slug = (doc: string) => doc.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '_');
const isTypescript = (b: DocBlock) => b.lang === 'ts' || b.lang === 'typescript';
const isShell = (b: DocBlock) => ['sh', 'bash', 'shell'].includes(b.lang);

/** What the test does with a block, or why it cannot. */
function classify(block: DocBlock): string {
  if (block.annotation.skip) return 'skipped';
  if (block.lang === 'text') return 'output';
  if (isTypescript(block)) return 'typescript';
  if (block.lang === 'json') return block.annotation.output ? 'output-json' : 'json-config';
  if (isShell(block)) return block.annotation.file ? 'file' : 'shell';
  if (block.lang === 'console') return 'transcript';
  return block.lang === ''
    ? 'untagged: give it a language (`text` for output or diagrams, `console` for a transcript)'
    : `language "${block.lang}" is not tested: use ts, json, sh, console or text, or opt out`;
}

let root = '';
const generated = new Map<string, Generated & { block: DocBlock }>();
const diagnostics = new Map<string, string[]>();

function link(target: string, name: string) {
  mkdirSync(dirname(join(root, 'node_modules', name)), { recursive: true });
  symlinkSync(target, join(root, 'node_modules', name), 'dir');
}

function write(path: string, content: string) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((ok) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => ok({ code: code ?? -1, out }));
  });
}

/**
 * Schemas the docs' own commands create in the local PostgreSQL (docs/scaling-out.md copies a
 * store into `agentd_copy_docs` at the URL its command names). They are fixed names, so they are
 * dropped before and after the run: one left migrated by another version of the store would make
 * the next run's copy refuse it.
 */
const DOC_POSTGRES = {
  url: 'postgres://postgres@127.0.0.1:5432/test',
  schemas: ['agentd_copy_docs'],
};

async function dropDocSchemas(): Promise<void> {
  const client = new pg.Client({
    connectionString: DOC_POSTGRES.url,
    connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
    for (const schema of DOC_POSTGRES.schemas)
      await client.query(`drop schema if exists "${schema}" cascade`);
  } catch {
    // No PostgreSQL here: the page's copy command is skipped or fails on its own, with its reason.
  } finally {
    await client.end().catch(() => {});
  }
}

beforeAll(async () => {
  await dropDocSchemas();
  root = mkdtempSync(join(tmpdir(), 'agentd-docs-'));
  // A user's project after `npm install @agentd/...`: every package linked to this repository.
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ name: 'docs-examples', type: 'module', private: true }),
  );
  for (const name of PACKAGES) link(join(REPO, 'packages', name), `@agentd/${name}`);
  for (const name of ['zod', 'vitest', '@types/node']) {
    link(join(REPO, 'node_modules', name), name);
  }
  // As npm install leaves it: `npx agentd` in a script run beside a host (`host=` blocks).
  mkdirSync(join(root, 'node_modules/.bin'), { recursive: true });
  symlinkSync('../@agentd/core/bin/agentd.js', join(root, 'node_modules/.bin/agentd'));
  writeFileSync(
    join(root, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        allowImportingTsExtensions: true,
        types: ['node'],
      },
      include: ['pages/**/*.ts'],
    }),
  );

  for (const [doc, blocks] of blocksByDoc) {
    const dir = join(root, 'pages', slug(doc));
    mkdirSync(dir, { recursive: true });
    for (const [name, content] of Object.entries(FIXTURES[doc] ?? {}))
      write(join(dir, name), content);
    const named = new Map<string, DocBlock>();
    for (const block of blocks) {
      if (block.annotation.skip) continue;
      if (isTypescript(block)) {
        const file = typescriptFileName(block);
        if (named.has(file)) {
          throw new Error(`${where(block)}: a second block saved as ${file} in this page`);
        }
        named.set(file, block);
        const module = typescriptModule(block, (name) => {
          const earlier = named.get(name);
          if (!earlier) throw new Error(`${where(block)}: after=${name}: no earlier block ${name}`);
          return earlier;
        });
        write(join(dir, file), module.text);
        generated.set(relative(root, join(dir, file)), { ...module, block });
      } else if (block.annotation.file) {
        write(join(dir, block.annotation.file), `${block.lines.join('\n')}\n`);
      }
    }
  }

  // One type check over every snippet: each is its own module, checked against the .d.ts.
  const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
  const { out } = await run(process.execPath, [tsc, '-p', root, '--pretty', 'false'], root);
  let last: string[] | undefined;
  for (const line of out.split('\n')) {
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+: .*)$/.exec(line);
    if (!m) {
      if (last && line.startsWith(' ')) last.push(line);
      continue;
    }
    const [, file, lineNo, col, message] = m as unknown as [string, string, string, string, string];
    const source = generated.get(file);
    const mdLine = source?.sourceLines[Number(lineNo) - 1];
    const place = source
      ? mdLine
        ? `${source.block.doc}:${mdLine}:${col}`
        : `${where(source.block)} (completing code, line ${lineNo} of ${file})`
      : file;
    const key = source ? file : '(other)';
    last = [`${place}: ${message}`];
    diagnostics.set(key, [...(diagnostics.get(key) ?? []), ...last]);
  }
}, 180_000);

afterAll(async () => {
  if (root) rmSync(root, { recursive: true, force: true });
  await dropDocSchemas();
});

/** Splits a command line into words (single and double quotes, no expansion). */
function words(command: string): string[] {
  const out: string[] = [];
  for (const m of command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

interface Outcome {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** `agentd start` as the docs describe it: it logs `is ready`, and SIGTERM stops it with 0. */
async function startBriefly(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const cli = runCli(args, cwd, env);
  try {
    await cli.waitFor('is ready', 120_000);
  } catch (error) {
    cli.child.kill('SIGKILL');
    await cli.exited;
    return { code: `not ready: ${(error as Error).message}`, stdout: '', stderr: '' };
  }
  cli.child.kill('SIGTERM');
  return { code: await cli.exited, stdout: cli.stdout(), stderr: cli.stderr() };
}

/**
 * Outcomes of `agentd check` and `agentd start` by config text and environment: several pages
 * show the same config (and a page checks its config, then shows `npx agentd check`), and on a
 * busy machine each run of the CLI is dear. Same config, same command, same outcome.
 */
const configOutcomes = new Map<string, Promise<Outcome>>();

function agentd(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const config = ['agentd.config.ts', 'agentd.config.json'].find((f) => existsSync(join(cwd, f)));
  const key =
    (args.join(' ') === 'check' || args.join(' ') === 'start') && config
      ? JSON.stringify([args, config, readFileSync(join(cwd, config), 'utf8'), env])
      : undefined;
  const cached = key === undefined ? undefined : configOutcomes.get(key);
  if (cached) return cached;
  const outcome = (async () => {
    if (args[0] === 'start') return startBriefly(args, cwd, env);
    const cli = runCli(args, cwd, env);
    return { code: await cli.exited, stdout: cli.stdout(), stderr: cli.stderr() };
  })();
  if (key !== undefined) configOutcomes.set(key, outcome);
  return outcome;
}

/** Setup commands a page may show that are safe to run as they are (no network, no service). */
const SETUP = /^(mkdir|cd|npm init|npm pkg set)\b/;

/**
 * Runs one documented command line. `agentd` commands run with the real CLI in the page's
 * project; `npm install` names must be packages of this repository (which the project links);
 * harmless setup commands run in a scratch directory. Returns failures, each naming the line.
 */
async function runCommandLine(
  command: string,
  place: string,
  cwd: string,
  scratch: string,
): Promise<{ failures: string[]; outcomes: Outcome[] }> {
  const failures: string[] = [];
  const outcomes: Outcome[] = [];
  const parts = command.split(/\s+&&\s+/);
  if (parts.every((p) => SETUP.test(p))) {
    const { code, out } = await run('sh', ['-ec', command], scratch);
    if (code !== 0) failures.push(`${place}: \`${command}\` exited ${code}: ${out}`);
    return { failures, outcomes };
  }
  for (const part of parts) {
    const argv = words(part);
    const env: NodeJS.ProcessEnv = { ...PLACEHOLDER_ENV };
    while (argv[0] && /^[A-Z_][A-Z0-9_]*=/.test(argv[0])) {
      const [name, ...value] = argv.shift()!.split('=');
      env[name!] = value.join('=');
    }
    if (argv[0] === 'npm' && argv[1] === 'install' && argv.length > 2) {
      const known = PACKAGES.map((p) => `@agentd/${p}`);
      for (const name of argv.slice(2)) {
        if (!known.includes(name)) failures.push(`${place}: npm install ${name}: no such package`);
      }
      continue;
    }
    const args = argv[0] === 'npx' && argv[1] === 'agentd' ? argv.slice(2) : undefined;
    if (!args) {
      failures.push(
        `${place}: \`${part}\` is not run by this test: opt the block out with a reason`,
      );
      continue;
    }
    const outcome = await agentd(args, cwd, env);
    outcomes.push(outcome);
    const expected = EXPECTED_EXIT.find((e) => e.match.test(args.join(' ')));
    if (outcome.code !== (expected?.code ?? 0)) {
      failures.push(
        `${place}: \`${part}\` exited ${outcome.code}, expected ${expected?.code ?? 0}` +
          `${expected ? ` (${expected.why})` : ''}\n${outcome.stdout}${outcome.stderr}`,
      );
    }
  }
  return { failures, outcomes };
}

/**
 * Whether a documented output line has the shape of the real one: the same words, except those
 * holding a digit or a `/` (ids, counts, paths, times). When the number of words differs (a
 * column empty in a fresh store, `-` for a date), the words before the first such variable word
 * must match. Returns the differing words (documented -> real), so later commands of a transcript
 * use the real ids, or undefined.
 */
function sameShape(documented: string, actual: string): Map<string, string> | undefined {
  const a = documented.trim().split(/\s+/);
  const b = actual.trim().split(/\s+/);
  const variable = (word: string) => /[0-9/]/.test(word);
  if (a.length !== b.length) {
    const fixed = a.findIndex(variable);
    const prefix = fixed === -1 ? a.length : fixed;
    return a.slice(0, prefix).every((w, i) => w === b[i]) ? new Map() : undefined;
  }
  const changed = new Map<string, string>();
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (!variable(a[i]!)) return undefined;
    changed.set(a[i]!, b[i]!);
  }
  return changed;
}

/**
 * Runs a shell block as one script (its variables carry from line to line) while a host started
 * with the block's `host` config runs; the docs' port 8787 becomes the host's. Every answer the
 * script prints must be free of error answers (`{"error": {...}}`).
 */
async function runWithHost(block: DocBlock, dir: string): Promise<string[]> {
  const port = String(await freePort());
  const env = { ...PLACEHOLDER_ENV, PORT: port };
  const host = runCli(['start', '--config', block.annotation.host!], dir, env);
  try {
    await host.waitFor('is ready', 60_000);
  } catch (error) {
    host.child.kill('SIGKILL');
    return [`${where(block)}: the host for this block did not start: ${(error as Error).message}`];
  }
  try {
    const script = block.lines.join('\n').replaceAll('8787', port);
    const result = await new Promise<{ code: number; out: string; err: string }>((ok) => {
      const child = spawn('sh', ['-ec', script], {
        cwd: dir,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        err += d;
      });
      child.on('close', (code) => ok({ code: code ?? -1, out, err }));
    });
    if (result.code !== 0 || result.out.trim() === '' || /"error":\s*\{/.test(result.out)) {
      return [
        `${where(block)}: the script exited ${result.code} and printed\n${result.out}${result.err}`,
      ];
    }
    return [];
  } finally {
    host.child.kill('SIGTERM');
    await host.exited;
  }
}

/** Runs a page's configs, commands and transcripts in order; returns every failure. */
async function runPage(doc: string, blocks: DocBlock[]): Promise<string[]> {
  const dir = join(root, 'pages', slug(doc));
  const scratch = mkdtempSync(join(tmpdir(), 'agentd-docs-scratch-'));
  const failures: string[] = [];
  try {
    await SEEDS[doc]?.(dir);
    for (const block of blocks) {
      const kind = classify(block);
      if (kind === 'typescript' && block.annotation.run) {
        // A whole program: run as a user would run a .ts file (jiti, as the CLI loads configs).
        const jiti = join(REPO, 'node_modules/jiti/lib/jiti-cli.mjs');
        const { code, out } = await run(process.execPath, [jiti, typescriptFileName(block)], dir);
        if (code !== 0) failures.push(`${where(block)}: the program exited ${code}\n${out}`);
      } else if (kind === 'typescript' && typescriptFileName(block) === 'agentd.config.ts') {
        if (!isCompleteConfig(block)) continue;
        const placeholders = [...block.lines.join('\n').matchAll(/\$\{([A-Z0-9_]+)\}/g)];
        const missing = placeholders.map((m) => m[1]!).filter((n) => !(n in PLACEHOLDER_ENV));
        if (missing.length > 0) {
          failures.push(`${where(block)}: add test values for ${missing.join(', ')}`);
        }
        const outcome = await agentd(['check'], dir, PLACEHOLDER_ENV);
        if (outcome.code !== 0) {
          failures.push(
            `${where(block)}: agentd check exited ${outcome.code}\n${outcome.stdout}${outcome.stderr}`,
          );
        }
      } else if (kind === 'shell' && block.annotation.host) {
        failures.push(...(await runWithHost(block, dir)));
      } else if (kind === 'shell') {
        for (const { command, line } of shellCommands(block)) {
          const result = await runCommandLine(command, `${doc}:${line}`, dir, scratch);
          failures.push(...result.failures);
        }
      } else if (kind === 'transcript') {
        let ids = new Map<string, string>();
        for (const step of transcript(block)) {
          let command = step.command;
          for (const [from, to] of ids) command = command.split(from).join(to);
          const place = `${doc}:${step.line}`;
          const result = await runCommandLine(command, place, dir, scratch);
          failures.push(...result.failures);
          const outcome = result.outcomes.at(-1);
          if (!outcome || result.failures.length > 0) continue;
          // Each documented output line against the real line at its place.
          const actualLines = outcome.stdout.split('\n');
          step.output.forEach((documented, i) => {
            const actual = actualLines[i];
            if (!actual) return; // the docs may show more (a missed slot, a longer list)
            const shape = sameShape(documented.text, actual);
            if (shape) ids = new Map([...ids, ...shape]);
            else {
              failures.push(
                `${doc}:${documented.line}: the docs show\n  ${documented.text}\nbut \`${command}\` printed\n  ${actual}`,
              );
            }
          });
        }
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return failures;
}

describe('documentation examples', () => {
  it('finds the documentation pages and their blocks', () => {
    expect(docFiles).toContain('docs/getting-started.md');
    expect([...blocksByDoc.values()].flat().length).toBeGreaterThan(50);
  });

  for (const [doc, blocks] of blocksByDoc) {
    describe(doc, () => {
      it('has no block that is neither tested nor opted out with a reason', () => {
        const problems = blocks
          .map((b) => ({ b, kind: classify(b) }))
          .filter(({ kind }) => kind.includes(' '))
          .map(({ b, kind }) => `${where(b)}: ${kind}`);
        expect(problems, problems.join('\n')).toEqual([]);
      });

      for (const block of blocks.filter((b) => classify(b) === 'typescript')) {
        it(`${where(block)} type-checks`, () => {
          const file = relative(root, join(root, 'pages', slug(doc), typescriptFileName(block)));
          const errors = diagnostics.get(file) ?? [];
          expect(errors, errors.join('\n')).toEqual([]);
        });
      }

      for (const block of blocks.filter((b) => classify(b) === 'output-json')) {
        it(`${where(block)} is valid JSON`, () => {
          expect(() => JSON.parse(block.lines.join('\n')), where(block)).not.toThrow();
        });
      }
    });
  }

  it('type-checks without errors outside the snippets', () => {
    const other = diagnostics.get('(other)') ?? [];
    expect(other, other.join('\n')).toEqual([]);
  });
});

// The configs and commands of all pages run side by side (each page's steps in order).
describe('documented setups run as written', () => {
  for (const [doc, blocks] of blocksByDoc) {
    for (const block of blocks.filter((b) => classify(b) === 'json-config')) {
      it.concurrent(`${where(block)} passes agentd check as agentd.config.json`, async () => {
        const dir = join(root, 'json', `${slug(doc)}-${block.line}`);
        write(join(dir, 'agentd.config.json'), block.lines.join('\n'));
        const outcome = await agentd(['check'], dir, PLACEHOLDER_ENV);
        expect(outcome.code, `${where(block)}\n${outcome.stdout}${outcome.stderr}`).toBe(0);
      }, 120_000);
    }

    const runs = blocks.some(
      (b) =>
        ['shell', 'transcript'].includes(classify(b)) ||
        (classify(b) === 'typescript' && b.annotation.run) ||
        (isTypescript(b) && !b.annotation.skip && isCompleteConfig(b)),
    );
    if (runs) {
      it.concurrent(`${doc}: its configs and commands`, async () => {
        const failures = await runPage(doc, blocks);
        expect(failures, failures.join('\n\n')).toEqual([]);
      }, 300_000);
    }
  }
});
