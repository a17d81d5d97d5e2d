import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AgentRunContext } from '../contracts/agent.js';
import type { Task } from '../contracts/task.js';
import { ErrorClassifier } from '../failover/classifier.js';
import { systemClock } from '../kernel/system-clock.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { commandAgent } from './command-agent.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const task = { id: 't1', attempts: 1, maxAttempts: 1, metadata: {} } as unknown as Task;
function ctx(signal = new AbortController().signal): AgentRunContext {
  return { task, signal, logger: memoryLogger().logger, clock: systemClock };
}

/** ESRCH from kill(pid, 0) means the process is gone; a zombie (state Z in /proc) is gone too. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function pidsFrom(file: string, count: number): Promise<number[]> {
  for (let i = 0; i < 200; i++) {
    if (existsSync(file)) {
      const pids = readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
      if (pids.length >= count) return pids;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the script did not write its pids');
}

const classify = new ErrorClassifier();

describe('command agent', () => {
  it('passes the input on stdin or as an argument and returns stdout', async () => {
    const upper = commandAgent({ name: 'upper', command: 'tr', args: ['a-z', 'A-Z'] });
    expect(await upper.run('hello', ctx())).toEqual({ output: 'HELLO' });
    const echo = commandAgent({
      name: 'echo',
      command: 'echo',
      args: ['say:', '{input}'],
      input: 'arg',
    });
    expect(await echo.run('hi there', ctx())).toEqual({ output: 'say: hi there' });
    const json = commandAgent({ name: 'j', command: 'cat', json: true });
    expect(await json.run({ a: 1 }, ctx())).toEqual({ output: { a: 1 } });
  });

  it('turns exit codes and stderr into classified errors', async () => {
    const fail = (stderr: string, code: number) =>
      commandAgent({
        name: 'f',
        command: 'sh',
        args: ['-c', `echo '${stderr}' >&2; exit ${code}`],
      }).run('', ctx());
    const rate = await fail('Error: 429 rate limit exceeded', 1).catch((e: unknown) => e);
    expect(String(rate)).toContain('exited with code 1: Error: 429 rate limit exceeded');
    expect(classify.classify(rate)).toMatchObject({ class: 'rate_limit' });
    expect(
      classify.classify(await fail('invalid api key', 2).catch((e: unknown) => e)),
    ).toMatchObject({ class: 'auth' });
    expect(
      classify.classify(await fail('segfault in plugin', 3).catch((e: unknown) => e)),
    ).toMatchObject({ class: 'tool_failure' });
    const missing = await commandAgent({ name: 'm', command: join(dir, 'no-such-cli') })
      .run('', ctx())
      .catch((e: unknown) => e);
    expect(classify.classify(missing)).toMatchObject({ class: 'tool_failure' });
  });

  it('kills a hanging command with all its children on timeout (no orphan left)', async () => {
    const file = join(dir, 'hang.pids');
    const hang = commandAgent({
      name: 'hang',
      command: 'sh',
      // Two children that ignore SIGTERM's default handling would survive a kill of sh alone.
      args: [
        '-c',
        `echo $$ > ${file}; sleep 30 & echo $! >> ${file}; (trap '' TERM; sleep 30) & echo $! >> ${file}; wait`,
      ],
      timeoutMs: 300,
      killGraceMs: 200,
    });
    const started = Date.now();
    const error = await hang.run('', ctx()).catch((e: unknown) => e);
    expect(classify.classify(error)).toMatchObject({ class: 'timeout' });
    expect(Date.now() - started).toBeLessThan(3000);
    const pids = await pidsFrom(file, 3);
    for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 10));
    expect(pids.filter(alive)).toEqual([]);
  });

  it('kills the group when the run is cancelled', async () => {
    const file = join(dir, 'cancel.pids');
    const slow = commandAgent({
      name: 'slow',
      command: 'sh',
      args: ['-c', `echo $$ > ${file}; sleep 30 & echo $! >> ${file}; wait`],
      killGraceMs: 200,
    });
    const controller = new AbortController();
    const run = slow.run('', ctx(controller.signal)).catch((e: unknown) => e);
    const pids = await pidsFrom(file, 2);
    controller.abort(new Error('cancelled'));
    expect(String(await run)).toContain('cancelled');
    for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 10));
    expect(pids.filter(alive)).toEqual([]);
  });

  it('records its process (pid, start time, command line, machine) with the run, before it ends', async () => {
    const records: unknown[] = [];
    const echo = commandAgent({
      name: 'echo',
      command: process.execPath,
      args: ['-e', 'process.stdin.pipe(process.stdout)'],
    });
    const result = await echo.run('hi', {
      ...ctx(),
      recordProcess: async (p) => {
        records.push(p);
      },
    });
    expect(result.output).toBe('hi');
    expect(records).toEqual([
      {
        pid: expect.any(Number),
        command: expect.stringContaining('process.stdin.pipe'),
        ...(existsSync('/proc/self/stat') && { startTime: expect.any(Number) }),
        hostname: hostname(),
      },
    ]);
  });
});
