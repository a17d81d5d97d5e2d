import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleDisks, sampleSystem } from './sample.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-monitor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `df`'s use% of the file system holding `path` (POSIX output, 1K blocks). */
function dfPercent(path: string): number {
  const line = execFileSync('df', ['-kP', path], { encoding: 'utf8' }).trim().split('\n')[1] ?? '';
  return Number(line.split(/\s+/)[4]?.replace('%', ''));
}

describe('sampleDisks (this machine)', () => {
  it('gives what df gives for the file system of a path', async () => {
    const [disk] = await sampleDisks([dir]);
    expect(disk?.path).toBe(dir);
    // df rounds up to a whole percent; files written meanwhile may move it a little.
    expect(Math.abs((disk?.usedPercent ?? -1) - dfPercent(dir))).toBeLessThanOrEqual(1.5);
    expect(disk?.availableBytes).toBeLessThan(disk?.sizeBytes ?? 0);
  });

  it('reports one disk per file system, and a path not created yet by its nearest parent', async () => {
    mkdirSync(join(dir, 'a'));
    const disks = await sampleDisks([join(dir, 'a'), dir, join(dir, 'not', 'yet', 'agentd.db')]);
    expect(disks.map((d) => d.path)).toEqual([join(dir, 'a')]);
  });

  it('measures a tmpfs as itself, not as the file system it is mounted on', async () => {
    const shm = '/dev/shm';
    let tmpfs = false;
    try {
      tmpfs = execFileSync('df', ['--output=fstype', shm], { encoding: 'utf8' }).includes('tmpfs');
    } catch {
      // no /dev/shm or no GNU df here
    }
    if (!tmpfs) return;
    const disks = await sampleDisks([dir, shm]);
    expect(disks.map((d) => d.path)).toEqual([dir, shm]);
    expect(Math.abs((disks[1]?.usedPercent ?? -1) - dfPercent(shm))).toBeLessThanOrEqual(1.5);
  });
});

describe('sampleSystem (this machine, through systeminformation)', () => {
  it('reads CPU and memory within their ranges, and the disks', async () => {
    const sample = await sampleSystem([dir], 1234);
    expect(sample.at).toBe(1234);
    expect(sample.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(sample.cpuPercent).toBeLessThanOrEqual(100);
    expect(sample.memory.totalBytes).toBeGreaterThan(0);
    expect(sample.memory.availableBytes).toBeLessThanOrEqual(sample.memory.totalBytes);
    expect(sample.memory.usedPercent).toBeGreaterThan(0);
    expect(sample.memory.usedPercent).toBeLessThan(100);
    expect(sample.disks.map((d) => d.path)).toEqual([dir]);
  });
});
