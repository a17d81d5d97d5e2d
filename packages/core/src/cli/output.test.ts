// What the CLI prints, in process: terminal control characters escaped as JSON escapes them, and
// output held back until a command knows it succeeded. The real CLI's use of them is tested in
// integration/cli/cli-edges.test.ts.
import { describe, expect, it } from 'vitest';
import { bufferedIO, escapeControls } from './output.js';

describe('escapeControls and bufferedIO', () => {
  it('escape as JSON does, so JSON stays the same JSON', () => {
    const value = { s: 'a\u0085b\u2066c\u007f' };
    const text = escapeControls(JSON.stringify(value));
    expect(text).toBe('{"s":"a\\u0085b\\u2066c\\u007f"}');
    expect(JSON.parse(text)).toEqual(value);
    expect(escapeControls('two\nlines\ttab')).toBe('two\nlines\\u0009tab');
  });

  it('hold stdout until flushed, and drop it on discard, while stderr goes out at once', () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = bufferedIO({ out: (l) => out.push(l), err: (l) => err.push(l) });
    io.out('[Unit]');
    io.err('warning');
    expect(out).toEqual([]);
    expect(err).toEqual(['warning']);
    io.discard();
    io.flush();
    expect(out).toEqual([]);
    io.out('done');
    io.flush();
    expect(out).toEqual(['done']);
  });
});
