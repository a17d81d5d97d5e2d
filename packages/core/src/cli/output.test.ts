// What the CLI prints, in process: terminal control characters escaped as JSON escapes them, and
// output held back until a command knows it succeeded. The real CLI's use of them is tested in
// integration/cli/cli-edges.test.ts.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bufferedIO, escapeControls, ignoreClosedPipe } from './output.js';

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

describe('ignoreClosedPipe', () => {
  it('lets a reader that stops early (`agentd tasks | head -1`) end the output quietly', async () => {
    // A real pipe (a FIFO) read by a real `head`, written through a socket on the pipe's fd as
    // process.stdout is when piped; `head` exits after one line while we keep writing.
    const dir = mkdtempSync(join(tmpdir(), 'agentd-pipe-'));
    const fifo = join(dir, 'out');
    execFileSync('mkfifo', [fifo]);
    const head = spawn('sh', ['-c', `head -n 1 < '${fifo}'`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let read = '';
    head.stdout.on('data', (chunk) => {
      read += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) => head.on('exit', resolve));
    const out = new Socket({ fd: openSync(fifo, 'w'), readable: false, writable: true });
    const closed = ignoreClosedPipe(out);
    expect(ignoreClosedPipe(out)).toBe(closed); // once per stream
    const line = `${'x'.repeat(1000)}\n`;
    out.write(line);
    expect(await exited).toBe(0);
    for (let i = 0; i < 200 && !closed(); i++) {
      out.write(line); // EPIPE: without the listener, an uncaught exception fails this test
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(closed()).toBe(true);
    expect(read).toBe(line);
    out.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
});
