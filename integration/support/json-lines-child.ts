import { type ChildProcess, spawn } from 'node:child_process';

/** A host script in a child process that writes JSON lines on stdout (see `role-host.mjs`). */
export interface JsonLinesChild<L> {
  child: ChildProcess;
  /** The JSON lines written so far, in order. */
  lines: L[];
  /** Resolves with the exit code, or the signal that ended it. */
  exited: Promise<number | string | null>;
  /** Resolves with the first line that matches, or rejects after `timeoutMs` (with the lines and stderr). */
  waitFor(predicate: (line: L) => boolean, timeoutMs?: number): Promise<L>;
}

/**
 * Runs `node script ...args` and collects the JSON lines it writes (lines starting with `{`).
 * Push `child` to the test's list and kill it after the test.
 */
export function spawnJsonLines<L>(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): JsonLinesChild<L> {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  const lines: L[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part) as L);
    for (const waiter of [...waiters]) waiter();
  });
  const exited = new Promise<number | string | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  return {
    child,
    lines,
    exited,
    waitFor(predicate, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(predicate);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`${script}: timed out; lines ${JSON.stringify(lines)}; stderr ${stderr}`),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
