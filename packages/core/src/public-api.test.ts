import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The root of `@agentd/core` is for config writers and plugin authors. Everything else has a
 * subpath (`/host`, `/store`, `/runner`, `/failover`, `/sessions`, `/scheduler`, `/chat-commands`,
 * `/testing`), so
 * the root stays a list a newcomer can read. Raise the budget only for a name that config files or
 * plugins need; say why in the commit.
 */
const ROOT_BUDGET = 100;

const SUBPATH_HINT =
  'Export new names from a subpath instead (packages/core/src/entries/*.ts: host, store, runner, ' +
  'failover, sessions, scheduler, chat-commands) unless config writers or plugin authors need them.';

/** Names exported with `export type { ... }` (or inline `type X`) by the root entry. */
function typeExportNames(source: string): string[] {
  const names: string[] = [];
  for (const [, typeAll, list] of source.matchAll(/export\s+(type\s+)?\{([^}]*)\}/g)) {
    for (const raw of (list ?? '').split(',')) {
      const spec = raw.trim();
      if (spec === '') continue;
      const isType = typeAll !== undefined || spec.startsWith('type ');
      const name = spec
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()
        ?.trim();
      if (isType && name) names.push(name);
    }
  }
  return names;
}

describe('the public API of @agentd/core', () => {
  const source = readFileSync(new URL('./index.ts', import.meta.url), 'utf8');

  it('re-exports modules name by name, so the root list is visible in one file', () => {
    expect(source, 'use `export { a, b } from` in index.ts, not `export *`').not.toMatch(
      /export\s+\*/,
    );
  });

  it(`keeps the root under ${ROOT_BUDGET} names (values and types)`, async () => {
    const values = Object.keys(await import('./index.js'));
    const types = typeExportNames(source).filter((name) => !values.includes(name));
    const total = values.length + types.length;
    expect(values.length, 'the root exports values').toBeGreaterThan(0);
    expect(types.length, 'the root exports types').toBeGreaterThan(0);
    expect(
      total,
      `@agentd/core's root exports ${total} names (${values.length} values, ${types.length} ` +
        `types), over its budget of ${ROOT_BUDGET}. ${SUBPATH_HINT}`,
    ).toBeLessThanOrEqual(ROOT_BUDGET);
  });

  it('keeps what a config file and a plugin need at the root', async () => {
    const root = await import('./index.js');
    for (const name of ['defineConfig', 'createHost', 'agent', 'createToken', 'command']) {
      expect(root, `${name} belongs at the root`).toHaveProperty(name);
    }
  });

  it.each([
    ['host', 'createKernelHost'],
    ['store', 'prepareNewTask'],
    ['runner', 'runner'],
    ['failover', 'failover'],
    ['sessions', 'sessions'],
    ['scheduler', 'scheduler'],
    ['chat-commands', 'chatCommands'],
  ])('the %s subpath exports %s, which the root does not', async (entry, name) => {
    const subpath = await import(`./entries/${entry}.ts`);
    expect(subpath).toHaveProperty(name);
    expect(await import('./index.js')).not.toHaveProperty(name);
  });
});
