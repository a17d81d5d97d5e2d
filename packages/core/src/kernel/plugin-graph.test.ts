import { describe, expect, it } from 'vitest';
import { PluginGraphError } from './errors.js';
import type { Plugin } from './plugin.js';
import { flattenPlugins, orderPlugins } from './plugin-graph.js';
import { createToken } from './token.js';

const p = (name: string, extra: Partial<Plugin> = {}): Plugin => ({ name, ...extra });
const names = (list: { plugin: Plugin }[]) => list.map((e) => e.plugin.name);

describe('flattenPlugins', () => {
  it('drops falsy entries, flattens nested arrays and keeps each config path', () => {
    const flat = flattenPlugins([
      p('a'),
      false,
      [p('b'), null, [p('c')]],
      undefined,
      0,
      '',
      p('d'),
    ]);
    expect(flat.map((e) => [e.plugin.name, e.path])).toEqual([
      ['a', 'plugins[0]'],
      ['b', 'plugins[2][0]'],
      ['c', 'plugins[2][2][0]'],
      ['d', 'plugins[6]'],
    ]);
  });
});

describe('orderPlugins', () => {
  it('keeps the list order when nothing depends on anything', () => {
    expect(names(orderPlugins(flattenPlugins([p('x'), p('y'), p('z')])))).toEqual(['x', 'y', 'z']);
  });

  it('moves a dependency before its dependant, by plugin name and by service token', () => {
    const Db = createToken<object>('test.db');
    const list = [
      p('api', { dependsOn: ['auth', Db] }),
      p('auth', { dependsOn: [Db] }),
      p('db', { provides: [Db] }),
    ];
    expect(names(orderPlugins(flattenPlugins(list)))).toEqual(['db', 'auth', 'api']);
  });

  it('accepts dependencies on kernel services without a provider', () => {
    const Logger = createToken<object>('test.kernel-logger');
    expect(
      names(orderPlugins(flattenPlugins([p('a', { dependsOn: [Logger] })]), [Logger])),
    ).toEqual(['a']);
  });

  it('rejects duplicate names, naming both places', () => {
    expect(() => orderPlugins(flattenPlugins([p('a'), p('b'), p('a')]))).toThrow(
      /plugins\[2\]: plugin name "a" is already used by plugins\[0\]/,
    );
  });

  it('rejects a missing plugin dependency, naming the plugin', () => {
    expect(() => orderPlugins(flattenPlugins([p('bot', { dependsOn: ['store'] })]))).toThrow(
      /plugin "bot" depends on plugin "store", which is not in the plugins list/,
    );
  });

  it('rejects a missing service, naming the plugin and the service', () => {
    const Queue = createToken<object>('test.queue');
    const error = (() => {
      try {
        orderPlugins(flattenPlugins([p('bot', { dependsOn: [Queue] })]));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(PluginGraphError);
    expect((error as PluginGraphError).code).toBe('E_MISSING_SERVICE');
    expect((error as Error).message).toBe(
      'plugin "bot" depends on service "test.queue", but no plugin provides it',
    );
  });

  it('rejects two providers of one service', () => {
    const T = createToken<object>('test.dup');
    expect(() =>
      orderPlugins(flattenPlugins([p('a', { provides: [T] }), p('b', { provides: [T] })])),
    ).toThrow(/plugin "b" provides service "test.dup", which plugin "a" already provides/);
  });

  it('reports a cycle with its path', () => {
    const list = [
      p('a', { dependsOn: ['b'] }),
      p('b', { dependsOn: ['c'] }),
      p('c', { dependsOn: ['a'] }),
    ];
    expect(() => orderPlugins(flattenPlugins(list))).toThrow(
      'plugin dependency cycle: "a" -> "b" -> "c" -> "a"',
    );
    expect(() => orderPlugins(flattenPlugins([p('s', { dependsOn: ['s'] })]))).toThrow(
      /"s" depends on itself/,
    );
  });

  describe('after (optional ordering)', () => {
    const Executor = createToken<object>('test.executor');

    it('orders after a present plugin or service provider, like dependsOn', () => {
      const list = [
        p('runner', { after: [Executor] }),
        p('report', { after: ['runner'] }),
        p('failover', { provides: [Executor] }),
      ];
      expect(names(orderPlugins(flattenPlugins(list)))).toEqual(['failover', 'runner', 'report']);
    });

    it('ignores an absent plugin, an unprovided service and itself', () => {
      const list = [p('runner', { after: ['failover', Executor, 'runner'] }), p('other')];
      expect(names(orderPlugins(flattenPlugins(list)))).toEqual(['runner', 'other']);
    });

    it('reports a cycle made of after and dependsOn edges', () => {
      const list = [
        p('a', { after: ['b'] }),
        p('b', { dependsOn: [Executor] }),
        p('c', { provides: [Executor], after: ['a'] }),
      ];
      expect(() => orderPlugins(flattenPlugins(list))).toThrow(PluginGraphError);
      expect(() => orderPlugins(flattenPlugins(list))).toThrow(
        /plugin dependency cycle: "a" -> "b" -> "c" -> "a"/,
      );
    });
  });
});
