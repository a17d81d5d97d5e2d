import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { machineTag, newOwnerId, ownerIsGone, parseOwnerId } from './owner.js';
import { processIdentity } from './process.js';

async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('owner ids', () => {
  it('name this process, its start time and this machine, and read back', () => {
    const id = newOwnerId('my:host');
    const startTime = processIdentity(process.pid)?.startTime;
    expect(id).toMatch(new RegExp(`^my:host:${process.pid}:${startTime ?? ''}:[0-9a-f]{8}@`));
    expect(machineTag()).toMatch(/^[0-9a-f]{12}$/);
    // The hostname itself never appears (owner ids reach a public /health as serviceId).
    expect(id).not.toContain(`@${hostname()}`);
    expect(parseOwnerId(id)).toEqual({
      machine: machineTag(),
      pid: process.pid,
      ...(startTime !== undefined && { startTime }),
    });
    expect(newOwnerId('my:host')).not.toBe(id);
  });

  it('read nothing from ids of another shape', () => {
    for (const id of ['runner-1', 'agentd:42:9f2c1a0b', '', 'x:0:1:ab@box', 'x:1:2:zz@box']) {
      expect(parseOwnerId(id)).toBeUndefined();
      expect(ownerIsGone(id)).toBe(false);
    }
    expect(ownerIsGone(null)).toBe(false);
  });

  it('call gone only a process of this machine that no longer runs, or whose PID was reused', async () => {
    const me = processIdentity(process.pid)?.startTime ?? '';
    expect(ownerIsGone(newOwnerId('live'))).toBe(false);
    const pid = await exitedPid();
    expect(ownerIsGone(`dead:${pid}:1:00aa11bb@${machineTag()}`)).toBe(true);
    // The same PID on another machine says nothing about that machine's process.
    expect(ownerIsGone(`far:${pid}:1:00aa11bb@0123456789ab`)).toBe(false);
    if (me !== '') {
      // This PID, started at another time: an earlier process whose PID this one reused.
      expect(ownerIsGone(`old:${process.pid}:${Number(me) - 1}:00aa11bb@${machineTag()}`)).toBe(
        true,
      );
      expect(ownerIsGone(`old:${process.ppid}:1:00aa11bb@${machineTag()}`)).toBe(
        processIdentity(process.ppid)?.startTime !== 1,
      );
    }
  });
});
