import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { processIdentity } from './process.js';

/**
 * What an owner id (a host instance id, a task's lease owner, a session's owner) says about the
 * process that made it: the machine (a tag of its hostname, see {@link machineTag}), the PID, and
 * the PID's start time (clock ticks since boot, `/proc/<pid>/stat` field 22; undefined where
 * there is no `/proc`).
 */
export interface OwnerFacts {
  machine: string;
  pid: number;
  startTime?: number;
}

let ownMachine: string | undefined;

/**
 * This machine's tag in owner ids: the first 12 hex digits of the SHA-256 of its hostname. Owner
 * ids appear in `/health` (`serviceId`), which may be public: the tag tells machines apart without
 * naming them.
 *
 * @example
 * ```ts
 * machineTag(); // '3f9a0c41d2b7'
 * ```
 */
export function machineTag(): string {
  ownMachine ??= createHash('sha256').update(hostname()).digest('hex').slice(0, 12);
  return ownMachine;
}

/**
 * A new owner id for this process: `${name}:${pid}:${startTime}:${random}@${machineTag()}`. It is
 * what the host gives as `HostInfo.instanceId`, what the runner writes as a task's lease owner
 * and the session manager as a session's owner, so whoever finds it in the store later can tell
 * whether the process that wrote it still runs (see {@link ownerIsGone}).
 *
 * @example
 * ```ts
 * newOwnerId('agentd'); // 'agentd:4242:81237:9f2c1a0b@3f9a0c41d2b7'
 * ```
 */
export function newOwnerId(name: string): string {
  const startTime = processIdentity(process.pid)?.startTime;
  return `${name}:${process.pid}:${startTime ?? ''}:${randomBytes(4).toString('hex')}@${machineTag()}`;
}

/**
 * The facts an owner id made by {@link newOwnerId} carries, or undefined for an id of another
 * shape (an older agentd's `name:pid:random`, a test's `'me'`).
 *
 * @example
 * ```ts
 * parseOwnerId('agentd:4242:81237:9f2c1a0b@3f9a0c41d2b7'); // { machine: '3f9a0c41d2b7', pid: 4242, startTime: 81237 }
 * ```
 */
export function parseOwnerId(owner: string): OwnerFacts | undefined {
  const match = /:(\d+):(\d*):[0-9a-f]+@([0-9a-f]{12})$/.exec(owner);
  if (!match) return undefined;
  const pid = Number(match[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return {
    machine: match[3]!,
    pid,
    ...(match[2] !== '' && { startTime: Number(match[2]) }),
  };
}

/**
 * Whether the process that wrote `owner` is certainly gone: it ran on this machine (same
 * hostname tag) and its PID no longer runs, or runs a process started at another time (the PID was
 * reused). An owner on another machine, of an unknown shape, or still running is not gone: its
 * leases are left to expire and its sessions and processes are left alone.
 *
 * @example
 * ```ts
 * if (ownerIsGone(task.leaseOwner)) await store.tasks.recoverExpired(now, { owners: [task.leaseOwner] });
 * ```
 */
export function ownerIsGone(owner: string | null | undefined): boolean {
  if (!owner) return false;
  const facts = parseOwnerId(owner);
  if (!facts || facts.machine !== machineTag()) return false;
  if (facts.pid === process.pid) {
    // This very process: gone only if the id was written by an earlier process with our PID.
    const self = processIdentity(process.pid)?.startTime;
    return facts.startTime !== undefined && self !== undefined && self !== facts.startTime;
  }
  try {
    process.kill(facts.pid, 0);
  } catch (err) {
    // EPERM: a process runs under that PID (another user's): not provably ours, not gone.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  const now = processIdentity(facts.pid);
  if (!now) return false;
  return facts.startTime !== undefined && now.startTime !== undefined
    ? now.startTime !== facts.startTime
    : false;
}
