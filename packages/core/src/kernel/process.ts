import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { JsonObject } from '../contracts/json.js';

/**
 * Sends `signal` to the whole process group led by `pid` (the agent and every child it started).
 * Returns false when the group no longer exists.
 *
 * @example
 * ```ts
 * const child = spawn('claude', ['-p'], { detached: true });
 * killGroup(child.pid!, 'SIGTERM');
 * ```
 */
export function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    // The leader may be gone while children live on in its group; try the pid itself too.
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Whether any process of the group led by `pid` (or the pid itself) still exists.
 *
 * @example
 * ```ts
 * if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
 * ```
 */
export function groupAlive(pid: number): boolean {
  // kill(-pid, 0) also succeeds for zombies nobody has reaped yet (orphans wait for init), so
  // where /proc exists, look for a live member of the group instead.
  if (existsSync('/proc/self/stat')) return liveGroupMembers(pid).length > 0;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 0);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPERM') return true;
    }
  }
  return false;
}

/**
 * Ends a process group: SIGTERM, then SIGKILL after `graceMs` if anything is left. Resolves once
 * the group is gone (or after the SIGKILL had a moment to land).
 *
 * @example
 * ```ts
 * await terminateGroup(child.pid!, 5_000);
 * ```
 */
export async function terminateGroup(pid: number, graceMs: number): Promise<void> {
  if (!killGroup(pid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pid)) return;
    await new Promise((r) => setTimeout(r, Math.min(25, graceMs)));
  }
  killGroup(pid, 'SIGKILL');
  for (let i = 0; i < 40 && groupAlive(pid); i++) await new Promise((r) => setTimeout(r, 5));
}

/**
 * Facts to recognise a process later, when its PID may have been reused: its command line and
 * its start time (clock ticks since boot, from `/proc`; undefined where there is no `/proc`).
 */
export interface ProcessIdentity {
  pid: number;
  command: string;
  startTime?: number;
}

/**
 * The command line and start time of a running process, or undefined if it does not run.
 *
 * @example
 * ```ts
 * const id = processIdentity(child.pid!); // { pid, command: 'node agent.js', startTime: 81237 }
 * ```
 */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .join(' ');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in field 2 may contain spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTime = Number(fields[19]);
    return { pid, command: cmdline, startTime: Number.isFinite(startTime) ? startTime : undefined };
  } catch {
    try {
      const command = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], {
        encoding: 'utf8',
      }).trim();
      return command ? { pid, command } : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Whether `pid` still runs the process described by `recorded` (same command line, and the same
 * start time where known). PIDs are reused: never kill a PID on its number alone.
 *
 * @example
 * ```ts
 * if (isSameProcess(session.resource)) await terminateGroup(pid, 5_000);
 * ```
 */
export function isSameProcess(recorded: ProcessIdentity): boolean {
  const now = processIdentity(recorded.pid);
  if (!now) return false;
  if (now.command !== recorded.command) return false;
  return (
    recorded.startTime === undefined ||
    now.startTime === undefined ||
    now.startTime === recorded.startTime
  );
}

/**
 * PIDs of the group `pgid` that are not zombies (Linux `/proc`; empty elsewhere).
 *
 * @example
 * ```ts
 * liveGroupMembers(child.pid!); // [4242, 4250]
 * ```
 */
export function liveGroupMembers(pgid: number): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X')
        out.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/**
 * What to store about a process so a later host can end it safely: its PID, command line, start
 * time (where `/proc` gives it) and the machine it runs on. Command agents record it with the
 * task's lease (`ctx.recordProcess`) right after spawning.
 *
 * @example
 * ```ts
 * processRecord(child.pid!); // { pid: 4250, command: 'node agent.js', startTime: 81990, hostname: 'box' }
 * ```
 */
export function processRecord(pid: number, fallbackCommand = ''): JsonObject {
  const identity = processIdentity(pid);
  return {
    pid,
    command: identity?.command ?? fallbackCommand,
    ...(identity?.startTime !== undefined && { startTime: identity.startTime }),
    hostname: hostname(),
  };
}

/**
 * Ends the process group a {@link processRecord} describes, if that process still runs on this
 * machine (same hostname, same PID, command line and start time): SIGTERM, then SIGKILL after
 * `graceMs`. Returns whether it found the process and ended it. A record from another machine, or
 * of a process that is gone or whose PID now runs something else, is left alone.
 *
 * @example
 * ```ts
 * for (const lease of await store.tasks.listLeases()) {
 *   if (lease.process) await endRecordedProcess(lease.process, 5_000);
 * }
 * ```
 */
export async function endRecordedProcess(record: JsonObject, graceMs: number): Promise<boolean> {
  const { pid, command, startTime } = record;
  if (typeof pid !== 'number' || typeof command !== 'string' || command === '') return false;
  if (typeof record.hostname === 'string' && record.hostname !== hostname()) return false;
  const identity: ProcessIdentity = {
    pid,
    command,
    ...(typeof startTime === 'number' && { startTime }),
  };
  if (!isSameProcess(identity)) return false;
  await terminateGroup(pid, graceMs);
  return true;
}
