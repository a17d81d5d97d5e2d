import { describe, expect, it } from 'vitest';
import { canonicalJson, toJsonText } from './json-text.js';

describe('toJsonText', () => {
  it('serializes JSON values and drops undefined properties', () => {
    expect(
      toJsonText({ a: [1, 'x', null, { b: true }], skip: undefined }, 'input', 'E_INVALID_TASK'),
    ).toBe('{"a":[1,"x",null,{"b":true}]}');
    const shared = { n: 1 };
    expect(toJsonText({ x: shared, y: shared }, 'input', 'E_INVALID_TASK')).toBe(
      '{"x":{"n":1},"y":{"n":1}}',
    );
    expect(
      toJsonText(Object.assign(Object.create(null), { a: 1 }), 'input', 'E_INVALID_TASK'),
    ).toBe('{"a":1}');
  });

  it('serializes top-level numbers and refuses NaN and Infinity by name', () => {
    expect(toJsonText(42, 'input', 'E_INVALID_TASK')).toBe('42');
    expect(toJsonText(-0.5, 'input', 'E_INVALID_TASK')).toBe('-0.5');
    // The fast path writes numbers with String(): the same text as JSON.stringify, edge cases too.
    for (const n of [
      0,
      -0,
      1e21,
      1e-7,
      -1.5e-300,
      2 ** 53,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      0.1 + 0.2,
    ]) {
      expect(toJsonText(n, 'input', 'E_INVALID_TASK')).toBe(JSON.stringify(n));
    }
    expect(() => toJsonText(Number.NaN, 'input', 'E_INVALID_TASK')).toThrow(
      expect.objectContaining({
        code: 'E_INVALID_TASK',
        message: 'input is NaN, which JSON cannot represent',
      }),
    );
    expect(() => toJsonText(Number.POSITIVE_INFINITY, 'input', 'E_INVALID_TASK')).toThrow(
      'input is Infinity, which JSON cannot represent',
    );
  });

  it('names the path of the first problem', () => {
    const bad = { list: [0, { 'odd key': { fn: () => 1 } }] };
    expect(() => toJsonText(bad, 'input', 'E_INVALID_TASK')).toThrow(
      expect.objectContaining({
        code: 'E_INVALID_TASK',
        message: 'input.list[1]["odd key"].fn is a function, which JSON cannot represent',
      }),
    );
    expect(() => toJsonText([new Date(0)], 'metadata', 'E_INVALID_TASK')).toThrow(
      /metadata\[0\] is a Date/,
    );
    const cyclic: Record<string, unknown> = { a: [] };
    (cyclic.a as unknown[]).push(cyclic);
    expect(() => toJsonText(cyclic, 'input', 'E_INVALID_TASK')).toThrow(
      'input.a[0] refers back to itself (a cycle)',
    );
  });

  it('names a cycle and a problem found deeper than the walk goes untracked', () => {
    // The first 64 levels are walked without a set of ancestors; past them, tracked.
    let deep: Record<string, unknown> = { end: true };
    const root = deep;
    for (let i = 0; i < 100; i++) {
      const next: Record<string, unknown> = {};
      deep.n = next;
      deep = next;
    }
    expect(toJsonText(root, 'input', 'E_INVALID_TASK')).toBe(JSON.stringify(root));
    deep.back = root;
    expect(() => toJsonText(root, 'input', 'E_INVALID_TASK')).toThrow(
      `input${'.n'.repeat(100)}.back refers back to itself (a cycle)`,
    );
    deep.back = new Map();
    expect(() => toJsonText(root, 'input', 'E_INVALID_TASK')).toThrow(
      `input${'.n'.repeat(100)}.back is a Map`,
    );
    const selfish: unknown[] = [];
    selfish.push(selfish);
    expect(() => toJsonText({ a: selfish }, 'input', 'E_INVALID_TASK')).toThrow(
      'input.a[0] refers back to itself (a cycle)',
    );
  });

  it('reports a value nested too deeply instead of overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(() => toJsonText(deep, 'input', 'E_INVALID_TASK')).toThrow(/nested too deeply/);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level, so equal values give equal text', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    expect(canonicalJson({ x: 1, y: { q: 1, p: 2 } })).toBe(
      canonicalJson({ y: { p: 2, q: 1 }, x: 1 }),
    );
  });

  it('keeps a __proto__ key as data', () => {
    const value = JSON.parse('{"__proto__":{"a":1},"b":2}');
    expect(canonicalJson(value)).toBe('{"__proto__":{"a":1},"b":2}');
  });
});
